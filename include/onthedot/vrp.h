/* onthedot: vehicle routing problems with time windows (VRPTW), pure.
 *
 * The instance and solution types the optimiser (onthedot/optimise.h)
 * works on, the Solomon text format (the Gehring and Homberger files use
 * the same), route files ("Route #k: 12 5 33"), and a feasibility checker
 * that is separate code from the solver: it re-times every route from the
 * instance alone and says feasible or why not.
 *
 * The model. Places are nodes 0..n_nodes-1 of two n_nodes x n_nodes
 * row-major matrices: dist (what the objective sums: distance, or travel
 * seconds in field mode) and time (travel time). Each job sits on one
 * node; a vehicle leaves its start node no earlier than its start, serves
 * its jobs in order and is back at its end node by its end. It arrives at
 * a job, waits for the window to open (a) when early, starts service at
 * max(arrival, a), which must be <= b unless the job is soft (late
 * allowed: the lateness, start - b, is counted), and leaves after the
 * service time. A vehicle serves a job only when it has every skill bit
 * the job needs (a pinned job goes on its home vehicle only); the
 * demands on one route sum to at most its capacity
 * (capacity < 0: no limit). A locked job is a fixed part of one vehicle's
 * route: locked jobs form the head of that route in locked_pos order and
 * never move (a visit done or under way).
 */
#ifndef ONTHEDOT_VRP_H
#define ONTHEDOT_VRP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Slack allowed on window and shift bounds, in time units: floating-point
 * sums of Euclidean legs must not turn an exact fit into a miss. */
#define OTD_VRP_EPS 1e-6

struct otd_vrp_job {
	int node;           /* place: index into the matrices */
	double a, b;        /* service starts in [a, b] */
	double service;     /* service time, >= 0 */
	int demand;         /* >= 0 */
	uint64_t skills;    /* skill bits needed; 0: none */
	bool soft;          /* service may start after b; lateness is counted */
	bool required;      /* field and plan objectives: late or on no route, it
	                     * outweighs any number of promises (a lunch break) */
	int locked_vehicle; /* >= 0: fixed part of that vehicle's route */
	int locked_pos;     /* its place among that vehicle's locked jobs */
	int home_vehicle;   /* the vehicle the customer was told of; -1: none */
	bool pinned;        /* may go on home_vehicle only (a hold: capacity
	                     * promised on that vehicle, anywhere in its route) */
	int64_t id;         /* caller's id (Solomon: the customer number) */
};

struct otd_vrp_vehicle {
	int start_node, end_node;
	double start, end; /* leave no earlier than start; back by end */
	int capacity;      /* < 0: no limit */
	uint64_t skills;
	int64_t id; /* caller's id */
};

struct otd_vrp {
	int n_jobs, n_vehicles, n_nodes;
	struct otd_vrp_job *jobs;
	struct otd_vrp_vehicle *vehicles;
	double *dist; /* n_nodes * n_nodes */
	double *time; /* n_nodes * n_nodes; may be the same array as dist */
	char name[64];
};

/* Frees what an instance owns (jobs, vehicles, dist and time; time once
 * when it is dist) and zeroes it. Safe on a zeroed instance. */
void otd_vrp_cleanup(struct otd_vrp *p);

/* A solution: route v is order[first[v] .. first[v+1]-1] (job indices);
 * jobs on no route are unassigned[0 .. n_unassigned-1]. */
struct otd_vrp_solution {
	int n_vehicles, n_jobs;
	int *first;      /* n_vehicles + 1 */
	int *order;      /* n_jobs */
	int *unassigned; /* n_jobs */
	int n_unassigned;
};

/* Allocates an empty solution for p (every job unassigned). */
void otd_vrp_solution_init(struct otd_vrp_solution *s, const struct otd_vrp *p);
void otd_vrp_solution_cleanup(struct otd_vrp_solution *s);

/* What a solution costs, re-timed from the instance. */
struct otd_vrp_cost {
	int unassigned;      /* jobs on no route */
	int required_missed; /* required jobs late or on no route */
	int late_jobs;       /* soft jobs started after b */
	double lateness;
	int moved;       /* jobs on a route other than their home_vehicle */
	int vehicles;    /* non-empty routes */
	double distance; /* sum of dist over every leg driven */
	double time;     /* sum of time over every leg driven */
};

/* The feasibility checker. Re-times every route of s against p and fills
 * *cost (may be NULL). Returns true when s is feasible: every job appears
 * exactly once (on a route or unassigned), every route respects windows,
 * shift end, capacity, skills, pins (a pinned job on no other vehicle than
 * its home_vehicle) and locks (a locked job on its vehicle, at the head in
 * locked_pos order, never unassigned). Else false with the
 * first reason in why (a sentence naming the route and job: "route 3:
 * customer 17 starts at 1002.50, after its due time 967.00"), when why_len > 0.
 * Job names in messages are the caller's ids. */
bool otd_vrp_check(const struct otd_vrp *p, const struct otd_vrp_solution *s,
                   struct otd_vrp_cost *cost, char *why, size_t why_len);

/* Parses a Solomon (or Gehring and Homberger) instance from text: a name
 * line, "VEHICLE", "NUMBER CAPACITY" and their values, "CUSTOMER", a
 * header line, then one row per place: number, x, y, demand, ready time,
 * due date, service time. Row 0 is the depot; customers must be numbered
 * 1..n in order. Builds the file's number of identical vehicles (start
 * and end at the depot, within its window), jobs with id = customer number on node = number,
 * and one Euclidean matrix (double, not rounded) as both dist and time.
 * Returns true, or false with a message naming the line and what is wrong
 * in err (err_len > 0). Refuses more than 10,001 places (10,000
 * customers: the matrix alone is 800 MB), more than 100,000 vehicles and
 * numbers above 1e9 in size. */
bool otd_solomon_parse(const char *text, size_t len, struct otd_vrp *p, char *err, size_t err_len);

/* Parses a route file for p: lines "Route #k: c1 c2 ..." with customer ids
 * (job id values); other lines are ignored (a "Cost" or "vehicles" line).
 * Route k goes to vehicle k-1. Fills s (initialised here; clean up with
 * otd_vrp_solution_cleanup); jobs on no route are unassigned. Returns
 * false with a message when a line is malformed, names an unknown
 * customer, a customer twice, or a route number twice or beyond the
 * vehicles; s is then left zeroed (cleanup is optional). */
bool otd_vrp_routes_parse(const struct otd_vrp *p, const char *text, size_t len,
                          struct otd_vrp_solution *s, char *err, size_t err_len);

#endif
