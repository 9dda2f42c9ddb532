/* onthedot simulate --scenario FILE --seed N [--days D] [--report DIR]:
 * the day simulator (src/sim/engine.h). */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/log.h"
#include "app/tzload.h"
#include "cli/cli.h"
#include "cli/config_file.h"
#include "sim/engine.h"
#include "sim/report.h"
#include "sim/scenario.h"

static const int all_widths[] = {30, 60, 120, 240};

static void simulate_usage(FILE *out)
{
	fprintf(out,
	        "usage: onthedot simulate --scenario FILE --seed N [--days D] [--report DIR]\n"
	        "                         [--policy baseline|onthedot] [--width MINUTES]\n"
	        "                         [--quantile Q] [--keep-db FILE]\n\n"
	        "Plays the scenario's booking days and D days (1 by default) through the real\n"
	        "use cases, in process, on a throw-away database and a virtual clock, once for\n"
	        "each policy (baseline: AM/PM-style fixed windows planned at the median, no\n"
	        "proactive messages, no rebalancing; onthedot: exact windows planned at the 0.8\n"
	        "quantile, apologies with held windows, auto-rebalance) and each window width\n"
	        "(30, 60, 120 and 240 minutes), or only those given. The same seed gives the\n"
	        "same report.json.\n\n"
	        "  --report DIR   write report.json, report.html, report.md and timings.json\n"
	        "                 there (without it, report.json goes to standard output)\n"
	        "  --quantile Q   plan the onthedot policy's arrivals at this quantile (0.5 to\n"
	        "                 0.99; 0.8 by default), to see what it buys\n"
	        "  --keep-db FILE keep the database of the (single) run, for inspection\n\n"
	        "Scenarios: contrib/scenarios/ (the format is in its README.md).\n");
}

static int parse_int(const char *what, const char *s, long lo, long hi, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if(!*s || *end || v < lo || v > hi) {
		cli_error("simulate", "%s must be a whole number from %ld to %ld (got \"%s\")",
		          what, lo, hi, s);
		return 2;
	}
	*out = v;
	return 0;
}

int cmd_simulate(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"scenario", required_argument, 0, 's'}, {"seed", required_argument, 0, 'n'},
	    {"days", required_argument, 0, 'd'},     {"report", required_argument, 0, 'r'},
	    {"policy", required_argument, 0, 'p'},   {"width", required_argument, 0, 'w'},
	    {"keep-db", required_argument, 0, 'k'},  {"quantile", required_argument, 0, 'q'},
	    {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
	const char *scenario_path = NULL, *report_dir = NULL, *keep_db = NULL;
	long seed = -1, days = 1, width = 0;
	double quantile = 0;
	bool have_policy = false;
	enum sim_policy policy = SIM_ONTHEDOT;
	int c;
	optind = 1;
	while((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch(c) {
		case 's': scenario_path = optarg; break;
		case 'n':
			if(parse_int("--seed", optarg, 0, 2147483647L, &seed))
				return 2;
			break;
		case 'd':
			if(parse_int("--days", optarg, 1, 14, &days))
				return 2;
			break;
		case 'r': report_dir = optarg; break;
		case 'p':
			if(!sim_policy_parse(optarg, &policy)) {
				cli_error("simulate",
				          "--policy must be baseline or onthedot (got \"%s\")",
				          optarg);
				return 2;
			}
			have_policy = true;
			break;
		case 'w':
			if(parse_int("--width", optarg, 15, 480, &width))
				return 2;
			break;
		case 'k': keep_db = optarg; break;
		case 'q': {
			char *end;
			quantile = strtod(optarg, &end);
			if(!*optarg || *end || !(quantile >= 0.5 && quantile <= 0.99)) {
				cli_error(
				    "simulate",
				    "--quantile must be a number from 0.5 to 0.99 (got \"%s\")",
				    optarg);
				return 2;
			}
			break;
		}
		case 'h': simulate_usage(stdout); return 0;
		default: simulate_usage(stderr); return 2;
		}
	}
	if(!scenario_path || seed < 0 || optind < argc) {
		if(optind < argc)
			cli_error("simulate", "unexpected argument \"%s\"", argv[optind]);
		else
			cli_error("simulate", "--scenario FILE and --seed N are required");
		simulate_usage(stderr);
		return 2;
	}
	size_t n_policies = have_policy ? 1 : 2, n_widths = width ? 1 : 4;
	if(keep_db && n_policies * n_widths != 1) {
		cli_error("simulate", "--keep-db needs a single run: give --policy and --width");
		return 2;
	}
	/* The report's folder is made first: a run of minutes is not lost
	 * to a folder that cannot be made. */
	struct stat sb;
	if(report_dir && mkdir(report_dir, 0777) != 0 &&
	   (errno != EEXIST || stat(report_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
		cli_error("simulate", "cannot make the report folder %s: %s", report_dir,
		          errno == EEXIST ? "a file is in the way" : strerror(errno));
		return 1;
	}
	if(sodium_init() < 0)
		return 1;
	struct otd_error err;
	otd_error_clear(&err);
	struct sim_scenario *sc = calloc(1, sizeof(*sc));
	if(!sc)
		return 1;
	if(sim_scenario_load(scenario_path, sc, &err) != OTD_OK) {
		cli_error("simulate", "%s", err.message);
		free(sc);
		return 1;
	}
	/* The runs use the built-in defaults only (never a configuration file
	 * or ONTHEDOT_* variables), so a report depends on the scenario and
	 * the seed alone. */
	struct otd_config base;
	otd_config_defaults(&base);
	otd_log_set_level(OTD_LOG_ERROR);
	json_t *report = sim_report_head(sc, (uint64_t)seed, (int)days);
	json_t *runs = json_array(), *timings = json_array();
	json_object_set_new(report, "runs", runs);
	int rc = 0;
	for(size_t p = 0; p < n_policies && rc == 0; p++) {
		enum sim_policy pol = have_policy ? policy : (p == 0 ? SIM_BASELINE : SIM_ONTHEDOT);
		for(size_t w = 0; w < n_widths && rc == 0; w++) {
			struct sim_run_options o = {.scenario = sc,
			                            .base = &base,
			                            .seed = (uint64_t)seed,
			                            .days = (int)days,
			                            .policy = pol,
			                            .width_minutes =
			                                width ? (int)width : all_widths[w],
			                            .quantile = quantile,
			                            .keep_db = keep_db};
			json_t *run, *timing;
			if(sim_run(&o, &run, &timing, &err) != OTD_OK) {
				cli_error("simulate", "%s, %d-minute windows: %s",
				          sim_policy_name(pol), o.width_minutes, err.message);
				rc = 1;
				break;
			}
			json_array_append_new(runs, run);
			json_array_append_new(timings, timing);
			fprintf(stderr, "simulate: %s %d min: kept %.1f%%, %.1f s\n",
			        sim_policy_name(pol), o.width_minutes,
			        100.0 * json_number_value(json_object_get(run, "kept_rate")),
			        json_number_value(json_object_get(timing, "total_s")));
		}
	}
	if(rc == 0) {
		json_t *t = json_pack("{s:O}", "runs", timings);
		if(report_dir) {
			if(sim_report_write(report, t, report_dir, &err) != OTD_OK) {
				cli_error("simulate", "%s", err.message);
				rc = 1;
			}
		} else {
			char *text = json_dumps(report, JSON_INDENT(2) | JSON_SORT_KEYS |
			                                    JSON_REAL_PRECISION(6));
			if(text) {
				fputs(text, stdout);
				fputc('\n', stdout);
				free(text);
			}
		}
		json_decref(t);
	}
	json_decref(timings);
	json_decref(report);
	otd_config_cleanup(&base);
	free(sc);
	tzload_shutdown();
	return rc;
}
