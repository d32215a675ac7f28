/* output_dry: the dry run output. (Placeholder.) */
typedef int output_dry_placeholder;
