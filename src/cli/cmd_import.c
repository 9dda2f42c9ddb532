/* onthedot import visitors|visit-types|gazetteer|holidays FILE: CSV
 * imports, and bank holidays from an iCalendar file. */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "app/audit.h"
#include "app/holidays.h"
#include "app/imports.h"
#include "app/tzload.h"
#include "cli/cli.h"
#include "cli/config_file.h"
#include "onthedot/holidays.h"
#include "onthedot/mem.h"

static void import_usage(FILE *out)
{
	fprintf(out,
	        "usage: onthedot import KIND FILE [--config FILE] --db FILE [--confirm-affected]\n\n"
	        "Imports a CSV file (UTF-8, a header line, comma separated, RFC 4180 quotes),\n"
	        "or for holidays an iCalendar file. The whole file is checked first; any bad\n"
	        "row is reported with its line and nothing is imported. KIND and its columns\n"
	        "(* = required):\n\n"
	        "  gazetteer    line1*, postcode*, latitude*, longitude*, uprn, line2, town\n"
	        "               updates by uprn (or line1 and postcode); addresses no longer\n"
	        "               listed are removed unless an appointment uses them (retired)\n"
	        "  visit-types  code*, name*, skill*, duration_median_minutes*, window_minutes*,\n"
	        "               duration_spread\n"
	        "               updates by code\n"
	        "  visitors     email*, name*, role_title*, base_lat*, base_lon*, phone, skills,\n"
	        "               shift_start, shift_minutes, shift_rrule, shift_exdates\n"
	        "               updates by email and replaces the shifts; a further row with the\n"
	        "               same email adds a shift. --confirm-affected lets a shift change\n"
	        "               leave booked appointments outside the visitor's shifts.\n"
	        "  holidays     an iCalendar file (.ics), such as GOV.UK's\n"
	        "               england-and-wales.ics: one VEVENT per holiday with\n"
	        "               DTSTART;VALUE=DATE (a DTEND covers several days, a yearly\n"
	        "               RRULE repeats it), named by its SUMMARY. The file replaces\n"
	        "               the whole set of holidays; a bad event is reported by its\n"
	        "               position, UID and SUMMARY and nothing is imported.\n");
}

int cmd_import(int argc, char **argv)
{
	if(cli_wants_help(argc, argv)) {
		import_usage(stdout);
		return 0;
	}
	if(argc < 3) {
		import_usage(stderr);
		return 2;
	}
	const char *kind = argv[1];
	const char *file = argv[2];
	bool holidays = strcmp(kind, "holidays") == 0;
	if(strcmp(kind, "gazetteer") != 0 && strcmp(kind, "visit-types") != 0 &&
	   strcmp(kind, "visitors") != 0 && !holidays) {
		cli_error("import",
		          "unknown kind \"%s\": use gazetteer, visit-types, visitors or holidays",
		          kind);
		return 2;
	}
	static const struct option opts[] = {{"config", required_argument, 0, 'c'},
	                                     {"db", required_argument, 0, 'd'},
	                                     {"confirm-affected", no_argument, 0, 'a'},
	                                     {0, 0, 0, 0}};
	const char *config = NULL, *db = NULL;
	bool confirm = false;
	int c;
	optind = 1;
	argc -= 2;
	argv += 2;
	while((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch(c) {
		case 'c': config = optarg; break;
		case 'd': db = optarg; break;
		case 'a': confirm = true; break;
		default: import_usage(stderr); return 2;
		}
	}
	if(optind < argc) {
		cli_error("import", "unexpected argument \"%s\"", argv[optind]);
		return 2;
	}
	char why[512];
	size_t len = 0;
	char *data = cli_read_file(file, holidays ? OTD_HOLIDAYS_MAX_BYTES : OTD_IMPORT_MAX_BYTES,
	                           &len, why, sizeof(why));
	if(!data) {
		cli_error("import", "%s", why);
		return 1;
	}
	if(sodium_init() < 0) {
		free(data);
		return 1;
	}
	struct otd_config cfg;
	if(cli_config_load("import", config, db, &cfg)) {
		free(data);
		return 1;
	}
	struct otd_app app;
	struct otd_error err;
	otd_error_clear(&err);
	int rc = 1;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if(app_open(&app, &cfg, OTD_APP_CLI, &err) != OTD_OK) {
		cli_error("import", "%s", err.message);
		goto out;
	}
	struct otd_principal cli;
	app_principal_cli(&cli);
	if(holidays) {
		size_t count = 0;
		if(app_import_holidays(&app, &cli, file, data, len, &count, &err) != OTD_OK) {
			cli_error("import", "%s", err.message);
		} else {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			printf("%s: %zu holiday date%s; they replace the previous set, in %.2f s\n",
			       file, count, count == 1 ? "" : "s",
			       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
			rc = 0;
		}
		app_close(&app);
		goto out;
	}
	struct otd_import_report r;
	enum otd_status st;
	if(strcmp(kind, "gazetteer") == 0)
		st = app_import_gazetteer(&app, &cli, file, data, len, &r, &err);
	else if(strcmp(kind, "visit-types") == 0)
		st = app_import_visit_types(&app, &cli, file, data, len, &r, &err);
	else
		st = app_import_visitors(&app, &cli, file, data, len, confirm, &r, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if(r.problems && r.problems[0])
		fputs(r.problems, stderr);
	if(st) {
		cli_error("import", "%s", err.message);
	} else {
		printf("%s: %zu rows, %zu added, %zu updated", file, r.rows, r.inserted, r.updated);
		if(strcmp(kind, "gazetteer") == 0)
			printf(", %lld removed, %lld kept as retired (in use)", (long long)r.removed,
			       (long long)r.retired);
		printf(" in %.2f s\n", secs);
		rc = 0;
	}
	otd_import_report_cleanup(&r);
	app_close(&app);
out:
	tzload_shutdown();
	otd_config_cleanup(&cfg);
	free(data);
	return rc;
}
