/* libFuzzer target: the Solomon instance and route file parsers, and the
 * feasibility checker on what they produce.
 *
 * The bytes are parsed as a Solomon instance. A rejection must carry a
 * "line N: " message of plain printable ASCII (it may reach a web page or a
 * JSON body). An instance that is accepted must keep the promises of
 * onthedot/vrp.h: at least one customer and one vehicle, jobs on nodes
 * 1..n with id = number, windows a <= b, service and demand >= 0, one
 * Euclidean matrix as dist and time, symmetric with a zero diagonal,
 * finite and non-negative. Then the route "Route #1: 1" is parsed against
 * it (always valid: customer 1 and vehicle 1 exist) and checked, as is a
 * solution with every customer on vehicle 1; the checker must not crash
 * and must count what it was given. Finally the same bytes are parsed as
 * a route file against a fixed small instance, and checked when accepted. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/vrp.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if(!(cond)) {                                                                      \
			fprintf(stderr, "fuzz_solomon: %s:%d: check failed: %s\n", __FILE__,       \
			        __LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while(0)

/* Three customers, two vehicles; the route-file half parses against it. */
static const char fixed[] = "FIXED\nVEHICLE\nNUMBER CAPACITY\n2 20\nCUSTOMER\nCUST NO.\n"
                            "0 0 0 0 0 100 0\n"
                            "1 3 4 10 0 50 2\n"
                            "2 6 8 10 10 60 3\n"
                            "3 0 4 15 0 20 1\n";

/* A message is "line N: ..." of printable ASCII, NUL-terminated in buf. */
static void check_message(const char *msg, size_t size)
{
	size_t n = strnlen(msg, size);
	CHECK(n < size);
	CHECK(strncmp(msg, "line ", 5) == 0);
	char *end;
	unsigned long line = strtoul(msg + 5, &end, 10);
	CHECK(line >= 1 && end[0] == ':' && end[1] == ' ');
	for(size_t i = 0; i < n; i++)
		CHECK(msg[i] >= 0x20 && msg[i] < 0x7f);
}

static void check_instance(const struct otd_vrp *p)
{
	const size_t n = (size_t)p->n_nodes;
	CHECK(strnlen(p->name, sizeof(p->name)) < sizeof(p->name));
	CHECK(p->n_jobs >= 1 && p->n_vehicles >= 1);
	CHECK(p->n_nodes == p->n_jobs + 1);
	CHECK(p->dist && p->time == p->dist);
	for(int j = 0; j < p->n_jobs; j++) {
		const struct otd_vrp_job *job = &p->jobs[j];
		CHECK(job->node == j + 1 && job->id == j + 1);
		CHECK(job->a <= job->b && job->service >= 0 && job->demand >= 0);
		CHECK(job->locked_vehicle == -1 && job->home_vehicle == -1);
		CHECK(!job->soft && job->skills == 0);
	}
	for(int v = 0; v < p->n_vehicles; v++) {
		const struct otd_vrp_vehicle *veh = &p->vehicles[v];
		CHECK(veh->start_node == 0 && veh->end_node == 0 && veh->id == v + 1);
		CHECK(veh->start <= veh->end && veh->capacity >= 0);
	}
	for(size_t i = 0; i < n; i++) {
		CHECK(p->dist[i * n + i] == 0);
		for(size_t j = 0; j < n; j++) {
			double d = p->dist[i * n + j];
			CHECK(isfinite(d) && d >= 0);
			CHECK(d == p->dist[j * n + i]);
		}
	}
}

/* Runs the checker; whatever it says, the counts must match s. */
static void run_check(const struct otd_vrp *p, const struct otd_vrp_solution *s)
{
	struct otd_vrp_cost cost;
	char why[160];
	bool ok = otd_vrp_check(p, s, &cost, why, sizeof(why));
	CHECK(strnlen(why, sizeof(why)) < sizeof(why));
	CHECK(ok == (why[0] == '\0'));
	CHECK(cost.unassigned == s->n_unassigned);
	CHECK(cost.late_jobs == 0 && cost.lateness == 0 && cost.moved == 0);
	int used = 0;
	for(int v = 0; v < s->n_vehicles; v++)
		used += s->first[v + 1] > s->first[v];
	CHECK(cost.vehicles == used);
	CHECK(isfinite(cost.distance) && cost.distance >= 0 && cost.time == cost.distance);
	/* Without a message buffer the verdict is the same. */
	CHECK(otd_vrp_check(p, s, NULL, NULL, 0) == ok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct otd_vrp p;
	struct otd_vrp_solution s;
	char err[200];
	static const char route[] = "Route #1: 1\n";

	if(otd_solomon_parse((const char *)data, size, &p, err, sizeof(err))) {
		check_instance(&p);
		CHECK(otd_vrp_routes_parse(&p, route, sizeof(route) - 1, &s, err, sizeof(err)));
		CHECK(s.first[1] == 1 && s.order[0] == 0 && s.n_unassigned == p.n_jobs - 1);
		run_check(&p, &s);
		otd_vrp_solution_cleanup(&s);

		/* Every customer on vehicle 1, in number order. */
		otd_vrp_solution_init(&s, &p);
		for(int j = 0; j < p.n_jobs; j++)
			s.order[j] = j;
		for(int v = 1; v <= p.n_vehicles; v++)
			s.first[v] = p.n_jobs;
		s.n_unassigned = 0;
		run_check(&p, &s);
		otd_vrp_solution_cleanup(&s);
		otd_vrp_cleanup(&p);
	} else {
		check_message(err, sizeof(err));
		CHECK(p.n_jobs == 0 && !p.jobs && !p.dist && !p.vehicles);
	}

	/* The bytes as a route file for the fixed instance. */
	struct otd_vrp q;
	CHECK(otd_solomon_parse(fixed, sizeof(fixed) - 1, &q, err, sizeof(err)));
	if(otd_vrp_routes_parse(&q, (const char *)data, size, &s, err, sizeof(err))) {
		CHECK(s.first[0] == 0 && s.first[q.n_vehicles] + s.n_unassigned == q.n_jobs);
		int seen[3] = {0, 0, 0};
		for(int i = 0; i < s.first[q.n_vehicles]; i++)
			seen[s.order[i]]++;
		for(int k = 0; k < s.n_unassigned; k++)
			seen[s.unassigned[k]]++;
		CHECK(seen[0] == 1 && seen[1] == 1 && seen[2] == 1);
		run_check(&q, &s);
	} else {
		check_message(err, sizeof(err));
		CHECK(!s.first && !s.order && !s.unassigned);
	}
	otd_vrp_solution_cleanup(&s);
	otd_vrp_cleanup(&q);
	return 0;
}
