/* onthedot: the route optimiser, pure (DESIGN.md, "Optimiser").
 *
 * A VRPTW solver on the model of onthedot/vrp.h: hard time windows (soft
 * jobs excepted), shifts from and back to each vehicle's base, skills,
 * capacity and fixed parts. Ruin and recreate with string removals and
 * simulated annealing (SISR, Christiaens and Vanden Berghe, 2020): each
 * iteration removes a few strings of consecutive jobs near a random seed
 * job and puts every unassigned job back at its cheapest feasible place
 * (skipping places at random, "blinks"); the result replaces the current
 * solution when the annealing criterion accepts it. Insertion checks are
 * O(1) from cached earliest and latest service starts (route timing
 * slack); a route holding soft jobs is re-timed from the insertion point.
 *
 * Objectives, compared in order (the solver never trades a higher tier
 * for a lower one):
 *   distance  unassigned jobs, distance
 *   vehicles  unassigned jobs, vehicles used, distance
 *   field     required jobs missed (late or unassigned), promises broken
 *             (unassigned or late soft jobs), then
 *             unassigned jobs (a visit made late beats no visit), total
 *             lateness, jobs moved off their home_vehicle, travel (dist)
 *   plan      the same without the moves: required missed, promises
 *             broken, unassigned,
 *             lateness, travel (planning a later day: every customer whose
 *             visitor changes is told, and travel counts more)
 *
 * Deterministic: the same instance, seed and iteration budget give the
 * same solution with the same build (the annealing uses libm's log and
 * pow, whose last bits may differ between C libraries). Travel times are
 * assumed to satisfy the triangle inequality (Euclidean and great-circle
 * matrices do): the insertion scan stops at the first place whose start
 * is already too late. A wall-clock cap (through the caller's clock: core reads
 * no clock) fixes the budget from the speed of the first iterations, so a
 * capped run that finishes is reproduced by its iteration count.
 */
#ifndef ONTHEDOT_OPTIMISE_H
#define ONTHEDOT_OPTIMISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onthedot/vrp.h"

enum otd_opt_objective {
	OTD_OPT_DISTANCE,
	OTD_OPT_VEHICLES,
	OTD_OPT_FIELD,
	OTD_OPT_PLAN,
};

/* Iterations run at the starting temperature before a capped run fixes
 * its budget (and before any run starts cooling). */
#define OTD_OPT_CALIBRATION 500

struct otd_opt_params {
	enum otd_opt_objective objective;
	uint64_t seed;
	/* The iteration budget (> 0), or 0 with seconds > 0 and now set: the
	 * budget is then fixed after OTD_OPT_CALIBRATION iterations so that
	 * the run ends by the cap. */
	long iterations;
	double seconds;           /* wall-clock cap; 0: none */
	double (*now)(void *ctx); /* monotonic seconds; needed with seconds */
	void *now_ctx;
	/* A feasible solution to start from (NULL: start from the locked
	 * jobs only and insert the rest). */
	const struct otd_vrp_solution *initial;
};

struct otd_opt_result {
	long iterations;          /* done */
	long budget;              /* the budget the cooling schedule used */
	bool cut;                 /* stopped by the cap before the budget */
	struct otd_vrp_cost cost; /* of the solution returned */
};

/* Solves p into *out (initialised here; clean up with
 * otd_vrp_solution_cleanup): the best solution found, which always
 * satisfies every hard constraint (otd_vrp_check agrees) and keeps every
 * locked job at its place. Jobs that fit nowhere are left unassigned.
 * Returns false, with the reason in err (err_len > 0), only when the
 * parameters or p are unusable (no budget, a locked job whose fixed part
 * is itself infeasible, an initial solution that breaks a constraint). */
bool otd_optimise(const struct otd_vrp *p, const struct otd_opt_params *params,
                  struct otd_vrp_solution *out, struct otd_opt_result *res, char *err,
                  size_t err_len);

/* True when cost a is strictly better than cost b under objective o. */
bool otd_opt_better(enum otd_opt_objective o, const struct otd_vrp_cost *a,
                    const struct otd_vrp_cost *b);

#endif
