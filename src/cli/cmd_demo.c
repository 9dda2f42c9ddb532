/* onthedot demo --db FILE: a fictional town, ready to serve. */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "app/app.h"
#include "app/demo.h"
#include "app/tzload.h"
#include "cli/cli.h"
#include "cli/config_file.h"
#include "store/store.h"

static void demo_usage(FILE *out)
{
	fprintf(out, "usage: onthedot demo [--config FILE] --db FILE [--seed N]\n\n"
	             "Creates FILE (it must not exist) with the fictional town of Wrenfield: about\n"
	             "2,400 addresses, 12 visitors with skills, bases and shifts, 4 visit types,\n"
	             "users for an admin, a dispatcher, finance and each visitor, and an admin API\n"
	             "token. The passwords and the token are printed once. Then run:\n"
	             "  onthedot serve --db FILE\n");
}

int cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, 0, 'c'},
	                                     {"db", required_argument, 0, 'd'},
	                                     {"seed", required_argument, 0, 's'},
	                                     {"help", no_argument, 0, 'h'},
	                                     {0, 0, 0, 0}};
	const char *config = NULL, *db = NULL;
	unsigned long seed = 1;
	int c;
	optind = 1;
	while((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch(c) {
		case 'c': config = optarg; break;
		case 'd': db = optarg; break;
		case 's': {
			char *end;
			seed = strtoul(optarg, &end, 10);
			if(*end) {
				cli_error("demo", "--seed must be a number (got \"%s\")", optarg);
				return 2;
			}
			break;
		}
		case 'h': demo_usage(stdout); return 0;
		default: demo_usage(stderr); return 2;
		}
	}
	if(!db || optind < argc) {
		demo_usage(stderr);
		return 2;
	}
	struct stat sb;
	if(stat(db, &sb) == 0) {
		cli_error("demo", "%s already exists; the demo creates a new database (remove it, or "
		                  "serve it as it is)",
		          db);
		return 1;
	}
	if(sodium_init() < 0)
		return 1;
	struct otd_config cfg;
	if(cli_config_load("demo", config, db, &cfg))
		return 1;
	/* The demo's messages go to the record channel, never to a gateway,
	 * and are signed by the town's dispatcher unless configured otherwise. */
	cfg.messages.record_only = true;
	if(strcmp(cfg.organisation, "onthedot") == 0)
		cli_config_set(&cfg.organisation, "Wrenfield Council");
	if(strcmp(cfg.messages.signature, "The visits team") == 0)
		cli_config_set(&cfg.messages.signature, "Morgan Ellis, dispatcher");
	if(!cfg.messages.phone[0])
		cli_config_set(&cfg.messages.phone, "01632 960000");
	struct otd_error err;
	otd_error_clear(&err);
	int from, to, rc = 1;
	struct otd_app app;
	if(store_migrate(cfg.database, true, cfg.store.busy_timeout_ms, &from, &to, NULL, &err) !=
	   OTD_OK) {
		cli_error("demo", "%s", err.message);
		goto out;
	}
	if(app_open(&app, &cfg, OTD_APP_CLI, &err) != OTD_OK) {
		cli_error("demo", "%s", err.message);
		goto out;
	}
	if(app_demo_create(&app, (unsigned)seed, stdout, &err) != OTD_OK) {
		cli_error("demo", "%s (the half-made %s can be deleted)", err.message, db);
	} else {
		printf("\ndemo database ready: onthedot serve --db %s\n", db);
		rc = 0;
	}
	app_close(&app);
out:
	tzload_shutdown();
	otd_config_cleanup(&cfg);
	return rc;
}
