/* The onthedot command: dispatch to a subcommand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
} commands[] = {
    {"serve", cmd_serve, "run the HTTP service"},
    {"migrate", cmd_migrate, "create or upgrade a database (backs it up first)"},
    {"backup", cmd_backup, "copy the database consistently, even while serve runs"},
    {"restore", cmd_restore, "put a checked backup in place of the database"},
    {"doctor", cmd_doctor, "check the configuration, database, time zone data and gateways"},
    {"import", cmd_import, "import visitors, visit types or a gazetteer from CSV"},
    {"user", cmd_user, "add a staff user (admin, dispatcher, finance, visitor)"},
    {"token", cmd_token, "create an admin API token"},
    {"erase", cmd_erase, "erase a customer's personal data everywhere (cannot be undone)"},
    {"export", cmd_export, "print everything held about a customer as JSON (subject access)"},
    {"retention", cmd_retention, "run the retention pass now (the server runs it daily)"},
    {"demo", cmd_demo, "create a demo database: the fictional town of Wrenfield"},
    {"plan", cmd_plan, "re-plan a later day's routes with the optimiser to cut travel"},
    {"simulate", cmd_simulate, "simulate booking days and working days to measure kept promises"},
    {"solve", cmd_solve, "solve a Solomon-format routing instance with the optimiser"},
    {"check-routes", cmd_check_routes, "check routes against a Solomon-format instance"},
    {"version", cmd_version, "print the version"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: onthedot COMMAND [OPTIONS]\n\n"
	             "onthedot promises customers exact arrival windows and keeps them.\n\ncommands:\n");
	for(size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-13s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'onthedot COMMAND --help' describes each command.\n");
}

int main(int argc, char **argv)
{
	if(argc < 2) {
		usage(stderr);
		return 2;
	}
	if(strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	   strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if(strcmp(argv[1], "--version") == 0)
		return cmd_version(argc - 1, argv + 1);
	for(size_t i = 0; i < N_COMMANDS; i++)
		if(strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "onthedot: unknown command \"%s\"\n\n", argv[1]);
	usage(stderr);
	return 2;
}
