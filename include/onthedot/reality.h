/* onthedot: the simulator's model of reality, pure.
 *
 * The day simulator (src/sim) plays visitors whose visits and journeys
 * take as long as reality says, not as long as the planner thinks: each
 * draw here is apart from the planning model (durations and travel scaled
 * and spread on their own, overruns, traffic by hour, bad weather), and
 * visitors tap their phones as people do (some taps late, some forgotten
 * until the next one). Every draw comes from an otd_rng the caller owns,
 * so a run is the same for the same seed. No clock, no I/O. */
#ifndef ONTHEDOT_REALITY_H
#define ONTHEDOT_REALITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- random numbers ------------------------------------------------------ */

/* xoshiro256** seeded through splitmix64: small, fast, and the same
 * stream on every machine for a seed. Not for secrets. */
struct otd_rng {
	uint64_t s[4];
};

/* Seeds r from seed (any value, 0 included). */
void otd_rng_seed(struct otd_rng *r, uint64_t seed);

/* A seed for an independent stream: mixes seed with two labels (such as a
 * stream number and an object id) through splitmix64, so streams drawn for
 * different labels do not move together and adding draws to one stream
 * never shifts another. */
uint64_t otd_rng_derive(uint64_t seed, uint64_t a, uint64_t b);

/* The next 64 random bits. */
uint64_t otd_rng_next(struct otd_rng *r);

/* Uniform on [0, 1) with 53 bits. */
double otd_rng_uniform(struct otd_rng *r);

/* Uniform integer on [lo, hi] (lo <= hi), without modulo bias. Takes
 * one value from r almost always, but rejection may take more (with
 * probability below (hi - lo + 1) / 2^64), so draws that must keep a
 * stream in step use otd_rng_uniform instead. */
int64_t otd_rng_range(struct otd_rng *r, int64_t lo, int64_t hi);

/* A standard normal deviate (Box-Muller, the second value discarded so
 * the stream position depends on the number of calls only): takes exactly
 * two values from r. */
double otd_rng_normal(struct otd_rng *r);

/* exp(sigma * N(0,1)): a log-normal factor with median 1. sigma 0 gives 1
 * (the normal is drawn all the same: two values from r). */
double otd_rng_lognormal(struct otd_rng *r, double sigma);

/* ---- reality ----------------------------------------------------------- */

#define OTD_REALITY_TRAFFIC_MAX 8

/* Travel is slower (factor > 1) or faster over local minutes of the day
 * [from_minute, to_minute). */
struct otd_traffic_band {
	int from_minute, to_minute; /* 0..1440 */
	double factor;              /* > 0 */
};

struct otd_reality {
	/* A visit takes median x duration_factor, log-normal spread
	 * duration_spread; overrun_share of visits take overrun_min_s to
	 * overrun_max_s (uniform) more. */
	double duration_factor, duration_spread;
	double overrun_share;
	int overrun_min_s, overrun_max_s;
	/* A journey takes the planner's mean x travel_factor x the traffic band
	 * of its departure minute x weather_factor, log-normal spread
	 * travel_spread. */
	double travel_factor, travel_spread;
	double weather_factor; /* 1: an ordinary day */
	struct otd_traffic_band traffic[OTD_REALITY_TRAFFIC_MAX];
	size_t n_traffic;
	/* Taps: late_tap_share of taps come 1 s to late_tap_max_s late;
	 * forgotten_tap_share of "arrived" taps are forgotten until the visitor
	 * taps "done" (then both are sent, arrived first, at that moment). */
	double late_tap_share;
	int late_tap_max_s;
	double forgotten_tap_share;
};

/* An ordinary reality: the model itself (factors 1, spreads 0, nothing
 * overruns, every tap on time, no traffic bands). The amounts that only
 * matter once a share is set are 30 to 90 minutes of overrun and taps up
 * to 10 minutes late. */
void otd_reality_default(struct otd_reality *r);

/* Checks r: factors > 0 and finite, spreads in [0, 2], shares in [0, 1],
 * 0 <= overrun_min_s <= overrun_max_s <= 86400, 0 <= late_tap_max_s <=
 * 86400, n_traffic <= OTD_REALITY_TRAFFIC_MAX and bands within the day
 * (0 <= from_minute < to_minute <= 1440). Returns NULL when sound, else
 * the name of the first bad member in the struct's own terms
 * ("duration_factor", "overrun_max_s", "traffic[2].factor"...), static
 * storage. */
const char *otd_reality_check(const struct otd_reality *r);

/* The actual length of a visit whose model median is median_s:
 * median_s x duration_factor x lognormal(duration_spread), plus, with
 * probability overrun_share, a uniform overrun in [overrun_min_s,
 * overrun_max_s]; always >= 60 s. Draws from g a fixed number of times
 * (3: the log-normal, the overrun test, the overrun amount; 4 values of
 * otd_rng_next), whatever the outcome, so a stream's position does not
 * depend on earlier results. */
double otd_reality_duration_s(const struct otd_reality *r, double median_s, struct otd_rng *g);

/* The actual length of a journey the planner expects to take mean_s on
 * average, departing at local minute minute_of_day (0..1439): mean_s x
 * travel_factor x the factor of the first traffic band holding
 * minute_of_day (1 when none does) x weather_factor x
 * lognormal(travel_spread); 0 for mean_s <= 0, else >= 1 s. Draws from g
 * once (the log-normal: 2 values of otd_rng_next), for mean_s <= 0 too. */
double otd_reality_travel_s(const struct otd_reality *r, double mean_s, int minute_of_day,
                            struct otd_rng *g);

/* How late a tap is sent, in seconds: with probability late_tap_share
 * 1..late_tap_max_s (uniform), else 0. Draws from g twice (2 values of
 * otd_rng_next), whatever the outcome. */
int otd_reality_tap_delay_s(const struct otd_reality *r, struct otd_rng *g);

/* Whether an "arrived" tap is forgotten until "done" (probability
 * forgotten_tap_share). Draws from g once (1 value of otd_rng_next). */
bool otd_reality_tap_forgotten(const struct otd_reality *r, struct otd_rng *g);

#endif
