/* onthedot backup: a consistent copy of a database, online. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/config_file.h"
#include "store/backup.h"

static void backup_usage(FILE *out)
{
	fprintf(out,
	        "usage: onthedot backup [--config FILE] --db FILE --to FILE [--force]\n\n"
	        "Copies the database to --to while onthedot serve may run on it: SQLite's online\n"
	        "backup API, from one read snapshot (the copy holds every change committed\n"
	        "before it began; the server's writes go on meanwhile). The copy is written\n"
	        "beside --to under a temporary name, synced, checked (PRAGMA integrity_check,\n"
	        "foreign keys, the schema version) and only then renamed to --to, so --to is\n"
	        "never half written. It is one file, readable by its owner only.\n\n"
	        "  --config FILE  configuration file (default: $ONTHEDOT_CONFIG, if set)\n"
	        "  --db FILE      the database (default: the configuration's database)\n"
	        "  --to FILE      where the copy goes; an existing file is refused\n"
	        "  --force        replace --to when it exists\n\n"
	        "Put it back with: onthedot restore --from FILE --db DB\n");
}

int cmd_backup(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, 0, 'c'}, {"db", required_argument, 0, 'd'},
	    {"to", required_argument, 0, 't'},     {"force", no_argument, 0, 'f'},
	    {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
	const char *config = NULL, *db = NULL, *to = NULL;
	bool force = false;
	int c;
	optind = 1;
	while((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch(c) {
		case 'c': config = optarg; break;
		case 'd': db = optarg; break;
		case 't': to = optarg; break;
		case 'f': force = true; break;
		case 'h': backup_usage(stdout); return 0;
		default: backup_usage(stderr); return 2;
		}
	}
	if(optind < argc) {
		cli_error("backup", "unexpected argument \"%s\"", argv[optind]);
		return 2;
	}
	if(!to || !to[0]) {
		cli_error("backup", "--to FILE is required: where the copy goes");
		return 2;
	}
	struct otd_config cfg;
	if(cli_config_load("backup", config, db, &cfg))
		return 1;
	struct store_backup_options opt = {.force = force,
	                                   .busy_timeout_ms = cfg.store.busy_timeout_ms,
	                                   .check = STORE_CHECK_FULL};
	struct store_backup_info info;
	struct otd_error err;
	otd_error_clear(&err);
	enum otd_status st = store_backup(cfg.database, to, &opt, &info, &err);
	if(st) {
		cli_error("backup", "%s%s", err.message,
		          strcmp(err.code, "backup_exists") == 0 ? " Give --force to replace it."
		                                                 : "");
	} else {
		printf("backed up %s to %s\n"
		       "  pages:          %lld of %d bytes\n"
		       "  size:           %lld bytes (%.1f MiB)\n"
		       "  schema version: %d\n"
		       "  checked:        integrity_check and foreign_key_check passed\n"
		       "  seconds:        %.2f\n",
		       cfg.database, to, (long long)info.pages, info.page_size,
		       (long long)info.bytes, (double)info.bytes / (1024.0 * 1024.0),
		       info.schema_version, info.seconds);
	}
	otd_config_cleanup(&cfg);
	return st ? 1 : 0;
}
