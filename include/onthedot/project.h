/* onthedot: projected arrivals of a visitor's remaining appointments, pure.
 *
 * DESIGN.md, "Risk" and "Uncertainty". From the visitor's current state
 * the route is walked forward by Monte Carlo over the duration model of
 * each visit (log-normal: median, sigma) and the travel model of each leg
 * (the mean of otd_travel_leg at the hour of departure, times the learned
 * factor of that hour, with log-normal noise of sigma travel_spread whose
 * mean is 1). For each remaining stop i it gives the arrival distribution:
 * P(late) = P(X_i >= b_i) where X_i is the arrival before any wait, and the
 * expected time on site and the p10..p90 band of max(a_i, X_i) (a visitor
 * never starts before a window opens: they wait).
 *
 * The current state conditions the first step:
 *   IDLE        at (lat, lon); leaves at max(now, not_before) + late_s.
 *   TRAVELLING  left (lat, lon) at since for stops[0]; the leg's duration T
 *               is drawn conditioned on T > now - since (not arrived yet);
 *               arrival since + T + late_s.
 *   ON_SITE     at stops[0] since `since`; its duration D is drawn
 *               conditioned on D > now - since; leaves at since + D +
 *               late_s. stops[0]'s result is the arrival itself (p_late 1
 *               when since >= b, else 0; band and expected = since).
 *   ON_BREAK    at (lat, lon) since `since` for break_s; leaves at
 *               max(since + break_s, now) + late_s.
 * A conditioned draw with sigma 0 is max(median, elapsed).
 * Break stops (is_break) are taken where the visitor is: no travel, they
 * start at max(a, arrival) and last dur_median (dur_sigma applies); their
 * results are filled like any stop's but mean nothing to a customer.
 *
 * Sampling is stratified (each stop's and leg's draws are the 1/samples
 * quantiles of their distribution in an order shuffled per stop by a
 * generator seeded from seed), so it is deterministic for a seed and its
 * error falls faster than plain Monte Carlo. */
#ifndef ONTHEDOT_PROJECT_H
#define ONTHEDOT_PROJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onthedot/route.h"

struct otd_proj_stop {
	double lat, lon;   /* ignored for breaks */
	int64_t a, b;      /* window [a, b), UTC seconds */
	double dur_median; /* seconds, > 0 */
	double dur_sigma;  /* >= 0 */
	bool is_break;
};

enum otd_proj_activity {
	OTD_PROJ_IDLE,
	OTD_PROJ_TRAVELLING,
	OTD_PROJ_ON_SITE,
	OTD_PROJ_ON_BREAK,
};

struct otd_proj_state {
	enum otd_proj_activity activity;
	int64_t since;      /* when the activity began */
	double lat, lon;    /* IDLE, ON_BREAK: where the visitor is; TRAVELLING:
	                     * where the journey began */
	double late_s;      /* the visitor's "late N": the activity ends this much
	                     * later, >= 0 */
	double break_s;     /* ON_BREAK: its planned length */
	int64_t not_before; /* IDLE: no departure before (shift start); 0: none */
};

struct otd_proj_model {
	const struct otd_travel_model *travel;
	const struct otd_tz *tz;  /* local hour of a departure; NULL: UTC */
	double travel_factor[24]; /* learned, by local hour of departure; 1: as the model */
	double travel_spread;     /* sigma of a leg's noise, >= 0 */
	unsigned samples;         /* >= 1 (the service uses at least 256) */
	uint64_t seed;
};

struct otd_proj_result {
	double p_late;                /* P(X >= b) */
	double expected;              /* mean of max(a, X), UTC seconds */
	double band_early, band_late; /* its p10 and p90 */
};

/* Sets every travel_factor to 1, travel_spread to the model's spread,
 * samples to 256 and seed to 1. */
void otd_proj_model_init(struct otd_proj_model *m, const struct otd_travel_model *travel,
                         const struct otd_tz *tz);

/* Projects stops[0..n) (in visiting order, the first being the one
 * travelled to or on site at) from state s at now into out[0..n). Returns
 * 0, or -1 when memory runs out (out is then untouched). n == 0 does
 * nothing. */
int otd_project(const struct otd_proj_model *m, const struct otd_proj_state *s,
                const struct otd_proj_stop *stops, size_t n, int64_t now,
                struct otd_proj_result *out);

/* The standard normal distribution function Phi(x). */
double otd_normal_cdf(double x);

#endif
