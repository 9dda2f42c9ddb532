/* onthedot user add: create a staff account. */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/accounts.h"
#include "app/app.h"
#include "app/audit.h"
#include "app/hasher.h"
#include "app/tzload.h"
#include "cli/cli.h"
#include "cli/config_file.h"

static void user_usage(FILE *out)
{
	fprintf(out,
	        "usage: onthedot user add [--config FILE] --db FILE --role ROLE --login LOGIN\n"
	        "                         --name NAME [--visitor ID] [--password-stdin]\n\n"
	        "Adds a staff user. ROLE is admin, dispatcher, finance or visitor; a visitor\n"
	        "user needs --visitor with the id of their visitor record. The password is read\n"
	        "from standard input (one line) with --password-stdin; otherwise a random one is\n"
	        "generated and printed once. Passwords are stored as argon2id hashes.\n");
}

/* A random password of 16 characters from an unambiguous alphabet. */
static void random_password(char *out, size_t size)
{
	static const char alphabet[] = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	size_t n = size - 1 < 16 ? size - 1 : 16;
	for(size_t i = 0; i < n; i++)
		out[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
	out[n] = '\0';
}

int cmd_user(int argc, char **argv)
{
	if(argc < 2 || strcmp(argv[1], "add") != 0) {
		if(argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
			user_usage(stdout);
			return 0;
		}
		user_usage(stderr);
		return 2;
	}
	static const struct option opts[] = {{"config", required_argument, 0, 'c'},
	                                     {"db", required_argument, 0, 'd'},
	                                     {"role", required_argument, 0, 'r'},
	                                     {"login", required_argument, 0, 'l'},
	                                     {"name", required_argument, 0, 'n'},
	                                     {"visitor", required_argument, 0, 'v'},
	                                     {"password-stdin", no_argument, 0, 'p'},
	                                     {"help", no_argument, 0, 'h'},
	                                     {0, 0, 0, 0}};
	const char *config = NULL, *db = NULL, *role = NULL, *login = NULL, *name = NULL;
	long long visitor = 0;
	bool from_stdin = false;
	int c;
	optind = 1;
	argc--;
	argv++;
	while((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch(c) {
		case 'c': config = optarg; break;
		case 'd': db = optarg; break;
		case 'r': role = optarg; break;
		case 'l': login = optarg; break;
		case 'n': name = optarg; break;
		case 'v': {
			char *end;
			visitor = strtoll(optarg, &end, 10);
			if(*end || visitor <= 0) {
				cli_error("user add", "--visitor must be a positive id (got \"%s\")", optarg);
				return 2;
			}
			break;
		}
		case 'p': from_stdin = true; break;
		case 'h': user_usage(stdout); return 0;
		default: user_usage(stderr); return 2;
		}
	}
	if(!role || !login || !name) {
		cli_error("user add", "--role, --login and --name are required");
		return 2;
	}
	unsigned r = otd_role_parse(role);
	if(!r) {
		cli_error("user add", "--role must be admin, dispatcher, finance or visitor (got \"%s\")",
		          role);
		return 2;
	}
	char password[OTD_PASSWORD_MAX + 2];
	bool generated = false;
	if(from_stdin) {
		if(!fgets(password, sizeof(password), stdin)) {
			cli_error("user add", "no password on standard input");
			return 2;
		}
		password[strcspn(password, "\r\n")] = '\0';
	} else {
		random_password(password, sizeof(password));
		generated = true;
	}
	if(sodium_init() < 0)
		return 1;
	struct otd_config cfg;
	if(cli_config_load("user add", config, db, &cfg))
		return 1;
	struct otd_app app;
	struct otd_error err;
	otd_error_clear(&err);
	int rc = 1;
	if(app_open(&app, &cfg, OTD_APP_CLI, &err) != OTD_OK) {
		cli_error("user add", "%s", err.message);
		goto out;
	}
	struct otd_principal cli;
	app_principal_cli(&cli);
	int64_t id = 0;
	if(app_user_add(&app, &cli, login, name, r, visitor, password, &id, &err) != OTD_OK) {
		cli_error("user add", "%s", err.message);
	} else {
		printf("user %lld added: login %s, role %s\n", (long long)id, login, role);
		if(generated)
			printf("password (shown once): %s\n", password);
		rc = 0;
	}
	app_close(&app);
out:
	sodium_memzero(password, sizeof(password));
	tzload_shutdown();
	otd_config_cleanup(&cfg);
	return rc;
}
