/* Unit tests: VRPTW instances, the Solomon and route formats, and the
 * feasibility checker. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "onthedot/vrp.h"
#include "testutil.h"

/* Depot at (0,0) open [0, 100]; customer 1 at (3,4), 2 at (6,8), 3 at
 * (0,4). Legs: 0-1 5, 1-2 5, 0-2 10, 0-3 4, 1-3 3, 2-3 sqrt(52). */
static const char tiny[] = "TINY\n"
                           "\n"
                           "VEHICLE\n"
                           "NUMBER     CAPACITY\n"
                           "  2          30\n"
                           "\n"
                           "CUSTOMER\n"
                           "CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   "
                           "SERVICE   TIME\n"
                           " \n"
                           "    0       0          0          0          0        100     0\n"
                           "    1       3          4         10          0         50     2\n"
                           "    2       6          8         10         10         60     3\n"
                           "    3       0          4         15          0         20     1\n";

static void load_tiny(struct otd_vrp *p)
{
	char err[200];
	ck_assert_msg(otd_solomon_parse(tiny, strlen(tiny), p, err, sizeof(err)), "%s", err);
}

/* Parses text, expecting failure with exactly the message want. */
static void expect_parse_error(const char *text, const char *want)
{
	struct otd_vrp p;
	char err[300];
	ck_assert_msg(!otd_solomon_parse(text, strlen(text), &p, err, sizeof(err)), "accepted: %s",
	              text);
	ck_assert_str_eq(err, want);
	/* Failure leaves a zeroed instance that cleanup accepts. */
	ck_assert_int_eq(p.n_jobs, 0);
	ck_assert_ptr_null(p.dist);
	otd_vrp_cleanup(&p);
}

/* tiny with its customer rows replaced by rows. */
static char *tiny_with_rows(const char *rows)
{
	const char *cut = strstr(tiny, "    0       0");
	ck_assert_ptr_nonnull(cut);
	return xasprintf("%.*s%s", (int)(cut - tiny), tiny, rows);
}

/* Fills s for p from a route text like "1 2/3" (routes by customer id,
 * separated by '/') and the unassigned ids; no checks, so tests can build
 * broken solutions. */
static void build(struct otd_vrp_solution *s, const struct otd_vrp *p, const char *routes,
                  const char *unassigned)
{
	otd_vrp_solution_init(s, p);
	int v = 0, k = 0;
	const char *c = routes;
	s->first[0] = 0;
	while(*c) {
		char *end;
		if(*c == '/') {
			s->first[++v] = k;
			c++;
			continue;
		}
		if(*c == ' ') {
			c++;
			continue;
		}
		long id = strtol(c, &end, 10);
		ck_assert_ptr_ne(end, c);
		ck_assert_int_lt(k, p->n_jobs);
		s->order[k++] = (int)id - 1;
		c = end;
	}
	while(v < p->n_vehicles)
		s->first[++v] = k;
	s->n_unassigned = 0;
	for(c = unassigned; *c;) {
		char *end;
		if(*c == ' ') {
			c++;
			continue;
		}
		long id = strtol(c, &end, 10);
		ck_assert_ptr_ne(end, c);
		s->unassigned[s->n_unassigned++] = (int)id - 1;
		c = end;
	}
}

/* Checks routes/unassigned on p, expecting infeasible with reason want. */
static void expect_infeasible(const struct otd_vrp *p, const char *routes, const char *unassigned,
                              const char *want)
{
	struct otd_vrp_solution s;
	char why[200];
	build(&s, p, routes, unassigned);
	ck_assert_msg(!otd_vrp_check(p, &s, NULL, why, sizeof(why)), "feasible: %s | %s", routes,
	              unassigned);
	ck_assert_str_eq(why, want);
	otd_vrp_solution_cleanup(&s);
}

START_TEST(parses_a_small_instance)
{
	struct otd_vrp p;
	load_tiny(&p);
	ck_assert_str_eq(p.name, "TINY");
	ck_assert_int_eq(p.n_nodes, 4);
	ck_assert_int_eq(p.n_jobs, 3);
	ck_assert_int_eq(p.n_vehicles, 2);
	ck_assert_ptr_eq(p.dist, p.time);
	ck_assert_double_eq(p.dist[0 * 4 + 1], 5);
	ck_assert_double_eq(p.dist[1 * 4 + 2], 5);
	ck_assert_double_eq(p.dist[2 * 4 + 0], 10);
	ck_assert_double_eq(p.dist[3 * 4 + 1], 3);
	ck_assert_double_eq_tol(p.dist[2 * 4 + 3], sqrt(52), 1e-12);
	for(int i = 0; i < 4; i++) {
		ck_assert_double_eq(p.dist[i * 4 + i], 0);
		for(int j = 0; j < 4; j++)
			ck_assert_double_eq(p.dist[i * 4 + j], p.dist[j * 4 + i]);
	}
	const struct otd_vrp_job *j2 = &p.jobs[1];
	ck_assert_int_eq(j2->node, 2);
	ck_assert_int_eq(j2->id, 2);
	ck_assert_double_eq(j2->a, 10);
	ck_assert_double_eq(j2->b, 60);
	ck_assert_double_eq(j2->service, 3);
	ck_assert_int_eq(j2->demand, 10);
	ck_assert_int_eq(j2->locked_vehicle, -1);
	ck_assert_int_eq(j2->home_vehicle, -1);
	ck_assert(!j2->soft);
	ck_assert_uint_eq(j2->skills, 0);
	for(int v = 0; v < 2; v++) {
		const struct otd_vrp_vehicle *veh = &p.vehicles[v];
		ck_assert_int_eq(veh->start_node, 0);
		ck_assert_int_eq(veh->end_node, 0);
		ck_assert_double_eq(veh->start, 0);
		ck_assert_double_eq(veh->end, 100);
		ck_assert_int_eq(veh->capacity, 30);
		ck_assert_uint_eq(veh->skills, 0);
		ck_assert_int_eq(veh->id, v + 1);
	}
	otd_vrp_cleanup(&p);
	ck_assert_ptr_null(p.jobs);
	otd_vrp_cleanup(&p); /* safe on a zeroed instance */
}
END_TEST

START_TEST(parses_crlf_decimals_and_a_long_name)
{
	char *text = xasprintf("%s", "  A name that is far longer than the sixty-three bytes the "
	                             "instance keeps for it  \r\n"
	                             "VEHICLE\r\nnumber capacity\r\n3 0\r\nCUSTOMER\r\nCUST NO.\r\n"
	                             "0 0.5 0 0 0 1e3 0\r\n"
	                             "1 3.5 4 0 1.25 2.5 0.75 \r\n\r\n");
	struct otd_vrp p;
	char err[200];
	ck_assert_msg(otd_solomon_parse(text, strlen(text), &p, err, sizeof(err)), "%s", err);
	ck_assert_uint_eq(strlen(p.name), 63);
	ck_assert_str_eq(p.name, "A name that is far longer than the sixty-three bytes the instan");
	ck_assert_int_eq(p.n_jobs, 1);
	ck_assert_int_eq(p.vehicles[2].capacity, 0);
	ck_assert_double_eq(p.vehicles[0].end, 1000);
	ck_assert_double_eq(p.jobs[0].a, 1.25);
	ck_assert_double_eq(p.jobs[0].service, 0.75);
	ck_assert_double_eq(p.dist[1], 5);
	otd_vrp_cleanup(&p);
	free(text);

	/* A cut name never ends inside a UTF-8 character. */
	struct otd_buf b;
	otd_buf_init(&b, 0);
	for(int i = 0; i < 62; i++)
		otd_buf_puts(&b, "x");
	otd_buf_puts(&b, "\xC3\xA9tude\nVEHICLE\nNUMBER CAPACITY\n1 1\nCUSTOMER\nH\n0 0 0 0 0 9 0\n"
	                 "1 0 0 0 0 9 0\n");
	ck_assert_msg(otd_solomon_parse(b.data, b.len, &p, err, sizeof(err)), "%s", err);
	ck_assert_uint_eq(strlen(p.name), 62);
	otd_vrp_cleanup(&p);
	otd_buf_cleanup(&b);
}
END_TEST

START_TEST(rejects_malformed_instances_by_line)
{
	expect_parse_error("", "line 1: the text is empty; expected the instance name");
	expect_parse_error("VEHICLE\nNUMBER CAPACITY\n2 30\n",
	                   "line 1: the instance name is missing before VEHICLE");
	expect_parse_error("X\n\nNUMBER CAPACITY\n2 30\n",
	                   "line 3: expected \"VEHICLE\", found \"NUMBER CAPACITY\"");
	expect_parse_error("X\nVEHICLE\n", "line 2: the text ends before \"NUMBER CAPACITY\"");
	expect_parse_error("X\nVEHICLE\nNUMBER CAPACITY\n2 30\n\nCUST NO. X\n0 0 0 0 0 9 0\n",
	                   "line 6: expected \"CUSTOMER\", found \"CUST NO. X\"");
	expect_parse_error("X\nVEHICLE\nNUMBER CAPACITY\n2 30\nCUSTOMER\n",
	                   "line 5: the text ends before the column header after CUSTOMER");
	expect_parse_error("X\nVEHICLE\nNUMBER CAPACITY\n2 30\nCUSTOMER\n0 0 0 0 0 9 0\n",
	                   "line 6: expected the column header after CUSTOMER, found a row of "
	                   "numbers");
	expect_parse_error(
	    "X\nVEHICLE\nNUMBER CAPACITY\ntwo 30\n",
	    "line 4: vehicle number \"two\" must be a whole number from 1 to 100000");
	expect_parse_error("X\nVEHICLE\nNUMBER CAPACITY\n0 30\n",
	                   "line 4: vehicle number \"0\" must be a whole number from 1 to 100000");
	expect_parse_error("X\nVEHICLE\nNUMBER CAPACITY\n2 -1\n",
	                   "line 4: capacity \"-1\" must be a whole number from 0 to 1e+09");
	expect_parse_error("X\nVEHICLE\nNUMBER CAPACITY\n2\n",
	                   "line 4: expected the vehicle number and capacity, found 1 fields");
	/* A NUL byte, anywhere. */
	{
		struct otd_vrp p;
		char err[100];
		ck_assert(!otd_solomon_parse("X\n\0VEHICLE\n", 11, &p, err, sizeof(err)));
		ck_assert_str_eq(err, "line 2: a NUL byte");
	}

	struct {
		const char *rows, *want;
	} cases[] = {
	    {"", "line 9: no depot row after the column header"},
	    {"0 0 0 0 0 100 0\n", "line 10: no customers after the depot"},
	    {"0 0 0 0 0 100 0\n1 3 4 x 0 50 2\n", "line 11: demand \"x\" is not a number"},
	    {"0 0 0 0 0 100 0\n1 3 4 1 0 nan 2\n", "line 11: due date \"nan\" is not a number"},
	    {"0 0 0 0 0 100 0\n1 3 4 1 0 1e999 2\n", "line 11: due date \"1e999\" is not a number"},
	    {"0 0 0 0 0 100 0\n1 3 4 1 0 0x10 2\n", "line 11: due date \"0x10\" is not a number"},
	    {"0 0 0 0 0 100 0\n1 3 \xC3\xA9 1 0 50 2\n", "line 11: y \"??\" is not a number"},
	    {"0 0 0 0 0 100 0\n1 3e10 4 1 0 50 2\n", "line 11: x \"3e10\" is beyond 1e+09 in size"},
	    {"0 0 0 0 0 100 0\n2 3 4 10 0 50 2\n",
	     "line 11: customer number \"2\" where 1 was expected (the depot is 0, customers 1, 2, "
	     "... in order)"},
	    {"1 0 0 0 0 100 0\n",
	     "line 10: customer number \"1\" where 0 was expected (the depot is 0, customers 1, 2, "
	     "... in order)"},
	    {"0 0 0 0 0 100 0\n1 3 4 10 0 50 2\n1 3 4 10 0 50 2\n",
	     "line 12: customer number \"1\" where 2 was expected (the depot is 0, customers 1, 2, "
	     "... in order)"},
	    {"0 0 0 0 0 100 0\n1 3 4 10 0 50 -2\n", "line 11: service time -2 is negative"},
	    {"0 0 0 0 0 100 0\n1 3 4 10 60 50 2\n", "line 11: due date 50 is before ready time 60"},
	    {"0 0 0 0 0 100 0\n1 3 4 -10 0 50 2\n",
	     "line 11: demand \"-10\" must be a whole number, 0 or more"},
	    {"0 0 0 0 0 100 0\n1 3 4 1.5 0 50 2\n",
	     "line 11: demand \"1.5\" must be a whole number, 0 or more"},
	    {"0 0 0 0 0 100 0\n1 3 4 10 0 50\n",
	     "line 11: expected 7 numbers (customer number, x, y, demand, ready time, due date, "
	     "service time), found 6 fields"},
	    {"0 0 0 0 0 100 0\n1 3 4 10 0 50 2 9\n",
	     "line 11: expected 7 numbers (customer number, x, y, demand, ready time, due date, "
	     "service time), found 8 fields"},
	    {"0 0 0 0 0 100 0\n1 3 4 10 0 50 2\nCost 12\n",
	     "line 12: expected 7 numbers (customer number, x, y, demand, ready time, due date, "
	     "service time), found 2 fields"},
	};
	for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = tiny_with_rows(cases[i].rows);
		expect_parse_error(text, cases[i].want);
		free(text);
	}
}
END_TEST

START_TEST(refuses_more_than_10001_places)
{
	struct otd_buf b;
	otd_buf_init(&b, 0);
	otd_buf_puts(&b, "BIG\nVEHICLE\nNUMBER CAPACITY\n1 1\nCUSTOMER\nH\n");
	for(int i = 0; i <= 10001; i++)
		otd_buf_printf(&b, "%d 0 0 0 0 1 0\n", i);
	struct otd_vrp p;
	char err[200];
	ck_assert(!otd_solomon_parse(b.data, b.len, &p, err, sizeof(err)));
	ck_assert_str_eq(err, "line 10008: more than 10001 places (the depot and customers)");
	otd_buf_cleanup(&b);
}
END_TEST

START_TEST(parses_route_files)
{
	struct otd_vrp p;
	struct otd_vrp_solution s;
	char err[200];
	load_tiny(&p);
	const char *text = "Solution for TINY\r\n"
	                   "Route #2: 3 \r\n"
	                   "Route #1: 2\t1\r\n"
	                   "Cost 28.00\r\n";
	ck_assert_msg(otd_vrp_routes_parse(&p, text, strlen(text), &s, err, sizeof(err)), "%s",
	              err);
	ck_assert_int_eq(s.n_vehicles, 2);
	ck_assert_int_eq(s.first[0], 0);
	ck_assert_int_eq(s.first[1], 2);
	ck_assert_int_eq(s.first[2], 3);
	ck_assert_int_eq(s.order[0], 1);
	ck_assert_int_eq(s.order[1], 0);
	ck_assert_int_eq(s.order[2], 2);
	ck_assert_int_eq(s.n_unassigned, 0);
	otd_vrp_solution_cleanup(&s);

	/* An empty route and jobs left over: unassigned in job order. */
	text = "Route #1:\nRoute #2: 2";
	ck_assert_msg(otd_vrp_routes_parse(&p, text, strlen(text), &s, err, sizeof(err)), "%s",
	              err);
	ck_assert_int_eq(s.first[1], 0);
	ck_assert_int_eq(s.first[2], 1);
	ck_assert_int_eq(s.n_unassigned, 2);
	ck_assert_int_eq(s.unassigned[0], 0);
	ck_assert_int_eq(s.unassigned[1], 2);
	otd_vrp_solution_cleanup(&s);

	ck_assert(otd_vrp_routes_parse(&p, "", 0, &s, err, sizeof(err)));
	ck_assert_int_eq(s.n_unassigned, 3);
	otd_vrp_solution_cleanup(&s);

	struct {
		const char *text, *want;
	} cases[] = {
	    {"Route #1: 1 x\n", "line 1: \"x\" is not a customer id"},
	    {"Route #1: 1 2.0\n", "line 1: \"2.0\" is not a customer id"},
	    {"\nRoute #1: 9\n", "line 2: unknown customer 9"},
	    {"Route #1: 1\nRoute #2: 3 1\n",
	     "line 2: customer 1 is on a route twice (first on line 1)"},
	    {"Route #1: 1\nRoute #1: 2\n", "line 2: route 1 is given twice (first on line 1)"},
	    {"Route #3: 1\n", "line 1: route 3 is beyond the 2 vehicles"},
	    {"Route #99999999999999999999: 1\n",
	     "line 1: route 99999999999999999999 is beyond the 2 vehicles"},
	    {"Route #0: 1\n", "line 1: route numbers start at 1"},
	    {"Route #: 1\n", "line 1: expected a route number after \"Route #\""},
	    {"Route #1 1 2\n", "line 1: expected ':' after the route number"},
	};
	for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(!otd_vrp_routes_parse(&p, cases[i].text, strlen(cases[i].text), &s,
		                                    err, sizeof(err)),
		              "accepted: %s", cases[i].text);
		ck_assert_str_eq(err, cases[i].want);
		/* Failure leaves nothing allocated; cleanup is still safe. */
		ck_assert_ptr_null(s.first);
		ck_assert_ptr_null(s.order);
		ck_assert_ptr_null(s.unassigned);
		otd_vrp_solution_cleanup(&s);
	}
	otd_vrp_cleanup(&p);
}
END_TEST

START_TEST(accepts_a_feasible_solution_with_its_cost)
{
	struct otd_vrp p;
	struct otd_vrp_solution s;
	struct otd_vrp_cost cost;
	char why[200] = "stale";
	load_tiny(&p);
	/* Route 1: 1 (start 5, leave 7), 2 (start 12, leave 15), back at 25;
	 * route 2: 3 (start 4, leave 5), back at 9. Distance 20 + 8. */
	build(&s, &p, "1 2/3", "");
	ck_assert_msg(otd_vrp_check(&p, &s, &cost, why, sizeof(why)), "%s", why);
	ck_assert_str_eq(why, "");
	ck_assert_double_eq_tol(cost.distance, 28, 1e-9);
	ck_assert_double_eq_tol(cost.time, 28, 1e-9);
	ck_assert_int_eq(cost.vehicles, 2);
	ck_assert_int_eq(cost.unassigned, 0);
	ck_assert_int_eq(cost.late_jobs, 0);
	ck_assert_int_eq(cost.moved, 0);
	otd_vrp_solution_cleanup(&s);

	/* An empty route costs nothing; the unassigned are counted. */
	build(&s, &p, "/3 2", "1");
	ck_assert_msg(otd_vrp_check(&p, &s, &cost, why, sizeof(why)), "%s", why);
	ck_assert_double_eq_tol(cost.distance, 4 + sqrt(52) + 10, 1e-9);
	ck_assert_int_eq(cost.vehicles, 1);
	ck_assert_int_eq(cost.unassigned, 1);
	otd_vrp_solution_cleanup(&s);

	/* Waiting for a window, and ending exactly on the shift end. Route
	 * 2 1 with 2's window opening at 30: start 30, leave 33, at 1 at 38,
	 * leave 40, back at 45. */
	p.jobs[1].a = 30;
	p.vehicles[0].end = 45;
	build(&s, &p, "2 1/3", "");
	ck_assert_msg(otd_vrp_check(&p, &s, &cost, why, sizeof(why)), "%s", why);
	otd_vrp_solution_cleanup(&s);

	/* No why buffer, no cost: fine. */
	build(&s, &p, "2 1/3", "");
	ck_assert(otd_vrp_check(&p, &s, NULL, NULL, 0));
	otd_vrp_solution_cleanup(&s);
	otd_vrp_cleanup(&p);
}
END_TEST

START_TEST(rejects_lateness_shift_end_capacity_and_skills)
{
	struct otd_vrp p;
	load_tiny(&p);

	/* 1 2 3: at 3 at 15 + sqrt(52) = 22.21, due 20. */
	p.vehicles[0].capacity = -1;
	expect_infeasible(&p, "1 2 3/", "",
	                  "route 1: customer 3 starts at 22.21, after its due time 20.00");
	/* 3 alone on route 2, due at 3, is reached at 4. */
	p.jobs[2].b = 3;
	expect_infeasible(&p, "1 2/3", "",
	                  "route 2: customer 3 starts at 4.00, after its due time 3.00");
	p.jobs[2].b = 20;

	/* Back at 25, the shift ends at 24.5. */
	p.vehicles[0].end = 24.5;
	expect_infeasible(&p, "1 2/3", "",
	                  "route 1: back at the depot at 25.00, after its end 24.50");
	p.vehicles[0].end = 100;

	/* 3 1 2 carries 35 > 30. */
	p.vehicles[0].capacity = 30;
	expect_infeasible(&p, "3 1 2/", "",
	                  "route 1: the load reaches 35 at customer 2, over the capacity 30");
	p.vehicles[0].capacity = -1;
	struct otd_vrp_solution s;
	char why[200];
	build(&s, &p, "3 1 2/", "");
	ck_assert_msg(otd_vrp_check(&p, &s, NULL, why, sizeof(why)), "%s", why);
	otd_vrp_solution_cleanup(&s);

	/* Customer 2 needs skills 1 and 4, vehicle 2 has 1 and 2. */
	p.jobs[1].skills = 5;
	p.vehicles[1].skills = 3;
	p.vehicles[0].skills = 7;
	expect_infeasible(&p, "1/2 3", "",
	                  "route 2: customer 2 needs skills 0x4 that the vehicle lacks");
	build(&s, &p, "1 2/3", "");
	ck_assert_msg(otd_vrp_check(&p, &s, NULL, why, sizeof(why)), "%s", why);
	otd_vrp_solution_cleanup(&s);

	/* A pinned job (a hold) stays on its home vehicle; moved is fine when
	 * not pinned. */
	p.jobs[2].home_vehicle = 1;
	p.jobs[2].pinned = true;
	expect_infeasible(&p, "3 1 2/", "", "route 1: customer 3 is pinned to route 2");
	build(&s, &p, "1 2/3", "");
	ck_assert_msg(otd_vrp_check(&p, &s, NULL, why, sizeof(why)), "%s", why);
	otd_vrp_solution_cleanup(&s);
	p.jobs[2].home_vehicle = -1;
	p.jobs[2].pinned = false;

	/* The first reason in route order is the one given. */
	p.vehicles[0].end = 10;
	expect_infeasible(&p, "1 2 3/", "",
	                  "route 1: customer 3 starts at 22.21, after its due time 20.00");
	otd_vrp_cleanup(&p);
}
END_TEST

START_TEST(rejects_customers_twice_or_missing)
{
	struct otd_vrp p;
	load_tiny(&p);
	expect_infeasible(&p, "1 2/2", "", "customer 2 is on route 1 and on route 2");
	expect_infeasible(&p, "1 1/3", "", "route 1: customer 1 appears twice");
	expect_infeasible(&p, "1/3", "2 2", "customer 2 is unassigned twice");
	expect_infeasible(&p, "1/3", "3 2", "customer 3 is on route 2 and unassigned");
	expect_infeasible(&p, "1/3", "", "customer 2 is on no route and not unassigned");
	otd_vrp_cleanup(&p);
}
END_TEST

START_TEST(rejects_broken_locks)
{
	struct otd_vrp p;
	struct otd_vrp_solution s;
	char why[200];
	load_tiny(&p);
	/* Customers 1 and 2 are done or under way on vehicle 1, in that order. */
	p.jobs[0].locked_vehicle = 0;
	p.jobs[0].locked_pos = 0;
	p.jobs[1].locked_vehicle = 0;
	p.jobs[1].locked_pos = 1;

	build(&s, &p, "1 2/3", "");
	ck_assert_msg(otd_vrp_check(&p, &s, NULL, why, sizeof(why)), "%s", why);
	otd_vrp_solution_cleanup(&s);
	expect_infeasible(&p, "2/1 3", "", "route 2: customer 1 is locked to route 1");
	expect_infeasible(&p, "3 1 2/", "", "route 1: customer 3 comes before locked customer 1");
	expect_infeasible(&p, "1 3 2/", "", "route 1: customer 3 comes before locked customer 2");
	expect_infeasible(
	    &p, "2 1/3", "",
	    "route 1: locked customer 2 comes before locked customer 1, against their "
	    "locked order");
	expect_infeasible(&p, "1/3", "2", "customer 2 is locked to route 1 but unassigned");

	/* A lock to a vehicle the instance lacks is the instance's fault. */
	p.jobs[2].locked_vehicle = 5;
	expect_infeasible(&p, "1 2/3", "",
	                  "customer 3 is locked to route 6, beyond the 2 vehicles");
	otd_vrp_cleanup(&p);
}
END_TEST

START_TEST(counts_soft_lateness_and_moves)
{
	struct otd_vrp p;
	struct otd_vrp_solution s;
	struct otd_vrp_cost cost;
	char why[200];
	load_tiny(&p);
	p.vehicles[0].capacity = -1;
	p.jobs[2].soft = true;
	build(&s, &p, "1 2 3/", "");
	ck_assert_msg(otd_vrp_check(&p, &s, &cost, why, sizeof(why)), "%s", why);
	ck_assert_int_eq(cost.late_jobs, 1);
	ck_assert_double_eq_tol(cost.lateness, 15 + sqrt(52) - 20, 1e-9);
	ck_assert_int_eq(cost.vehicles, 1);
	ck_assert_double_eq_tol(cost.distance, 5 + 5 + sqrt(52) + 4, 1e-9);
	otd_vrp_solution_cleanup(&s);

	/* Soft but on time: nothing counted. */
	build(&s, &p, "1 2/3", "");
	ck_assert(otd_vrp_check(&p, &s, &cost, why, sizeof(why)));
	ck_assert_int_eq(cost.late_jobs, 0);
	ck_assert_double_eq(cost.lateness, 0);
	otd_vrp_solution_cleanup(&s);

	/* Customer 1 was told vehicle 2, customer 3 vehicle 2, customer 2
	 * nothing: serving 1 and 2 on vehicle 1 moves one. Unassigned jobs are
	 * not moves. */
	p.jobs[0].home_vehicle = 1;
	p.jobs[2].home_vehicle = 1;
	build(&s, &p, "1 2/3", "");
	ck_assert(otd_vrp_check(&p, &s, &cost, why, sizeof(why)));
	ck_assert_int_eq(cost.moved, 1);
	otd_vrp_solution_cleanup(&s);
	build(&s, &p, "2/3", "1");
	ck_assert(otd_vrp_check(&p, &s, &cost, why, sizeof(why)));
	ck_assert_int_eq(cost.moved, 0);
	ck_assert_int_eq(cost.unassigned, 1);
	otd_vrp_solution_cleanup(&s);
	/* 2 3 on vehicle 1: 3 (told vehicle 2) is moved and late (soft); 1
	 * on vehicle 2 is home. */
	build(&s, &p, "2 3/1", "");
	ck_assert_msg(otd_vrp_check(&p, &s, &cost, why, sizeof(why)), "%s", why);
	ck_assert_int_eq(cost.moved, 1);
	ck_assert_int_eq(cost.late_jobs, 1);
	ck_assert_double_eq_tol(cost.lateness, 13 + sqrt(52) - 20, 1e-9);
	ck_assert_int_eq(cost.vehicles, 2);
	otd_vrp_solution_cleanup(&s);
	otd_vrp_cleanup(&p);
}
END_TEST

START_TEST(rejects_a_solution_of_the_wrong_shape)
{
	struct otd_vrp p, q;
	struct otd_vrp_solution s;
	char why[200];
	load_tiny(&p);
	char *text = tiny_with_rows("0 0 0 0 0 100 0\n1 3 4 10 0 50 2\n");
	char err[200];
	ck_assert_msg(otd_solomon_parse(text, strlen(text), &q, err, sizeof(err)), "%s", err);
	free(text);
	otd_vrp_solution_init(&s, &q);
	ck_assert(!otd_vrp_check(&p, &s, NULL, why, sizeof(why)));
	ck_assert_str_eq(why, "the solution is for 2 vehicles and 1 customers, the instance has 2 "
	                      "and 3");
	otd_vrp_solution_cleanup(&s);
	build(&s, &p, "1 2/3", "");
	s.order[1] = 7;
	ck_assert(!otd_vrp_check(&p, &s, NULL, why, sizeof(why)));
	ck_assert_str_eq(why, "route 1: stop 2 is job 7, beyond the 3 customers");
	otd_vrp_solution_cleanup(&s);
	otd_vrp_cleanup(&q);
	otd_vrp_cleanup(&p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vrp");
	TCase *tp = tcase_create("solomon");
	tcase_set_timeout(tp, 60);
	tcase_add_test(tp, parses_a_small_instance);
	tcase_add_test(tp, parses_crlf_decimals_and_a_long_name);
	tcase_add_test(tp, rejects_malformed_instances_by_line);
	tcase_add_test(tp, refuses_more_than_10001_places);
	tcase_add_test(tp, parses_route_files);
	suite_add_tcase(s, tp);
	TCase *tc = tcase_create("check");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, accepts_a_feasible_solution_with_its_cost);
	tcase_add_test(tc, rejects_lateness_shift_end_capacity_and_skills);
	tcase_add_test(tc, rejects_customers_twice_or_missing);
	tcase_add_test(tc, rejects_broken_locks);
	tcase_add_test(tc, counts_soft_lateness_and_moves);
	tcase_add_test(tc, rejects_a_solution_of_the_wrong_shape);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
