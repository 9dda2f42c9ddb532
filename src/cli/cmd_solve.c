/* onthedot solve FILE: the route optimiser on a Solomon-format instance;
 * onthedot check-routes FILE ROUTES: the feasibility checker. */
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "onthedot/mem.h"
#include "onthedot/optimise.h"
#include "onthedot/vrp.h"

/* Instances and route files above this size are refused (the largest
 * Gehring and Homberger file, 1,000 customers, is about 80 kB). */
#define SOLVE_MAX_BYTES (64u << 20)

static void solve_usage(FILE *out)
{
	fprintf(out,
	        "usage: onthedot solve FILE [--seconds N | --iterations K] [--seed S]\n"
	        "                      [--objective distance|vehicles] [--routes OUT]\n\n"
	        "Solves a vehicle routing problem with time windows in the Solomon text\n"
	        "format (the Gehring and Homberger files use the same) with the route\n"
	        "optimiser, and prints the routes as lines \"Route #k: 12 5 33 ...\" (to OUT\n"
	        "with --routes), then \"iterations K seed S\" and, last,\n"
	        "\"vehicles N distance D seconds S\".\n\n"
	        "  --iterations K  the iteration budget: the same K and seed give the same\n"
	        "                  routes with the same build\n"
	        "  --seconds N     a wall-clock cap instead: the budget is fixed from the\n"
	        "                  speed of the first %d iterations, and the printed K\n"
	        "                  reproduces the run with --iterations (unless the run\n"
	        "                  was cut short, which it says)\n"
	        "  --seed S        the random seed (default 1)\n"
	        "  --objective     distance (default): least total distance;\n"
	        "                  vehicles: fewest vehicles, then distance\n",
	        OTD_OPT_CALIBRATION);
}

static void check_usage(FILE *out)
{
	fprintf(out, "usage: onthedot check-routes FILE ROUTES\n\n"
	             "Checks the routes in ROUTES (lines \"Route #k: c1 c2 ...\", as onthedot\n"
	             "solve writes them) against the Solomon-format instance FILE: every\n"
	             "customer once, time windows, capacity, and back at the depot in time.\n"
	             "Prints \"feasible: vehicles N distance D\" and exits 0, or\n"
	             "\"infeasible: why\" and exits 1. This checker is separate code from the\n"
	             "solver: it re-times every route from the instance alone.\n");
}

static double monotonic_seconds(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parses a whole decimal number in [lo, hi] from s. */
static bool parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	if(!*s)
		return false;
	long v = strtol(s, &end, 10);
	if(*end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool load_instance(const char *cmd, const char *file, struct otd_vrp *p)
{
	char why[512];
	size_t len;
	char *text = cli_read_file(file, SOLVE_MAX_BYTES, &len, why, sizeof(why));
	if(!text) {
		cli_error(cmd, "%s", why);
		return false;
	}
	bool ok = otd_solomon_parse(text, len, p, why, sizeof(why));
	free(text);
	if(!ok)
		cli_error(cmd, "%s: %s", file, why);
	return ok;
}

/* Writes the non-empty routes, numbered from 1, with customer ids. */
static bool write_routes(FILE *f, const struct otd_vrp *p, const struct otd_vrp_solution *s)
{
	int k = 0;
	for(int v = 0; v < s->n_vehicles; v++) {
		if(s->first[v] == s->first[v + 1])
			continue;
		fprintf(f, "Route #%d:", ++k);
		for(int i = s->first[v]; i < s->first[v + 1]; i++)
			fprintf(f, " %lld", (long long)p->jobs[s->order[i]].id);
		fputc('\n', f);
	}
	return !ferror(f);
}

int cmd_solve(int argc, char **argv)
{
	if(cli_wants_help(argc, argv)) {
		solve_usage(stdout);
		return 0;
	}
	static const struct option opts[] = {
	    {"seconds", required_argument, 0, 's'}, {"iterations", required_argument, 0, 'i'},
	    {"seed", required_argument, 0, 'r'},    {"objective", required_argument, 0, 'o'},
	    {"routes", required_argument, 0, 'w'},  {0, 0, 0, 0}};
	struct otd_opt_params prm = {.objective = OTD_OPT_DISTANCE, .seed = 1};
	const char *routes_path = NULL;
	long v;
	int c;
	optind = 1;
	while((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch(c) {
		case 's': {
			char *end;
			double s = strtod(optarg, &end);
			if(*end || !(s > 0) || s > 86400 * 7) {
				cli_error("solve",
				          "--seconds wants a number of seconds above 0 (got "
				          "\"%s\")",
				          optarg);
				return 2;
			}
			prm.seconds = s;
			break;
		}
		case 'i':
			if(!parse_long(optarg, 1, 1000000000000L, &v)) {
				cli_error("solve",
				          "--iterations wants a whole number from 1 (got \"%s\")",
				          optarg);
				return 2;
			}
			prm.iterations = v;
			break;
		case 'r':
			if(!parse_long(optarg, 0, 0x7fffffffffffffffL, &v)) {
				cli_error("solve",
				          "--seed wants a whole number from 0 (got \"%s\")",
				          optarg);
				return 2;
			}
			prm.seed = (uint64_t)v;
			break;
		case 'o':
			if(strcmp(optarg, "distance") == 0)
				prm.objective = OTD_OPT_DISTANCE;
			else if(strcmp(optarg, "vehicles") == 0)
				prm.objective = OTD_OPT_VEHICLES;
			else {
				cli_error("solve",
				          "--objective is distance or vehicles (got \"%s\")",
				          optarg);
				return 2;
			}
			break;
		case 'w': routes_path = optarg; break;
		default: solve_usage(stderr); return 2;
		}
	}
	if(optind + 1 != argc) {
		solve_usage(stderr);
		return 2;
	}
	if(prm.seconds > 0 && prm.iterations > 0) {
		cli_error("solve", "give --seconds or --iterations, not both");
		return 2;
	}
	if(prm.seconds <= 0 && prm.iterations <= 0)
		prm.seconds = 10;
	prm.now = monotonic_seconds;

	struct otd_vrp p = {0};
	if(!load_instance("solve", argv[optind], &p))
		return 1;
	double t0 = monotonic_seconds(NULL);
	struct otd_vrp_solution s;
	struct otd_opt_result res;
	char why[512];
	if(!otd_optimise(&p, &prm, &s, &res, why, sizeof(why))) {
		cli_error("solve", "%s", why);
		otd_vrp_cleanup(&p);
		return 1;
	}
	double spent = monotonic_seconds(NULL) - t0;
	int rc = 0;
	FILE *out = stdout;
	if(routes_path) {
		out = fopen(routes_path, "w");
		if(!out) {
			cli_error("solve", "cannot write %s", routes_path);
			rc = 1;
		}
	}
	if(out) {
		bool ok = write_routes(out, &p, &s);
		if(routes_path) {
			ok = fclose(out) == 0 && ok;
			if(!ok) {
				cli_error("solve", "cannot write %s", routes_path);
				rc = 1;
			}
		}
	}
	if(res.cost.unassigned > 0)
		fprintf(stderr,
		        "onthedot solve: %d customer%s fit on no route (too few vehicles, or a "
		        "window no vehicle can reach)\n",
		        res.cost.unassigned, res.cost.unassigned == 1 ? "" : "s");
	if(res.cut && res.budget == LONG_MAX)
		printf("iterations %ld seed %llu (cut short by the time cap before its budget was "
		       "fixed)\n",
		       res.iterations, (unsigned long long)prm.seed);
	else if(res.cut)
		printf("iterations %ld seed %llu (cut short by the time cap; its budget was %ld)\n",
		       res.iterations, (unsigned long long)prm.seed, res.budget);
	else
		printf("iterations %ld seed %llu\n", res.iterations, (unsigned long long)prm.seed);
	printf("vehicles %d distance %.2f seconds %.2f\n", res.cost.vehicles, res.cost.distance,
	       spent);
	if(res.cost.unassigned > 0 && rc == 0)
		rc = 1;
	otd_vrp_solution_cleanup(&s);
	otd_vrp_cleanup(&p);
	return rc;
}

int cmd_check_routes(int argc, char **argv)
{
	if(cli_wants_help(argc, argv)) {
		check_usage(stdout);
		return 0;
	}
	if(argc != 3) {
		check_usage(stderr);
		return 2;
	}
	struct otd_vrp p = {0};
	if(!load_instance("check-routes", argv[1], &p))
		return 1;
	char why[512];
	size_t len;
	char *text = cli_read_file(argv[2], SOLVE_MAX_BYTES, &len, why, sizeof(why));
	if(!text) {
		cli_error("check-routes", "%s", why);
		otd_vrp_cleanup(&p);
		return 1;
	}
	struct otd_vrp_solution s;
	bool parsed = otd_vrp_routes_parse(&p, text, len, &s, why, sizeof(why));
	free(text);
	if(!parsed) {
		printf("infeasible: %s: %s\n", argv[2], why);
		otd_vrp_cleanup(&p);
		return 1;
	}
	struct otd_vrp_cost cost;
	int rc = 0;
	if(!otd_vrp_check(&p, &s, &cost, why, sizeof(why))) {
		printf("infeasible: %s\n", why);
		rc = 1;
	} else if(cost.unassigned > 0) {
		printf("infeasible: customer %lld is on no route",
		       (long long)p.jobs[s.unassigned[0]].id);
		if(cost.unassigned > 1)
			printf(" (and %d more)", cost.unassigned - 1);
		putchar('\n');
		rc = 1;
	} else {
		printf("feasible: vehicles %d distance %.2f\n", cost.vehicles, cost.distance);
	}
	otd_vrp_solution_cleanup(&s);
	otd_vrp_cleanup(&p);
	return rc;
}
