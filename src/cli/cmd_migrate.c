/* onthedot migrate: create or upgrade a database. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/config_file.h"
#include "store/store.h"

static void migrate_usage(FILE *out)
{
	fprintf(out, "usage: onthedot migrate [--config FILE] --db FILE\n\n"
	             "Creates the database when it does not exist, or brings it to the schema this\n"
	             "onthedot knows. An existing database is copied to FILE.vN-TIME.bak first. A\n"
	             "database from a newer onthedot is refused and left untouched.\n");
}

int cmd_migrate(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, 0, 'c'},
	                                     {"db", required_argument, 0, 'd'},
	                                     {"help", no_argument, 0, 'h'},
	                                     {0, 0, 0, 0}};
	const char *config = NULL, *db = NULL;
	int c;
	optind = 1;
	while((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch(c) {
		case 'c': config = optarg; break;
		case 'd': db = optarg; break;
		case 'h': migrate_usage(stdout); return 0;
		default: migrate_usage(stderr); return 2;
		}
	}
	if(optind < argc) {
		cli_error("migrate", "unexpected argument \"%s\"", argv[optind]);
		return 2;
	}
	struct otd_config cfg;
	if(cli_config_load("migrate", config, db, &cfg))
		return 1;
	struct otd_error err;
	int from = 0, to = 0;
	char *backup = NULL;
	enum otd_status st =
	    store_migrate(cfg.database, true, cfg.store.busy_timeout_ms, &from, &to, &backup, &err);
	if(st) {
		cli_error("migrate", "%s", err.message);
		if(backup)
			fprintf(stderr, "onthedot migrate: the copy taken before is %s\n", backup);
	} else if(from == to) {
		printf("%s is at schema version %d: nothing to do\n", cfg.database, to);
	} else {
		printf("%s migrated from schema version %d to %d\n", cfg.database, from, to);
		if(backup)
			printf("backup of the previous database: %s\n", backup);
	}
	free(backup);
	otd_config_cleanup(&cfg);
	return st ? 1 : 0;
}
