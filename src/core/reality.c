/* The simulator's random numbers and its model of reality.
 *
 * xoshiro256** and splitmix64 are David Blackman and Sebastiano Vigna's
 * public-domain generators (https://prng.di.unimi.it/, "Scrambled linear
 * pseudorandom number generators", ACM TOMS 47(4), 2021), written out here
 * from the reference code. Each reality draw takes a fixed number of
 * values from its stream whatever the outcome, so that a simulation that
 * changes one outcome does not shift every later draw. */
#include "onthedot/reality.h"

#include <assert.h>
#include <math.h>

/* ---- random numbers ------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void otd_rng_seed(struct otd_rng *r, uint64_t seed)
{
	uint64_t x = seed;
	for(int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
	/* The all-zero state would stay zero; splitmix64 never yields four
	 * zeros in a row, but the generator must not depend on luck. */
	if((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
		r->s[0] = 1;
}

uint64_t otd_rng_derive(uint64_t seed, uint64_t a, uint64_t b)
{
	/* Each step is a bijection of its input (splitmix64's finaliser is),
	 * so for a fixed seed and a, different b give different seeds, and
	 * likewise for a. */
	uint64_t x = seed;
	x = splitmix64(&x) ^ a;
	x = splitmix64(&x) ^ b;
	return splitmix64(&x);
}

uint64_t otd_rng_next(struct otd_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double otd_rng_uniform(struct otd_rng *r)
{
	return (double)(otd_rng_next(r) >> 11) * 0x1.0p-53;
}

int64_t otd_rng_range(struct otd_rng *r, int64_t lo, int64_t hi)
{
	assert(lo <= hi);
	uint64_t span = (uint64_t)hi - (uint64_t)lo + 1;
	if(span == 0) /* the whole 64-bit range */
		return (int64_t)otd_rng_next(r);
	/* Values below threshold = 2^64 mod span would make the low
	 * remainders more likely: draw again (rarely: fewer than span in
	 * 2^64 values are refused). */
	uint64_t threshold = -span % span;
	uint64_t x;
	do
		x = otd_rng_next(r);
	while(x < threshold);
	return (int64_t)((uint64_t)lo + x % span);
}

double otd_rng_normal(struct otd_rng *r)
{
	/* Box-Muller; 1 - u lies in (0, 1], so the log is finite. */
	double u1 = 1.0 - otd_rng_uniform(r);
	double u2 = otd_rng_uniform(r);
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

double otd_rng_lognormal(struct otd_rng *r, double sigma)
{
	double z = otd_rng_normal(r); /* drawn even for sigma 0: a fixed count */
	return sigma == 0.0 ? 1.0 : exp(sigma * z);
}

/* ---- reality ----------------------------------------------------------- */

void otd_reality_default(struct otd_reality *r)
{
	*r = (struct otd_reality){
	    .duration_factor = 1.0,
	    .duration_spread = 0.0,
	    .overrun_share = 0.0,
	    .overrun_min_s = 30 * 60,
	    .overrun_max_s = 90 * 60,
	    .travel_factor = 1.0,
	    .travel_spread = 0.0,
	    .weather_factor = 1.0,
	    .n_traffic = 0,
	    .late_tap_share = 0.0,
	    .late_tap_max_s = 10 * 60,
	    .forgotten_tap_share = 0.0,
	};
}

static bool factor_ok(double f)
{
	return isfinite(f) && f > 0.0;
}

static bool in_range(double v, double lo, double hi)
{
	return v >= lo && v <= hi; /* false for NaN */
}

/* Static names for the members of each band, so the result needs no
 * buffer (and no lock). */
#define BAND_NAMES(i)                                                                              \
	{                                                                                          \
		"traffic[" #i "].from_minute", "traffic[" #i "].to_minute",                        \
		    "traffic[" #i "].factor"                                                       \
	}
static const char *const band_names[OTD_REALITY_TRAFFIC_MAX][3] = {
    BAND_NAMES(0), BAND_NAMES(1), BAND_NAMES(2), BAND_NAMES(3),
    BAND_NAMES(4), BAND_NAMES(5), BAND_NAMES(6), BAND_NAMES(7),
};
_Static_assert(OTD_REALITY_TRAFFIC_MAX == 8, "band_names lists 8 bands");

const char *otd_reality_check(const struct otd_reality *r)
{
	if(!factor_ok(r->duration_factor))
		return "duration_factor";
	if(!in_range(r->duration_spread, 0.0, 2.0))
		return "duration_spread";
	if(!in_range(r->overrun_share, 0.0, 1.0))
		return "overrun_share";
	if(r->overrun_min_s < 0 || r->overrun_min_s > 86400)
		return "overrun_min_s";
	if(r->overrun_max_s < r->overrun_min_s || r->overrun_max_s > 86400)
		return "overrun_max_s";
	if(!factor_ok(r->travel_factor))
		return "travel_factor";
	if(!in_range(r->travel_spread, 0.0, 2.0))
		return "travel_spread";
	if(!factor_ok(r->weather_factor))
		return "weather_factor";
	if(r->n_traffic > OTD_REALITY_TRAFFIC_MAX)
		return "n_traffic";
	for(size_t i = 0; i < r->n_traffic; i++) {
		const struct otd_traffic_band *b = &r->traffic[i];
		if(b->from_minute < 0 || b->from_minute >= 1440)
			return band_names[i][0];
		if(b->to_minute <= b->from_minute || b->to_minute > 1440)
			return band_names[i][1];
		if(!factor_ok(b->factor))
			return band_names[i][2];
	}
	if(!in_range(r->late_tap_share, 0.0, 1.0))
		return "late_tap_share";
	if(r->late_tap_max_s < 0 || r->late_tap_max_s > 86400)
		return "late_tap_max_s";
	if(!in_range(r->forgotten_tap_share, 0.0, 1.0))
		return "forgotten_tap_share";
	return NULL;
}

double otd_reality_duration_s(const struct otd_reality *r, double median_s, struct otd_rng *g)
{
	double d = median_s * r->duration_factor * otd_rng_lognormal(g, r->duration_spread);
	double u_share = otd_rng_uniform(g);
	double u_amount = otd_rng_uniform(g);
	if(u_share < r->overrun_share)
		d += r->overrun_min_s + u_amount * (r->overrun_max_s - r->overrun_min_s);
	return d < 60.0 ? 60.0 : d;
}

/* The traffic factor of the first band holding minute m; 1 in none. */
static double traffic_factor(const struct otd_reality *r, int m)
{
	for(size_t i = 0; i < r->n_traffic && i < OTD_REALITY_TRAFFIC_MAX; i++)
		if(m >= r->traffic[i].from_minute && m < r->traffic[i].to_minute)
			return r->traffic[i].factor;
	return 1.0;
}

double otd_reality_travel_s(const struct otd_reality *r, double mean_s, int minute_of_day,
                            struct otd_rng *g)
{
	double spread = otd_rng_lognormal(g, r->travel_spread);
	if(!(mean_s > 0.0))
		return 0.0;
	double t = mean_s * r->travel_factor * traffic_factor(r, minute_of_day) *
	           r->weather_factor * spread;
	return t < 1.0 ? 1.0 : t;
}

int otd_reality_tap_delay_s(const struct otd_reality *r, struct otd_rng *g)
{
	double u_share = otd_rng_uniform(g);
	double u_amount = otd_rng_uniform(g);
	if(!(u_share < r->late_tap_share) || r->late_tap_max_s < 1)
		return 0;
	/* 1..late_tap_max_s from one uniform (not otd_rng_range, whose
	 * rejection could take a second value): the bias is below 2^-40. */
	int s = 1 + (int)(u_amount * r->late_tap_max_s);
	return s > r->late_tap_max_s ? r->late_tap_max_s : s;
}

bool otd_reality_tap_forgotten(const struct otd_reality *r, struct otd_rng *g)
{
	return otd_rng_uniform(g) < r->forgotten_tap_share;
}
