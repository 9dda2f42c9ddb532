/* onthedot token create: an admin API token, printed once. */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "app/accounts.h"
#include "app/app.h"
#include "app/audit.h"
#include "app/tzload.h"
#include "cli/cli.h"
#include "cli/config_file.h"

static void token_usage(FILE *out)
{
	fprintf(out, "usage: onthedot token create [--config FILE] --db FILE --name NAME\n\n"
	             "Creates an admin API token and prints it once; only its hash is stored. Use\n"
	             "it as \"Authorization: Bearer TOKEN\".\n");
}

int cmd_token(int argc, char **argv)
{
	if(argc < 2 || strcmp(argv[1], "create") != 0) {
		if(argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
			token_usage(stdout);
			return 0;
		}
		token_usage(stderr);
		return 2;
	}
	static const struct option opts[] = {{"config", required_argument, 0, 'c'},
	                                     {"db", required_argument, 0, 'd'},
	                                     {"name", required_argument, 0, 'n'},
	                                     {"help", no_argument, 0, 'h'},
	                                     {0, 0, 0, 0}};
	const char *config = NULL, *db = NULL, *name = NULL;
	int c;
	optind = 1;
	argc--;
	argv++;
	while((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch(c) {
		case 'c': config = optarg; break;
		case 'd': db = optarg; break;
		case 'n': name = optarg; break;
		case 'h': token_usage(stdout); return 0;
		default: token_usage(stderr); return 2;
		}
	}
	if(!name) {
		cli_error("token create", "--name is required");
		return 2;
	}
	if(sodium_init() < 0)
		return 1;
	struct otd_config cfg;
	if(cli_config_load("token create", config, db, &cfg))
		return 1;
	struct otd_app app;
	struct otd_error err;
	otd_error_clear(&err);
	int rc = 1;
	if(app_open(&app, &cfg, OTD_APP_CLI, &err) != OTD_OK) {
		cli_error("token create", "%s", err.message);
		goto out;
	}
	struct otd_principal cli;
	app_principal_cli(&cli);
	char token[64];
	int64_t id;
	if(app_token_create(&app, &cli, name, token, &id, &err) != OTD_OK) {
		cli_error("token create", "%s", err.message);
	} else {
		printf("%s\n", token);
		fprintf(stderr, "token %lld \"%s\" created; it is shown only this once\n", (long long)id,
		        name);
		sodium_memzero(token, sizeof(token));
		rc = 0;
	}
	app_close(&app);
out:
	tzload_shutdown();
	otd_config_cleanup(&cfg);
	return rc;
}
