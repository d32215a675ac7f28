/* output_file: Traefik file provider output. (Placeholder.) */
typedef int output_file_placeholder;
