/* onthedot restore: put a backup back, after checking it; and the guard
 * serve runs before it opens a database (its lock and startup check),
 * which points at restore when the database is damaged. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/backups.h"
#include "cli/cli.h"
#include "cli/config_file.h"
#include "store/backup.h"
#include "store/store.h"
#include "store/store.h"

static void restore_usage(FILE *out)
{
	fprintf(out,
	        "usage: onthedot restore [--config FILE] --from BACKUP --db FILE\n\n"
	        "Puts a backup in place of the database, after checking it: it must be a SQLite\n"
	        "file that passes PRAGMA integrity_check and foreign_key_check, hold the\n"
	        "onthedot tables, and have a schema version this onthedot knows (an older one\n"
	        "is restored, then needs onthedot migrate). Anything else is refused and FILE is\n"
	        "left untouched. Refused too while onthedot serve runs on FILE: stop it first.\n"
	        "The current database is kept as FILE.before-restore-YYYYMMDDTHHMMSSZ.bak; the\n"
	        "restored file takes its owner and mode.\n\n"
	        "  --config FILE  configuration file (default: $ONTHEDOT_CONFIG, if set)\n"
	        "  --from BACKUP  the backup (from onthedot backup or backup.dir)\n"
	        "  --db FILE      the database to replace (default: the configuration's)\n");
}

int cmd_restore(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, 0, 'c'},
	                                     {"from", required_argument, 0, 'f'},
	                                     {"db", required_argument, 0, 'd'},
	                                     {"help", no_argument, 0, 'h'},
	                                     {0, 0, 0, 0}};
	const char *config = NULL, *db = NULL, *from = NULL;
	int c;
	optind = 1;
	while((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch(c) {
		case 'c': config = optarg; break;
		case 'f': from = optarg; break;
		case 'd': db = optarg; break;
		case 'h': restore_usage(stdout); return 0;
		default: restore_usage(stderr); return 2;
		}
	}
	if(optind < argc) {
		cli_error("restore", "unexpected argument \"%s\"", argv[optind]);
		return 2;
	}
	if(!from || !from[0]) {
		cli_error("restore", "--from BACKUP is required: the backup to put back");
		return 2;
	}
	struct otd_config cfg;
	if(cli_config_load("restore", config, db, &cfg))
		return 1;
	struct store_restore_info info;
	struct otd_error err;
	otd_error_clear(&err);
	enum otd_status st =
	    store_restore(from, cfg.database, cfg.store.busy_timeout_ms, &info, &err);
	if(st) {
		if(strcmp(err.code, "database_in_use") == 0)
			cli_error("restore", "%s; stop it first. %s was not changed.", err.message,
			          cfg.database);
		else if(strcmp(err.code, "restore_failed") == 0)
			cli_error("restore", "%s", err.message);
		else
			cli_error("restore", "%s The backup was refused; %s was not changed.",
			          err.message, cfg.database);
		otd_config_cleanup(&cfg);
		return 1;
	}
	printf("checked %s: integrity_check and foreign_key_check passed, schema version %d, "
	       "%lld pages (%lld bytes)\n",
	       from, info.backup.schema_version, (long long)info.backup.pages,
	       (long long)info.backup.bytes);
	if(info.kept && info.kept_by_rename)
		printf("the previous database could not be read as a database; it was moved aside "
		       "as %s (its log, if any, as %s-wal)\n",
		       info.kept, info.kept);
	else if(info.kept)
		printf("kept the previous database as %s\n", info.kept);
	else
		printf("there was no database at %s before\n", cfg.database);
	printf("restored %s from %s in %.2f s\n", cfg.database, from, info.seconds);
	int latest = store_schema_latest();
	if(info.backup.schema_version < latest)
		printf("its schema version %d is older than this onthedot's (%d): run\n"
		       "  onthedot migrate --db %s\n"
		       "before onthedot serve\n",
		       info.backup.schema_version, latest, cfg.database);
	store_restore_info_cleanup(&info);
	otd_config_cleanup(&cfg);
	return 0;
}

int cli_serve_lock(const struct otd_config *cfg, struct store_lock **lock)
{
	struct otd_error err;
	otd_error_clear(&err);
	*lock = NULL;
	struct stat sb;
	if(store_path_is_pg(cfg->database))
		return 0; /* several nodes may serve a PostgreSQL database */
	if(stat(cfg->database, &sb) != 0 && errno == ENOENT)
		return 0; /* nothing to own: opening it says how to make one */
	if(store_lock_take(cfg->database, "serve", lock, &err) != OTD_OK) {
		cli_error("serve", "%s", err.message);
		return 1;
	}
	return 0;
}

void cli_restore_hint(const struct otd_config *cfg, const struct otd_error *err)
{
	if(strcmp(err->code, "database_damaged") != 0)
		return;
	char *newest = backups_newest(cfg->backup.dir, NULL);
	fprintf(stderr,
	        "onthedot serve: the database was not opened. Restore the newest good backup "
	        "with:\n"
	        "  onthedot restore --from %s --db %s\n",
	        newest ? newest : "BACKUP", cfg->database);
	if(!newest)
		fprintf(stderr, "onthedot serve: (BACKUP: your newest backup file; %s)\n",
		        cfg->backup.dir[0] ? "there is none in backup.dir"
		                           : "backup.dir is not set, so serve keeps none");
	free(newest);
}
