/* Projected arrivals of a visitor's remaining appointments (Monte Carlo).
 *
 * The model is the one of onthedot/project.h. Sampling is Latin hypercube
 * sampling (M. D. McKay, R. J. Beckman, W. J. Conover, "A comparison of
 * three methods for selecting values of input variables in the analysis of
 * output from a computer code", Technometrics 21(2), 1979): with K
 * samples, the k-th draw of a variable is the quantile (k + 0.5) / K of
 * its distribution, and every variable (each leg's noise, each stop's
 * duration, the conditioned first draw) gets its own random permutation of
 * k from a splitmix64 generator seeded with the model's seed. Samples run
 * side by side: the K departures from one stop are carried to the next in
 * one array, so each step is a tight loop over K doubles.
 *
 * What is computed once per call rather than per sample:
 *   - the K standard normal quantiles z_k (symmetric: half of them);
 *   - one table exp(sigma z_k) per distinct sigma (durations) and one of
 *     exp(s z_k - s^2 / 2) for the travel noise;
 *   - each leg's great-circle kilometres;
 *   - the travel pace (s per km, times the learned factor) of each local
 *     hour over the HOURS_AHEAD hours from the start of now's local hour,
 *     in a table indexed by whole hours since then. Each entry takes the
 *     zone's offset at the start of its hour, so a clock change inside
 *     the horizon is exact for zones whose offsets move by whole hours on
 *     a UTC hour boundary (all of Europe, the Americas); for a zone whose
 *     offset changes by a fraction of an hour (Lord Howe Island), the
 *     hours after the change are those of the old offset's hour grid, up
 *     to 30 minutes off. A departure outside the table (before now, or
 *     more than HOURS_AHEAD hours on) looks its hour up exactly.
 * Instants are held as seconds relative to now (small doubles, exact to
 * far below a second).
 *
 * The band is the p10 and p90 of max(a, X): the order statistics of ranks
 * ceil(0.1 K) and ceil(0.9 K) (1-based), found by selection (Hoare's
 * FIND, Floyd-Rivest style: a narrow bracket from a small sample, one
 * branch-free pass, then a search of the few inside; the plain FIND when
 * the bracket misses). When enough samples wait for the window to open,
 * the quantile is a itself and nothing is selected. */
#include "onthedot/project.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HOUR 3600
#define INV_HOUR (1.0 / 3600.0)
#define HOURS_AHEAD 48

static inline double dmax(double a, double b)
{
	return a > b ? a : b;
}

/* ---- the generator: splitmix64 (Steele, Lea, Flood, "Fast splittable
 * pseudorandom number generators", OOPSLA 2014) ----------------------- */

static inline uint64_t mix_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Shuffles perm[0..k) (Fisher-Yates; Lemire's multiply-shift for the
 * bounded index, two indices per 64-bit output; its bias, below k / 2^32,
 * is far below the sampling error). Shuffling an already shuffled array
 * again gives a fresh uniform permutation, so one buffer serves every
 * variable in turn. */
static void shuffle(uint32_t *perm, size_t k, uint64_t *state)
{
	size_t i = k;
	while(i > 1) {
		uint64_t r = mix_next(state);
		size_t j = (size_t)(((r & 0xffffffffULL) * (uint64_t)i) >> 32);
		i--;
		uint32_t t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
		if(i <= 1)
			break;
		j = (size_t)(((r >> 32) * (uint64_t)i) >> 32);
		i--;
		t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
}

/* ---- the normal distribution ---------------------------------------- */

double otd_normal_cdf(double x)
{
	return 0.5 * erfc(-x / M_SQRT2);
}

/* P(Z > x), accurate far into the upper tail (where 1 - Phi(x) cancels). */
static double normal_upper(double x)
{
	return 0.5 * erfc(x / M_SQRT2);
}

/* Acklam's rational approximation of the inverse normal CDF, 0 < q < 1,
 * relative error below 1.15e-9: the unrefined form of
 * otd_normal_quantile, whose Halley step (an erfc and an exp) would cost
 * more than the rest of a projection at 256 samples and gains nothing at
 * a sampling error of 1e-3. */
static double quantile_fast(double q)
{
	static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
	                           -2.759285104469687e+02, 1.383577518672690e+02,
	                           -3.066479806614716e+01, 2.506628277459239e+00};
	static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
	                           -1.556989798598866e+02, 6.680131188771972e+01,
	                           -1.328068155288572e+01};
	static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
	                           -2.400758277161838e+00, -2.549732539343734e+00,
	                           4.374664141464968e+00,  2.938163982698783e+00};
	static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
	                           2.445134137142996e+00, 3.754408661907416e+00};
	const double low = 0.02425;

	assert(q > 0 && q < 1);
	if(q < low || q > 1 - low) {
		double t = sqrt(-2 * log(q < low ? q : 1 - q));
		double x = (((((c[0] * t + c[1]) * t + c[2]) * t + c[3]) * t + c[4]) * t + c[5]) /
		           ((((d[0] * t + d[1]) * t + d[2]) * t + d[3]) * t + 1);
		return q > 1 - low ? -x : x;
	}
	double t = q - 0.5, r = t * t;
	return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * t /
	       (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/* z[k] = Phi^-1((k + 0.5) / n), using z[n - 1 - k] = -z[k]. */
static void fill_quantiles(double *z, size_t n)
{
	for(size_t k = 0; k < n / 2; k++) {
		z[k] = quantile_fast(((double)k + 0.5) / (double)n);
		z[n - 1 - k] = -z[k];
	}
	if(n % 2)
		z[n / 2] = 0;
}

/* t[k] = exp(sigma z[k]) * scale, using the symmetry of z. */
static void fill_multipliers(double *t, const double *z, size_t n, double sigma, double scale)
{
	for(size_t k = 0; k < n / 2; k++) {
		double e = exp(sigma * z[k]);
		t[k] = e * scale;
		t[n - 1 - k] = scale / e;
	}
	if(n % 2)
		t[n / 2] = scale;
}

/* The stratified draws of a log-normal variable (median e^mu, sigma)
 * conditioned on exceeding elapsed, into v[0..n) in increasing order: u_k
 * runs over [Phi((ln elapsed - mu) / sigma), 1) in n equal strata. Worked
 * on the upper tail, 1 - u, so that an elapsed far beyond the median keeps
 * its precision; where even that underflows the draw is elapsed itself.
 * sigma 0: max(median, elapsed) (project.h). elapsed <= 0 conditions
 * nothing (z: the unconditioned quantiles). */
static void fill_conditioned(double *v, const double *z, size_t n, double mu, double sigma,
                             double elapsed)
{
	if(sigma <= 0) {
		double x = dmax(exp(mu), elapsed);
		for(size_t k = 0; k < n; k++)
			v[k] = x;
		return;
	}
	if(!(elapsed > 0)) {
		fill_multipliers(v, z, n, sigma, exp(mu));
		return;
	}
	double tail = normal_upper((log(elapsed) - mu) / sigma);
	for(size_t k = 0; k < n; k++) {
		double q = tail * ((double)(n - k) - 0.5) / (double)n;
		/* Rounding can leave a draw a hair below elapsed: it is not. */
		v[k] = q > 0 ? dmax(elapsed, exp(mu - sigma * quantile_fast(q))) : elapsed;
	}
}

/* ---- selection ------------------------------------------------------ */

static void sort_small(double *v, size_t n)
{
	for(size_t i = 1; i < n; i++) {
		double x = v[i];
		size_t j = i;
		while(j > 0 && v[j - 1] > x) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
}

/* Puts the element of rank r (0-based) of v[lo..hi) in place, smaller ones
 * before it, larger after (Hoare's FIND, median-of-three pivots). */
static double select_rank(double *v, size_t lo, size_t hi, size_t r)
{
	assert(lo <= r && r < hi);
	while(hi - lo > 16) {
		size_t mid = lo + (hi - lo) / 2;
		double a = v[lo], b = v[mid], c = v[hi - 1];
		double p = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
		size_t i = lo, j = hi - 1;
		for(;;) {
			while(v[i] < p)
				i++;
			while(v[j] > p)
				j--;
			if(i >= j)
				break;
			double t = v[i];
			v[i] = v[j];
			v[j] = t;
			i++;
			j--;
		}
		/* v[lo..j] <= p <= v[j+1..hi) */
		if(r <= j)
			hi = j + 1;
		else
			lo = j + 1;
	}
	sort_small(v + lo, hi - lo);
	return v[r];
}

/* Selection with a bracket (after R. W. Floyd, R. L. Rivest, "Expected
 * time bounds for selection", CACM 18(3), 1975): a sorted sample of
 * SEL_SAMPLE values (the samples' order is random: every draw went
 * through a random permutation) brackets the rank; one branch-free pass
 * counts the values below the bracket and gathers those inside into tmp;
 * when the rank falls inside, only those few are searched, otherwise
 * (rare, or an order that was not random after all) the whole array. */
#define SEL_SAMPLE 32
#define SEL_MIN 128
#define SEL_SPREAD 3

static void sample_sorted(const double *v, size_t n, double *s)
{
	size_t stride = n / SEL_SAMPLE;
	for(size_t i = 0; i < SEL_SAMPLE; i++)
		s[i] = v[i * stride];
	sort_small(s, SEL_SAMPLE);
}

/* The value of rank r (0-based) of v[0..n), n >= SEL_MIN; s from
 * sample_sorted, tmp room for n. v may be reordered. */
static double select_bracketed(double *v, size_t n, size_t r, const double *s, double *tmp)
{
	/* The sample's j-th smallest (0-based) has expected rank (j + 1) (n
	 * + 1) / (SEL_SAMPLE + 1) - 1 of the whole; c is where r falls. */
	double c = ((double)r + 1) * (SEL_SAMPLE + 1) / ((double)n + 1) - 1;
	double jlo = floor(c - SEL_SPREAD), jhi = ceil(c + SEL_SPREAD);
	double lo = jlo >= 0 ? s[(size_t)jlo] : -INFINITY;
	double hi = jhi < SEL_SAMPLE ? s[(size_t)jhi] : INFINITY;
	/* [lo, hi], closed: every value is written, only those inside
	 * advance the count (no branch to mispredict). */
	size_t below = 0, m = 0;
	for(size_t j = 0; j < n; j++) {
		double x = v[j];
		below += x < lo;
		tmp[m] = x;
		m += (x >= lo) & (x <= hi);
	}
	if(r >= below && r < below + m)
		return select_rank(tmp, 0, m, r - below);
	return select_rank(v, 0, n, r);
}

/* ---- the projection ------------------------------------------------- */

void otd_proj_model_init(struct otd_proj_model *m, const struct otd_travel_model *travel,
                         const struct otd_tz *tz)
{
	memset(m, 0, sizeof(*m));
	m->travel = travel;
	m->tz = tz;
	for(int h = 0; h < 24; h++)
		m->travel_factor[h] = 1;
	m->travel_spread = travel->spread;
	m->samples = 256;
	m->seed = 1;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

struct proj {
	const struct otd_proj_model *m;
	int64_t now;
	double pace[24];           /* s per km by local hour, learned factor included */
	double base;               /* start of now's local hour, relative to now (<= 0) */
	double ahead[HOURS_AHEAD]; /* pace of the hour base + j h .. base + (j + 1) h */
	size_t k;                  /* samples */
	double *z;                 /* [k] standard normal quantiles */
	double *noise;             /* [k] travel noise multipliers, mean 1 */
	double *draw;              /* [k] the conditioned first draw */
	double *tables;            /* [ntables * k] exp(sigma z) */
	double *sigmas;            /* [ntables] */
	size_t ntables;
	double *dep;    /* [k] departures, relative to now */
	double *y;      /* [k] max(a, X) of the current stop */
	double *tmp;    /* [k] selection scratch */
	uint32_t *perm; /* [k] */
	uint64_t rng;
};

static int32_t offset_at(const struct proj *p, int64_t t)
{
	return p->m->tz ? otd_tz_offset_at(p->m->tz, t) : 0;
}

/* The pace of a departure at t (UTC seconds), looked up exactly. */
static double pace_at(const struct proj *p, int64_t t)
{
	return p->pace[floor_mod(floor_div(t + offset_at(p, t), HOUR), 24)];
}

static void pace_setup(struct proj *p)
{
	const struct otd_proj_model *m = p->m;
	for(int h = 0; h < 24; h++)
		p->pace[h] =
		    m->travel->road_factor * 3600.0 / m->travel->speed_kmh[h] * m->travel_factor[h];
	int32_t off0 = offset_at(p, p->now);
	int64_t start = p->now - floor_mod(p->now + off0, HOUR);
	p->base = (double)(start - p->now);
	int64_t last = start + (int64_t)(HOURS_AHEAD - 1) * HOUR;
	if(offset_at(p, last) == off0) {
		/* No zone changes its clocks twice within two days: the offset is
		 * off0 throughout. */
		int64_t h0 = floor_mod(floor_div(start + off0, HOUR), 24);
		for(int j = 0; j < HOURS_AHEAD; j++)
			p->ahead[j] = p->pace[(h0 + j) % 24];
		return;
	}
	for(int j = 0; j < HOURS_AHEAD; j++)
		p->ahead[j] = pace_at(p, start + (int64_t)j * HOUR);
}

/* The pace of a departure dep seconds after now. */
static inline double pace_rel(const struct proj *p, double dep)
{
	double r = (dep - p->base) * INV_HOUR;
	if(r >= 0 && r < HOURS_AHEAD)
		return p->ahead[(int)r];
	return pace_at(p, p->now + (int64_t)floor(dep));
}

/* The table exp(sigma z_k), made on first use within the call. */
static const double *table_for(struct proj *p, double sigma)
{
	for(size_t i = 0; i < p->ntables; i++)
		if(p->sigmas[i] == sigma)
			return p->tables + i * p->k;
	double *t = p->tables + p->ntables * p->k;
	fill_multipliers(t, p->z, p->k, sigma, 1.0);
	p->sigmas[p->ntables++] = sigma;
	return t;
}

/* Departures from a stop: dep[k] = y[k] + D, D the stop's duration. */
static void depart_after(struct proj *p, const struct otd_proj_stop *st)
{
	size_t k = p->k;
	if(st->dur_sigma <= 0) {
		for(size_t i = 0; i < k; i++)
			p->dep[i] = p->y[i] + st->dur_median;
		return;
	}
	const double *t = table_for(p, st->dur_sigma);
	const uint32_t *perm = p->perm;
	double med = st->dur_median;
	shuffle(p->perm, k, &p->rng);
	for(size_t i = 0; i < k; i++)
		p->dep[i] = p->y[i] + med * t[perm[i]];
}

/* Arrivals x at stop st from p->dep over km kilometres (km < 0: the
 * conditioned first draw p->draw, plus offset, is the arrival:
 * TRAVELLING), then y = max(a, x), P(late) and the expectation. Returns
 * how many samples wait for the window (x <= a). */
static size_t arrive(struct proj *p, const struct otd_proj_stop *st, double km, double offset,
                     struct otd_proj_result *out)
{
	size_t k = p->k, late = 0, waits = 0;
	double a = (double)(st->a - p->now), b = (double)(st->b - p->now), sum = 0;
	const uint32_t *perm = p->perm;
	double *y = p->y;
	if(km < 0) {
		shuffle(p->perm, k, &p->rng);
		for(size_t i = 0; i < k; i++) {
			double x = offset + p->draw[perm[i]];
			late += x >= b;
			waits += x <= a;
			y[i] = dmax(a, x);
			sum += y[i];
		}
	} else if(km == 0) {
		for(size_t i = 0; i < k; i++) {
			double x = p->dep[i];
			late += x >= b;
			waits += x <= a;
			y[i] = dmax(a, x);
			sum += y[i];
		}
	} else {
		const double *noise = p->noise;
		shuffle(p->perm, k, &p->rng);
		for(size_t i = 0; i < k; i++) {
			double d = p->dep[i];
			double x = d + km * pace_rel(p, d) * noise[perm[i]];
			late += x >= b;
			waits += x <= a;
			y[i] = dmax(a, x);
			sum += y[i];
		}
	}
	out->p_late = (double)late / (double)k;
	out->expected = (double)p->now + sum / (double)k;
	return waits;
}

/* The band of the stop whose max(a, x) are in p->y (reordered here; the
 * departures must have been taken from it already), waits of them at a. */
static void band(struct proj *p, const struct otd_proj_stop *st, size_t waits,
                 struct otd_proj_result *out)
{
	size_t k = p->k;
	/* Ranks ceil(0.1 k) and ceil(0.9 k), 0-based; y's smallest `waits`
	 * values are a. */
	size_t r1 = (k + 9) / 10 - 1, r2 = (9 * k + 9) / 10 - 1;
	double a = (double)(st->a - p->now), q1 = a, q2 = a;
	if(waits <= r2 && k < SEL_MIN) {
		q2 = select_rank(p->y, 0, k, r2);
		if(waits <= r1)
			q1 = select_rank(p->y, 0, r2 + 1, r1);
	} else if(waits <= r2) {
		double s[SEL_SAMPLE];
		sample_sorted(p->y, k, s);
		q2 = select_bracketed(p->y, k, r2, s, p->tmp);
		if(waits <= r1)
			q1 = select_bracketed(p->y, k, r1, s, p->tmp);
	}
	out->band_early = (double)p->now + q1;
	out->band_late = (double)p->now + q2;
}

int otd_project(const struct otd_proj_model *m, const struct otd_proj_state *s,
                const struct otd_proj_stop *stops, size_t n, int64_t now,
                struct otd_proj_result *out)
{
	if(n == 0)
		return 0;
	assert(m->samples >= 1 && m->samples <= UINT32_MAX);
	assert(m->travel_spread >= 0 && s->late_s >= 0);
	struct proj p;
	memset(&p, 0, sizeof(p));
	p.m = m;
	p.now = now;
	p.k = m->samples ? m->samples : 1;
	p.rng = m->seed;
	size_t k = p.k, nt = n + 1;

	/* One block: six arrays of k doubles, the tables, the sigmas, the
	 * permutation. */
	size_t doubles = (6 + nt) * k + nt;
	if(k > SIZE_MAX / sizeof(double) / (7 + nt))
		return -1;
	char *block = malloc(doubles * sizeof(double) + k * sizeof(uint32_t));
	if(!block)
		return -1;
	double *d = (double *)block;
	p.z = d;
	p.noise = d + k;
	p.draw = d + 2 * k;
	p.dep = d + 3 * k;
	p.y = d + 4 * k;
	p.tmp = d + 5 * k;
	p.tables = d + 6 * k;
	p.sigmas = d + (6 + nt) * k;
	p.perm = (uint32_t *)(block + doubles * sizeof(double));
	for(size_t i = 0; i < k; i++)
		p.perm[i] = (uint32_t)i;

	pace_setup(&p);
	fill_quantiles(p.z, k);
	double s2 = m->travel_spread * m->travel_spread;
	fill_multipliers(p.noise, p.z, k, m->travel_spread, exp(-s2 / 2));

	double lat = s->lat, lon = s->lon, late_s = s->late_s;
	size_t first = 0;
	switch(s->activity) {
	case OTD_PROJ_IDLE: {
		int64_t leave = now > s->not_before ? now : s->not_before;
		for(size_t i = 0; i < k; i++)
			p.dep[i] = (double)(leave - now) + late_s;
		break;
	}
	case OTD_PROJ_ON_BREAK: {
		double end = dmax((double)(s->since - now) + s->break_s, 0);
		for(size_t i = 0; i < k; i++)
			p.dep[i] = end + late_s;
		break;
	}
	case OTD_PROJ_TRAVELLING: {
		/* The journey to stops[0] began at since; T > now - since. */
		const struct otd_proj_stop *st = &stops[0];
		double km = st->is_break ? 0 : otd_distance_km(lat, lon, st->lat, st->lon);
		double mean = km * pace_at(&p, s->since);
		double elapsed = (double)(now - s->since);
		if(mean > 0) {
			fill_conditioned(p.draw, p.z, k, log(mean) - s2 / 2, m->travel_spread,
			                 elapsed);
		} else {
			/* No distance (or a break): the journey ends now, or at since. */
			for(size_t i = 0; i < k; i++)
				p.draw[i] = dmax(0, elapsed);
		}
		size_t waits = arrive(&p, st, -1, (double)(s->since - now) + late_s, &out[0]);
		if(n > 1)
			depart_after(&p, st);
		band(&p, st, waits, &out[0]);
		if(!st->is_break) {
			lat = st->lat;
			lon = st->lon;
		}
		first = 1;
		break;
	}
	case OTD_PROJ_ON_SITE: {
		const struct otd_proj_stop *st = &stops[0];
		double since = (double)s->since;
		out[0].p_late = s->since >= st->b ? 1 : 0;
		out[0].expected = since;
		out[0].band_early = since;
		out[0].band_late = since;
		if(n > 1) {
			fill_conditioned(p.draw, p.z, k, log(st->dur_median), st->dur_sigma,
			                 (double)(now - s->since));
			shuffle(p.perm, k, &p.rng);
			for(size_t i = 0; i < k; i++)
				p.dep[i] = (double)(s->since - now) + p.draw[p.perm[i]] + late_s;
		}
		if(!st->is_break) {
			lat = st->lat;
			lon = st->lon;
		}
		first = 1;
		break;
	}
	}

	for(size_t i = first; i < n; i++) {
		const struct otd_proj_stop *st = &stops[i];
		double km = 0;
		if(!st->is_break) {
			km = otd_distance_km(lat, lon, st->lat, st->lon);
			lat = st->lat;
			lon = st->lon;
		}
		size_t waits = arrive(&p, st, km, 0, &out[i]);
		if(i + 1 < n)
			depart_after(&p, st);
		band(&p, st, waits, &out[i]);
	}
	free(block);
	return 0;
}
