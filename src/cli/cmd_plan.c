/* onthedot plan --date D: re-plans a later day with the optimiser to cut
 * travel, inside the promised windows (app/rebalance.h, plan mode), and
 * applies it: every customer whose visitor changes is told. */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/audit.h"
#include "app/rebalance.h"
#include "cli/cli.h"
#include "cli/config_file.h"
#include "onthedot/civil.h"

static void plan_usage(FILE *out)
{
	fprintf(out, "usage: onthedot plan --date YYYY-MM-DD [--dry-run] [--now RFC3339]\n"
	             "                     [--config FILE] [--db FILE]\n\n"
	             "Re-plans the day's routes with the route optimiser: visits are re-sequenced\n"
	             "and given to other visitors where that cuts travel, every visit inside its\n"
	             "promised window (no promise kept now is put at risk, and visits under way\n"
	             "stay put). Prints what changes, then applies it in one transaction: each\n"
	             "customer whose visitor changes is sent a message (from the outbox, by the\n"
	             "running service). --dry-run prints the proposal and changes nothing.\n"
	             "The same is POST /api/v1/dispatch/rebalance with \"mode\": \"plan\", then\n"
	             "POST /api/v1/dispatch/rebalance/{id}/apply.\n\n"
	             "  --now T   plan as if it were T (a rehearsal, or a service on a virtual\n"
	             "            clock): what is under way and the shifts known are those of T\n");
}

int cmd_plan(int argc, char **argv)
{
	if(cli_wants_help(argc, argv)) {
		plan_usage(stdout);
		return 0;
	}
	static const struct option opts[] = {
	    {"date", required_argument, 0, 't'}, {"dry-run", no_argument, 0, 'n'},
	    {"now", required_argument, 0, 'w'},  {"config", required_argument, 0, 'c'},
	    {"db", required_argument, 0, 'd'},   {0, 0, 0, 0}};
	const char *date = NULL, *config = NULL, *db = NULL, *now = NULL;
	bool dry = false;
	int c;
	optind = 1;
	while((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch(c) {
		case 't': date = optarg; break;
		case 'n': dry = true; break;
		case 'w': now = optarg; break;
		case 'c': config = optarg; break;
		case 'd': db = optarg; break;
		default: plan_usage(stderr); return 2;
		}
	}
	if(optind < argc) {
		cli_error("plan", "unexpected argument \"%s\"", argv[optind]);
		return 2;
	}
	if(!date) {
		cli_error("plan", "--date is required (YYYY-MM-DD)");
		return 2;
	}
	if(sodium_init() < 0)
		return 1;
	struct otd_config cfg;
	if(cli_config_load("plan", config, db, &cfg))
		return 1;
	if(now) {
		int64_t t;
		struct otd_error perr;
		if(otd_rfc3339_parse(now, &t, &perr) != OTD_OK) {
			cli_error(
			    "plan",
			    "--now wants an instant such as 2026-03-03T08:00:00Z (got \"%s\")",
			    now);
			otd_config_cleanup(&cfg);
			return 2;
		}
		cfg.virtual_clock = true;
		cli_config_set(&cfg.virtual_start, now);
	}
	struct otd_app app;
	struct otd_error err;
	otd_error_clear(&err);
	int rc = 1;
	if(app_open(&app, &cfg, OTD_APP_CLI, &err) != OTD_OK) {
		cli_error("plan", "%s", err.message);
		otd_config_cleanup(&cfg);
		return 1;
	}
	struct otd_principal cli;
	app_principal_cli(&cli);
	struct otd_rebalance r;
	if(app_rebalance_propose(&app, &cli, date, NULL, 0, OTD_REBALANCE_PLAN, &r, &err) !=
	   OTD_OK) {
		cli_error("plan", "%s", err.message);
		goto out;
	}
	printf("%s: %d visits; promises not kept %d -> %d; travel %.0f -> %.0f minutes\n",
	       r.local_date, r.visits, r.broken_before, r.broken_after, r.travel_before_s / 60.0,
	       r.travel_after_s / 60.0);
	for(size_t i = 0; i < r.n_moves; i++) {
		const struct otd_rebalance_move *m = &r.moves[i];
		char from[32];
		if(m->from_visitor)
			snprintf(from, sizeof(from), "visitor %lld", (long long)m->from_visitor);
		else
			snprintf(from, sizeof(from), "no route");
		printf("  %s: %s -> visitor %lld, place %d\n", m->reference, from,
		       (long long)m->to_visitor, m->position);
	}
	if(r.n_moves == 0) {
		printf("%s\n", r.note[0] ? r.note : "Nothing to change.");
		rc = 0;
	} else if(dry) {
		printf("dry run: nothing changed (%d customer%s would be told)\n",
		       r.customers_affected, r.customers_affected == 1 ? "" : "s");
		rc = 0;
	} else {
		struct otd_rebalance_applied a;
		if(app_rebalance_apply(&app, &cli, r.id, &a, &err) != OTD_OK) {
			cli_error("plan", "%s", err.message);
		} else {
			printf("applied: %d visit%s to another visitor, %d route%s re-ordered, %d "
			       "customer%s told\n",
			       a.moved, a.moved == 1 ? "" : "s", a.reordered,
			       a.reordered == 1 ? "" : "s", a.told, a.told == 1 ? "" : "s");
			rc = 0;
		}
	}
	otd_rebalance_cleanup(&r);
out:
	app_close(&app);
	otd_config_cleanup(&cfg);
	return rc;
}
