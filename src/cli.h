/* cli: weightd's command line and the --check-config mode. */
#ifndef WD_CLI_H
#define WD_CLI_H

#include <stdbool.h>

#include "log.h"

struct cli_options {
	const char *config_path;
	bool dry_run;
	bool once;
	bool check_only;
	bool watch_config; /* reload when the file changes, without SIGHUP */
	int verbosity; /* +1 per -v, -1 per -q */
	enum wd_log_format log_format;
};

/* Parses the command line into o. Returns -1 to go on, or the status to exit
 * with (after --help, --version, or a usage error, printed). */
int cli_parse(int argc, char **argv, struct cli_options *o);

/* --check-config: loads o->config_path and prints "FILE: ok" on stdout, or
 * every error on stderr (warnings too). Returns the exit status: 0 or 2. */
int cli_check_config(const struct cli_options *o);

#endif
