/* Travel, route timing, the O(1) insertion check and the slot offer.
 *
 * The planning model is the "envelope" model of onthedot/route.h. The O(1)
 * check follows Savelsbergh's forward time slack (M. W. P. Savelsbergh,
 * "The vehicle routing problem with time windows: minimizing route
 * duration", ORSA Journal on Computing 4(2), 1992), adapted to arrival
 * quantiles:
 *
 *   margin m_i   how much later stop i's quantile may come: b_i - q_i -
 *                OTD_ROUTE_TOLERANCE for a stop, shift_end - q_n for the
 *                return (which may land exactly on shift_end).
 *   wait w_i     max(0, a_i - X_i): a later arrival up to w_i leaves the
 *                departure where it was.
 *   slack        slack_i = min(m_i, w_i + slack_{i+1}): the delay that
 *                reaches stop k is max(0, d - waits before k), so a later
 *                mean arrival at i by d >= 0, whose quantile's spread
 *                grows by e at i and by no more anywhere after it, keeps
 *                every stop from i on that the delay reaches when d + e
 *                <= slack_i. With dv more variance, e = z (sqrt(V_i + dv)
 *                - sqrt(V_i)): V only grows along the route, and this
 *                shrinks as V grows; it is at most z sqrt(dv), the bound
 *                of Savelsbergh's form (sqrt(v + dv) <= sqrt(v) +
 *                sqrt(dv)) that the check tightens.
 *   dvmax        waits absorb no variance, so every stop from i on must
 *                also take dv more variance on its own: stop k can while
 *                z (sqrt(V_k + dv) - sqrt(V_k)) <= m_k, that is dv <=
 *                (m_k / z)^2 + 2 (m_k / z) sqrt(V_k); dvmax_i is the least
 *                of these from i on.
 *
 * Time-dependent speed breaks Savelsbergh's monotonicity in two ways, both
 * bounded when the route is timed. A departure moved later can only make
 * its leg faster (its interval [D, latest] shrinks), so the next arrival
 * may even come EARLIER, by up to "reduce"; and an arrival moved earlier
 * moves its departure earlier (unless the visitor waited), which can bring
 * a slower hour into [D, latest] and make the leg slower. drop_i is how
 * much earlier stop i's arrival may come without any leg from i on getting
 * slower (INFINITY when a wait absorbs everything); a leg whose possible
 * speed-up exceeds the next drop gets no slack beyond its wait and the
 * time its departure may move before its slowest hour drops out. The new
 * stop itself, and a break right after it (which then happens at the new
 * stop's place), are timed exactly. */
#include "onthedot/route.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"

#define EARTH_RADIUS_KM 6371.0088 /* mean radius (IUGG) */
#define DEG (M_PI / 180.0)
#define TOL OTD_ROUTE_TOLERANCE
#define HOUR 3600
#define DAY 86400
/* Pruning bounds are computed in a different order than the check they
 * stand for; they only prune when beyond it by this much (seconds). */
#define PRUNE_MARGIN 0.01

/* fmax and fmin are library calls (they order NaNs); nothing here is NaN. */
static inline double dmax(double a, double b)
{
	return a > b ? a : b;
}

static inline double dmin(double a, double b)
{
	return a < b ? a : b;
}

struct place {
	double x, y, z; /* the unit vector from the Earth's centre */
};

/* What the offer needs of position p (inserting before stop p) before it
 * knows any distance but the base's, in one place for the cache's sake:
 * with d the km from the base to the location, the new stop's quantile is
 * at least lo0 + |d - kin| pace (TOL and the prune margin folded in), and
 * it must leave by hi0 - |d - kout| fastest pace (when out). */
struct reach {
	double lo0;    /* departure before p + z sd there + TOL - margin */
	double pace;   /* of the leg in */
	double kin;    /* km from the base to the place before p */
	double hi0;    /* room[p] + margin */
	double kout;   /* km from the base to the next real stop's place */
	uint32_t next; /* the next real stop: p, or after the breaks at p */
	uint32_t out;  /* 1, or 0 when p is a break (the leg out is not bounded) */
};

struct otd_route_cache {
	/* First what the offer reads of a route it reaches. */
	struct place base;   /* = place[n] */
	double radius;       /* max of km_base[] */
	double gap_out;      /* max over positions before a stop or the return of
	                      * room - the departure before: time for service and
	                      * travel in and out */
	double gap_in;       /* the same before a break (travel in only) */
	double base_pace;    /* the leg out of the base, departing at shift_start */
	size_t cap;          /* entries of each array: the route's cap + 1 */
	struct reach *reach; /* position p, for the offer */
	struct place *place; /* where stop i happens; [n] the base */
	double *km_base;     /* km from the base to where stop i happens */
	double *pace;        /* s per km of the leg out of stop i, at its slowest hour */
	double *km_next;     /* km of the leg out of stop i as timed (0 before a break) */
	double *dvmax;       /* the most variance stop i's arrival may gain; [n] the return */
	double *drop;        /* how much earlier stop i may be reached harmlessly */
	double *room;        /* position p: latest departure of an inserted stop */
};

/* ---- travel -------------------------------------------------------- */

void otd_travel_model_default(struct otd_travel_model *m)
{
	m->road_factor = 1.3;
	for(int h = 0; h < 24; h++)
		m->speed_kmh[h] = (h >= 7 && h < 9) || (h >= 16 && h < 18) ? 22.0 : 30.0;
	m->spread = 0.25;
}

static void place_set(struct place *p, double lat, double lon)
{
	double phi = lat * DEG, lam = lon * DEG, c = cos(phi);
	p->x = c * cos(lam);
	p->y = c * sin(lam);
	p->z = sin(phi);
}

/* The great-circle distance from the chord c between the unit vectors:
 * 2 R asin(c / 2), the haversine formula's value (sqrt of the haversine
 * is c / 2) without a sine per call, and as exact for short distances;
 * near the antipode atan2 keeps it accurate. Swapping the arguments gives
 * the same bits: the offer computes one distance per place and uses it
 * both ways. */
static double place_km(const struct place *p, const struct place *q)
{
	double dx = p->x - q->x, dy = p->y - q->y, dz = p->z - q->z;
	double c = sqrt(dx * dx + dy * dy + dz * dz);
	if(c < 1.0)
		return 2.0 * EARTH_RADIUS_KM * asin(0.5 * c);
	double sx = p->x + q->x, sy = p->y + q->y, sz = p->z + q->z;
	return 2.0 * EARTH_RADIUS_KM * atan2(c, sqrt(sx * sx + sy * sy + sz * sz));
}

void otd_geo_point_set(struct otd_geo_point *out, double lat, double lon)
{
	struct place p;
	place_set(&p, lat, lon);
	*out = (struct otd_geo_point){p.x, p.y, p.z};
}

double otd_geo_chord2(const struct otd_geo_point *a, const struct otd_geo_point *b)
{
	double dx = a->x - b->x, dy = a->y - b->y, dz = a->z - b->z;
	return dx * dx + dy * dy + dz * dz;
}

double otd_distance_km(double lat1, double lon1, double lat2, double lon2)
{
	struct place p, q;
	place_set(&p, lat1, lon1);
	place_set(&q, lat2, lon2);
	return place_km(&p, &q);
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

/* floor for |x| < 2^62, without a library call (x86-64's baseline has no
 * rounding instruction). */
static inline int64_t ifloor(double x)
{
	int64_t i = (int64_t)x;
	return i - (x < (double)i);
}

/* The model's instants are whole seconds (route.h). */
static int64_t whole(double t)
{
	return ifloor(t);
}

/* The travel model prepared for one plan: paces instead of speeds. */
struct pace_ctx {
	const struct otd_tz *tz;
	double pace[24]; /* s per great-circle km departing in each local hour */
	double slowest;  /* the largest of pace[] */
	double fastest;  /* the smallest */
	double cv2;      /* leg variance / mean^2: exp(spread^2) - 1 */
	bool flat;       /* the same pace in every hour */
	/* An interval of at most three days with the same offset at both
	 * ends: as everywhere here, taken to have that offset throughout (no
	 * zone changes its clocks twice in three days); saves the lookups. */
	int64_t calm_lo, calm_hi;
	int32_t calm_off;
};

static void pace_init(struct pace_ctx *c, const struct otd_travel_model *m, const struct otd_tz *tz)
{
	c->tz = tz;
	c->slowest = 0;
	c->fastest = INFINITY;
	for(int h = 0; h < 24; h++) {
		c->pace[h] = m->road_factor * 3600.0 / m->speed_kmh[h];
		c->slowest = dmax(c->slowest, c->pace[h]);
		c->fastest = dmin(c->fastest, c->pace[h]);
	}
	c->flat = c->slowest == c->fastest;
	c->cv2 = expm1(m->spread * m->spread);
	c->calm_lo = tz ? 1 : INT64_MIN;
	c->calm_hi = tz ? 0 : INT64_MAX;
	c->calm_off = 0;
}

static int32_t offset_at(const struct pace_ctx *c, int64_t t)
{
	if(t >= c->calm_lo && t <= c->calm_hi)
		return c->calm_off;
	return c->tz ? otd_tz_offset_at(c->tz, t) : 0;
}

/* Notes that the offset is the same over [a, b] (see calm_lo). */
static void pace_calm(struct pace_ctx *c, int64_t a, int64_t b)
{
	c->calm_lo = 1;
	c->calm_hi = 0;
	if(b < a || b - a > 3 * DAY)
		return;
	int32_t off = offset_at(c, a);
	if(off != offset_at(c, b))
		return;
	c->calm_lo = a;
	c->calm_hi = b;
	c->calm_off = off;
}

static double hour_pace(const struct pace_ctx *c, int64_t wall)
{
	return c->pace[floor_mod(floor_div(wall, HOUR), 24)];
}

/* The largest pace of the local hours touched by [t0, t1]. */
static double slowest_pace(const struct pace_ctx *c, int64_t t0, int64_t t1)
{
	if(c->flat)
		return c->pace[0];
	if(t1 < t0)
		t1 = t0;
	if(t1 - t0 >= DAY)
		return c->slowest;
	double p = 0;
	int32_t off0 = offset_at(c, t0);
	if(off0 == offset_at(c, t1)) {
		/* No change of offset inside: no zone changes its clocks twice
		 * within a day, and tzload cannot even represent it. */
		int64_t h0 = floor_div(t0 + off0, HOUR), h1 = floor_div(t1 + off0, HOUR);
		if(h1 - h0 >= 23)
			return c->slowest;
		for(int64_t h = h0; h <= h1; h++)
			p = dmax(p, c->pace[floor_mod(h, 24)]);
		return p;
	}
	for(int64_t t = t0; t <= t1;) {
		int64_t wall = t + offset_at(c, t);
		p = dmax(p, hour_pace(c, wall));
		t += HOUR - floor_mod(wall, HOUR);
	}
	return p;
}

/* How far a departure at d may move earlier, but not below lowest, before
 * a local hour slower than pace joins its interval: INFINITY when that
 * never happens. */
static double earlier_room(const struct pace_ctx *c, double d, double lowest, double pace)
{
	if(c->flat || pace >= c->slowest)
		return INFINITY;
	int64_t t = whole(d), lo = whole(lowest);
	for(int i = 0; i < 26; i++) {
		int64_t start = t - floor_mod(t + offset_at(c, t), HOUR); /* of t's local hour */
		if(start <= lo)
			return INFINITY;
		int64_t before = start - 1;
		if(hour_pace(c, before + offset_at(c, before)) > pace)
			return d - (double)start;
		t = before;
	}
	return INFINITY;
}

/* How much later than d a departure may leave while its leg keeps pace:
 * until the last hour of [d, latest] as slow as pace leaves its interval. */
static double later_room(const struct pace_ctx *c, double d, double latest, double pace)
{
	int64_t t = whole(d), t1 = whole(latest), end = t;
	while(t <= t1) {
		int64_t wall = t + offset_at(c, t);
		int64_t next = t + HOUR - floor_mod(wall, HOUR);
		if(hour_pace(c, wall) >= pace)
			end = next;
		t = next;
	}
	/* The departure still touches that hour while it is before its end. */
	return dmax(0, (double)(end - 1) - d);
}

static void leg_moments(const struct pace_ctx *c, double km, double pace, double *mean, double *var)
{
	double m = km * pace;
	*mean = m;
	*var = m * m * c->cv2;
}

void otd_travel_leg(const struct otd_travel_model *m, const struct otd_tz *tz, double km,
                    int64_t depart, int64_t latest, double *mean, double *var)
{
	struct pace_ctx c;
	if(km <= 0) {
		*mean = 0;
		*var = 0;
		return;
	}
	pace_init(&c, m, tz);
	leg_moments(&c, km, slowest_pace(&c, depart, latest), mean, var);
}

void otd_lognormal_moments(double median, double sigma, double *mean, double *var)
{
	double s2 = sigma * sigma;
	*mean = median * exp(s2 / 2);
	*var = median * median * exp(s2) * expm1(s2);
}

/* Peter J. Acklam's rational approximation of the inverse normal CDF
 * (relative error 1.15e-9), then one step of Halley's method on erfc,
 * as Acklam suggests, which brings it to machine precision. */
double otd_normal_quantile(double q)
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
	double x;

	if(!(q > 0 && q < 1))
		return q <= 0 ? -INFINITY : q >= 1 ? INFINITY : NAN;
	if(q < low || q > 1 - low) {
		double t = sqrt(-2 * log(q < low ? q : 1 - q));
		x = (((((c[0] * t + c[1]) * t + c[2]) * t + c[3]) * t + c[4]) * t + c[5]) /
		    ((((d[0] * t + d[1]) * t + d[2]) * t + d[3]) * t + 1);
		if(q > 1 - low)
			x = -x;
	} else {
		double t = q - 0.5, r = t * t;
		x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * t /
		    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
	}
	double e = 0.5 * erfc(-x / M_SQRT2) - q;
	double u = e * sqrt(2 * M_PI) * exp(x * x / 2);
	return x - u / (1 + x * u / 2);
}

/* ---- routes -------------------------------------------------------- */

/* The most variance an arrival with variance v and margin m (seconds to
 * spare at the quantile) may gain: z (sqrt(v + dv) - sqrt(v)) <= m. */
static double variance_room(double m, double v, double z)
{
	if(m <= 0)
		return 0;
	if(z <= 0)
		return INFINITY;
	double k = m / z;
	return k * k + 2 * k * sqrt(v);
}

/* Every per-stop array of a route, public and private, lives in one block
 * with the cache, in the order the offer reads them: a route it looks at
 * is a few neighbouring cache lines, not sixteen scattered ones. Growing
 * drops the timing (the route is untimed then anyway). */
static void reserve(struct otd_route *r, size_t cap)
{
	struct otd_route_cache *c = r->cache;
	if(c && cap <= r->cap && c->cap >= cap + 1)
		return;
	if(cap < r->cap)
		cap = r->cap;
	if(cap < 8)
		cap = 8;
	size_t e = cap + 1;
	r->stops = xrealloc(r->stops, cap * sizeof(*r->stops));
	r->cap = cap;
	free(c);
	enum { DOUBLES = 13 };
	char *m = xmalloc(sizeof(*c) + e * (sizeof(struct reach) + sizeof(struct place)) +
	                  DOUBLES * e * sizeof(double));
	c = (struct otd_route_cache *)m;
	memset(c, 0, sizeof(*c));
	c->cap = e;
	c->reach = (struct reach *)(c + 1);
	c->place = (struct place *)(c->reach + e);
	double *d = (double *)(c->place + e);
	double **arrays[DOUBLES] = {&c->km_base,  &c->pace,    &r->dep_mean, &r->dep_var, &c->room,
	                            &r->arr_mean, &r->arr_var, &r->slack,    &c->dvmax,   &c->drop,
	                            &c->km_next,  &r->lat,     &r->lon};
	for(int k = 0; k < DOUBLES; k++)
		*arrays[k] = d + (size_t)k * e;
	r->cache = c;
	r->timed = false;
}

void otd_route_init(struct otd_route *r, double base_lat, double base_lon, int64_t shift_start,
                    int64_t shift_end)
{
	memset(r, 0, sizeof(*r));
	r->base_lat = base_lat;
	r->base_lon = base_lon;
	r->shift_start = shift_start;
	r->shift_end = shift_end;
}

void otd_route_cleanup(struct otd_route *r)
{
	free(r->cache); /* and every per-stop array with it */
	free(r->stops);
	memset(r, 0, sizeof(*r));
}

void otd_route_copy(struct otd_route *dst, const struct otd_route *src)
{
	otd_route_init(dst, src->base_lat, src->base_lon, src->shift_start, src->shift_end);
	reserve(dst, src->n);
	dst->n = src->n;
	if(src->n)
		memcpy(dst->stops, src->stops, src->n * sizeof(*src->stops));
	dst->timed = src->timed;
	dst->feasible = src->feasible;
	dst->travel_mean = src->travel_mean;
	if(!src->timed)
		return;
	size_t e = src->n + 1;
	struct otd_route_cache *d = dst->cache;
	const struct otd_route_cache *s = src->cache;
	memcpy(dst->arr_mean, src->arr_mean, e * sizeof(double));
	memcpy(dst->arr_var, src->arr_var, e * sizeof(double));
	memcpy(dst->dep_mean, src->dep_mean, e * sizeof(double));
	memcpy(dst->dep_var, src->dep_var, e * sizeof(double));
	memcpy(dst->lat, src->lat, e * sizeof(double));
	memcpy(dst->lon, src->lon, e * sizeof(double));
	memcpy(dst->slack, src->slack, e * sizeof(double));
	memcpy(d->place, s->place, e * sizeof(*s->place));
	memcpy(d->km_base, s->km_base, e * sizeof(double));
	memcpy(d->pace, s->pace, e * sizeof(double));
	memcpy(d->km_next, s->km_next, e * sizeof(double));
	memcpy(d->dvmax, s->dvmax, e * sizeof(double));
	memcpy(d->drop, s->drop, e * sizeof(double));
	memcpy(d->room, s->room, e * sizeof(double));
	memcpy(d->reach, s->reach, e * sizeof(*s->reach));
	d->base_pace = s->base_pace;
	dst->free_until = src->free_until;
	dst->visits_timed = src->visits_timed;
	d->radius = s->radius;
	d->gap_out = s->gap_out;
	d->gap_in = s->gap_in;
	d->base = s->base;
}

void otd_route_insert(struct otd_route *r, size_t pos, const struct otd_stop *s)
{
	assert(pos <= r->n);
	if(pos > r->n)
		pos = r->n;
	if(r->n == r->cap || !r->cache)
		reserve(r, r->n == r->cap ? 2 * r->cap : r->cap);
	memmove(&r->stops[pos + 1], &r->stops[pos], (r->n - pos) * sizeof(*r->stops));
	r->stops[pos] = *s;
	r->n++;
	r->timed = false;
}

void otd_route_remove(struct otd_route *r, size_t pos)
{
	assert(pos < r->n);
	if(pos >= r->n)
		return;
	memmove(&r->stops[pos], &r->stops[pos + 1], (r->n - pos - 1) * sizeof(*r->stops));
	r->n--;
	r->timed = false;
}

long otd_route_find(const struct otd_route *r, enum otd_stop_kind kind, int64_t id)
{
	for(size_t i = 0; i < r->n; i++) {
		if(r->stops[i].kind == kind && r->stops[i].id == id)
			return (long)i;
	}
	return -1;
}

size_t otd_route_visits(const struct otd_route *r)
{
	size_t k = 0;
	for(size_t i = 0; i < r->n; i++)
		k += r->stops[i].kind == OTD_STOP_VISIT || r->stops[i].kind == OTD_STOP_HOLD;
	return k;
}

static bool is_break(const struct otd_stop *s)
{
	return s->kind == OTD_STOP_BREAK;
}

bool otd_route_time(struct otd_route *r, const struct otd_plan *plan)
{
	struct pace_ctx pc;
	pace_init(&pc, plan->travel, plan->tz);
	pace_calm(&pc, r->shift_start - DAY / 2, r->shift_end + DAY / 2);
	reserve(r, r->n);
	struct otd_route_cache *c = r->cache;
	const size_t n = r->n;
	const double z = plan->z;
	struct place base;
	place_set(&base, r->base_lat, r->base_lon);
	c->place[n] = base;
	c->base = base;
	c->km_base[n] = 0;

	/* Forward: the model, step by step. */
	const struct place *from = &base;
	double from_lat = r->base_lat, from_lon = r->base_lon;
	double d = (double)r->shift_start, v = 0, pace;
	double *km_prev = NULL; /* where the km of the leg being timed goes */
	bool ok = true;
	double travel = 0;
	pace = slowest_pace(&pc, r->shift_start, r->shift_start);
	c->base_pace = pace;
	for(size_t j = 0; j < n; j++) {
		const struct otd_stop *st = &r->stops[j];
		double leg = 0, lvar = 0, km = 0;
		if(is_break(st)) {
			c->place[j] = *from;
		} else {
			place_set(&c->place[j], st->lat, st->lon);
			km = place_km(from, &c->place[j]);
			leg_moments(&pc, km, pace, &leg, &lvar);
			from_lat = st->lat;
			from_lon = st->lon;
		}
		if(km_prev)
			*km_prev = km;
		c->km_base[j] =
		    is_break(st) ? (j ? c->km_base[j - 1] : 0) : place_km(&base, &c->place[j]);
		from = &c->place[j];
		r->lat[j] = from_lat;
		r->lon[j] = from_lon;
		double x = d + leg, vx = v + lvar;
		r->arr_mean[j] = x;
		r->arr_var[j] = vx;
		if(!(x + z * sqrt(vx) < (double)st->b) || st->b <= st->a)
			ok = false;
		d = dmax((double)st->a, x) + st->service_mean;
		v = vx + st->service_var;
		r->dep_mean[j] = d;
		r->dep_var[j] = v;
		pace = slowest_pace(&pc, whole(d), whole((double)st->b + st->service_mean));
		c->pace[j] = pace;
		km_prev = &c->km_next[j];
		travel += leg;
	}
	double km = place_km(from, &base), leg, lvar;
	if(km_prev)
		*km_prev = km;
	leg_moments(&pc, km, pace, &leg, &lvar);
	double x = d + leg, vx = v + lvar;
	r->arr_mean[n] = x;
	r->arr_var[n] = vx;
	r->dep_mean[n] = x;
	r->dep_var[n] = vx;
	r->lat[n] = r->base_lat;
	r->lon[n] = r->base_lon;
	c->pace[n] = pace;
	c->km_next[n] = 0;
	travel += leg;
	double qn = x + z * sqrt(vx);
	if(!(qn <= (double)r->shift_end + TOL))
		ok = false;

	/* Backward: slack, variance slack, drop, and the room for the offer. */
	double mn = (double)r->shift_end - qn;
	r->slack[n] = mn;
	c->dvmax[n] = variance_room(mn, vx, z);
	c->drop[n] = INFINITY;
	c->room[n] = x + dmax(mn, 0);
	r->free_until = c->room[n];
	c->radius = 0;
	c->gap_in = -INFINITY;
	c->gap_out = c->room[n] - (n ? r->dep_mean[n - 1] : (double)r->shift_start);
	for(size_t i = n; i-- > 0;) {
		const struct otd_stop *st = &r->stops[i];
		double xi = r->arr_mean[i];
		double m = (double)st->b - (xi + z * sqrt(r->arr_var[i])) - TOL;
		double wait = dmax(0, (double)st->a - xi), late = dmax(0, xi - (double)st->a);
		double reduce = 0, early = INFINITY, next = r->slack[i + 1];
		if(c->km_next[i] > 0) {
			double latest = (double)st->b + st->service_mean;
			reduce =
			    c->km_next[i] *
			    dmax(0, c->pace[i] - slowest_pace(&pc, whole(latest), whole(latest)));
			early = earlier_room(&pc, r->dep_mean[i], (double)st->a + st->service_mean,
			                     c->pace[i]);
			/* The leg could get faster by more than the next stop may
			 * be reached early: keep the departure inside its pace. */
			if(reduce > c->drop[i + 1])
				next =
				    dmin(next, later_room(&pc, r->dep_mean[i], latest, c->pace[i]));
		}
		r->slack[i] = dmin(m, wait + next);
		c->dvmax[i] = dmin(variance_room(m, r->arr_var[i], z), c->dvmax[i + 1]);
		double lim = dmin(early, c->drop[i + 1]);
		c->drop[i] = late <= lim ? INFINITY : lim;
		double gap, dprev = i ? r->dep_mean[i - 1] : (double)r->shift_start;
		if(is_break(st)) {
			c->room[i] = dmin((double)st->b - TOL, c->room[i + 1] - st->service_mean);
			gap = c->room[i] - dprev;
			c->gap_in = dmax(c->gap_in, gap);
		} else {
			c->room[i] = xi + dmax(r->slack[i], 0);
			gap = c->room[i] - dprev;
			c->gap_out = dmax(c->gap_out, gap);
		}
		r->free_until = dmax(r->free_until, c->room[i]);
		c->radius = dmax(c->radius, c->km_base[i]);
	}
	assert(n < UINT32_MAX);
	for(size_t p = n + 1, j = n; p-- > 0;) {
		struct reach *h = &c->reach[p];
		if(p < n && !is_break(&r->stops[p]))
			j = p;
		h->lo0 = (p ? r->dep_mean[p - 1] : (double)r->shift_start) +
		         z * sqrt(p ? r->dep_var[p - 1] : 0) + TOL - PRUNE_MARGIN;
		h->pace = p ? c->pace[p - 1] : c->base_pace;
		h->kin = p ? c->km_base[p - 1] : 0;
		h->hi0 = c->room[p] + PRUNE_MARGIN;
		h->kout = c->km_base[j];
		h->next = (uint32_t)j;
		h->out = p == n || !is_break(&r->stops[p]);
	}
	r->travel_mean = travel;
	r->timed = true;
	r->feasible = ok;
	r->visits_timed = otd_route_visits(r);
	return ok;
}

bool otd_route_release(struct otd_route *r, const struct otd_plan *plan, size_t pos)
{
	assert(pos < r->n);
	if(pos >= r->n)
		return false;
	bool was = r->timed ? r->feasible : otd_route_time(r, plan);
	struct otd_stop keep = r->stops[pos];
	otd_route_remove(r, pos);
	if(otd_route_time(r, plan) || !was)
		return true;
	keep.kind = OTD_STOP_VACANT;
	otd_route_insert(r, pos, &keep);
	otd_route_time(r, plan);
	return false;
}

/* ---- the insertion check ------------------------------------------- */

/* The new stop's arrival at position pos: it depends on the location but
 * not on the window, so the offer computes it once per position. */
struct ins_head {
	double x, vx; /* arrival mean and variance */
	double q;     /* x + z sqrt(vx) */
	double leg;   /* mean of the leg in */
};

/* Departure (mean, variance), pace and place before position pos. */
static void before(const struct otd_route *r, size_t pos, double *d, double *v, double *pace)
{
	if(pos == 0) {
		*d = (double)r->shift_start;
		*v = 0;
		*pace = r->cache->base_pace;
	} else {
		*d = r->dep_mean[pos - 1];
		*v = r->dep_var[pos - 1];
		*pace = r->cache->pace[pos - 1];
	}
}

static const struct place *place_before(const struct otd_route *r, size_t pos)
{
	return pos == 0 ? &r->cache->place[r->n] : &r->cache->place[pos - 1];
}

/* The first stop at or after pos that is not a break (n: the return). */
static size_t next_real(const struct otd_route *r, size_t pos)
{
	while(pos < r->n && is_break(&r->stops[pos]))
		pos++;
	return pos;
}

static void ins_head(const struct otd_route *r, const struct pace_ctx *pc, double z, size_t pos,
                     double km_in, struct ins_head *h)
{
	double d, v, pace, lvar;
	before(r, pos, &d, &v, &pace);
	leg_moments(pc, km_in, pace, &h->leg, &lvar);
	h->x = d + h->leg;
	h->vx = v + lvar;
	h->q = h->x + z * sqrt(h->vx);
}

/* The rest of the check for a stop with window [a, b) and service (sm, sv)
 * whose distance to the place of j, the first stop from pos on that is not
 * a break (n: the base), is km_out. */
static bool ins_tail(const struct otd_route *r, const struct pace_ctx *pc, double z, size_t pos,
                     size_t j, const struct ins_head *h, int64_t a, int64_t b, double sm, double sv,
                     double km_out, double *travel)
{
	const struct otd_route_cache *c = r->cache;
	if(b <= a || !(h->q <= (double)b - TOL))
		return false;
	double d = dmax((double)a, h->x) + sm, v = h->vx + sv;
	double latest = (double)b + sm;
	/* A break right after the new stop now happens at its place. */
	for(size_t k = pos; k < j; k++) {
		const struct otd_stop *br = &r->stops[k];
		if(!(d + z * sqrt(v) <= (double)br->b - TOL))
			return false;
		d = dmax((double)br->a, d) + br->service_mean;
		v += br->service_var;
		latest = (double)br->b + br->service_mean;
	}
	double leg, lvar;
	leg_moments(pc, km_out, slowest_pace(pc, whole(d), whole(latest)), &leg, &lvar);
	double delta = d + leg - r->arr_mean[j];
	/* The quantile grows by z (sqrt(V + dv) - sqrt(V)) at the next stop,
	 * and by no more further on, where V is larger (variance only
	 * accumulates) and the extra variance at most dv. */
	double var0 = r->arr_var[j], dv = dmax(0, v + lvar - var0);
	if(dv > c->dvmax[j])
		return false;
	double e = dv > 0 ? z * dv / (sqrt(var0 + dv) + sqrt(var0)) : 0;
	if(delta >= 0 ? delta + e > r->slack[j] : -delta > c->drop[j])
		return false;
	if(travel) {
		double dprev = j == 0 ? (double)r->shift_start : r->dep_mean[j - 1];
		*travel = h->leg + leg - (r->arr_mean[j] - dprev);
	}
	return true;
}

/* A route the check may use, under a plan it can use (the bounds need
 * z >= 0). */
static bool usable(const struct otd_route *r, const struct otd_plan *plan)
{
	return r->timed && r->feasible && r->cache && plan->z >= 0;
}

bool otd_route_can_insert(const struct otd_route *r, const struct otd_plan *plan, size_t pos,
                          const struct otd_stop *s, double *travel_added)
{
	if(!usable(r, plan) || pos > r->n)
		return false;
	struct pace_ctx pc;
	pace_init(&pc, plan->travel, plan->tz);
	pace_calm(&pc, r->shift_start - DAY / 2, r->shift_end + DAY / 2);
	struct place loc;
	place_set(&loc, s->lat, s->lon);
	size_t j = next_real(r, pos);
	struct ins_head h;
	ins_head(r, &pc, plan->z, pos, place_km(place_before(r, pos), &loc), &h);
	return ins_tail(r, &pc, plan->z, pos, j, &h, s->a, s->b, s->service_mean, s->service_var,
	                place_km(&loc, &r->cache->place[j]), travel_added);
}

long otd_route_best_insertion(const struct otd_route *r, const struct otd_plan *plan,
                              const struct otd_stop *s, double *travel_added)
{
	if(!usable(r, plan))
		return -1;
	const struct otd_route_cache *c = r->cache;
	struct pace_ctx pc;
	pace_init(&pc, plan->travel, plan->tz);
	pace_calm(&pc, r->shift_start - DAY / 2, r->shift_end + DAY / 2);
	struct place loc;
	place_set(&loc, s->lat, s->lon);
	long best = -1;
	double best_travel = INFINITY;
	double earliest_dep = (double)s->a + s->service_mean;
	for(size_t pos = 0; pos <= r->n; pos++) {
		double d, v, pace;
		before(r, pos, &d, &v, &pace);
		/* Departures only grow along a route: arriving from here or
		 * later the stop would start too late. */
		if(d > (double)s->b - TOL)
			break;
		if(earliest_dep > c->room[pos] + PRUNE_MARGIN)
			continue;
		double travel;
		struct ins_head h;
		ins_head(r, &pc, plan->z, pos, place_km(place_before(r, pos), &loc), &h);
		size_t j = next_real(r, pos);
		if(ins_tail(r, &pc, plan->z, pos, j, &h, s->a, s->b, s->service_mean,
		            s->service_var, place_km(&loc, &c->place[j]), &travel) &&
		   travel < best_travel) {
			best_travel = travel;
			best = (long)pos;
		}
	}
	if(best >= 0 && travel_added)
		*travel_added = best_travel;
	return best;
}

/* ---- the slot offer ------------------------------------------------ */

/* Each route goes through three stages, each only when a window needs it:
 * untouched; bounded (one distance, base to location, and from it and
 * the triangle inequality a span of window starts for each position, with
 * no other trigonometry); exact per position (the distances of its two
 * places, the new stop's arrival, the exact span). Spans only ever prune
 * what ins_tail would refuse. What a window walk reads, each route's range
 * and its positions' spans, is kept small and together. */
enum { ROUTE_NEW, ROUTE_BOUND, ROUTE_SKIP };

struct offer_route {
	double lo, hi; /* window starts it may take: its shift, then its spans */
	size_t first;  /* its positions (and places) in the scratch */
	int state;
	double sm, sv; /* the service on this route (the visitor's own model) */
};

struct span {
	double lo, hi; /* window starts a position may take */
};

struct offer_pos {
	struct ins_head h;
	double km_out; /* < 0 until h, km_out and the span are exact */
};

static bool next_to_visit(const struct otd_route *r, size_t pos)
{
	const struct otd_stop *s;
	if(pos > 0) {
		s = &r->stops[pos - 1];
		if(s->kind == OTD_STOP_VISIT || s->kind == OTD_STOP_HOLD)
			return true;
	}
	if(pos < r->n) {
		s = &r->stops[pos];
		if(s->kind == OTD_STOP_VISIT || s->kind == OTD_STOP_HOLD)
			return true;
	}
	return false;
}

/* Triangle inequality, less a hair for its rounding. */
static double km_at_least(double km)
{
	return dmax(0, km * (1 - 1e-12) - 1e-9);
}

/* The route's range: its positions' spans, inside its shift. */
static void offer_range(const struct otd_route *r, const struct otd_offer_request *req,
                        const struct span *sp, struct offer_route *o)
{
	double lo = INFINITY, hi = -INFINITY;
	for(size_t p = 0; p <= r->n; p++) {
		if(sp[p].lo <= sp[p].hi) {
			lo = dmin(lo, sp[p].lo);
			hi = dmax(hi, sp[p].hi);
		}
	}
	o->lo = dmax(lo, (double)r->shift_start);
	o->hi = dmin(hi, (double)(r->shift_end - req->width));
}

/* Spans for every position of r from the base's distance alone; false
 * when no position has the time for the service and the travel to and
 * from the location (every place of r is within its radius of the base). */
static bool offer_bound(const struct otd_route *r, const struct pace_ctx *pc,
                        const struct place *loc, const struct otd_offer_request *req, double *km,
                        struct span *sp, struct offer_pos *pos, struct offer_route *o)
{
	const struct otd_route_cache *c = r->cache;
	const size_t n = r->n;
	double dbase = place_km(&c->base, loc);
	double least = km_at_least(dbase - c->radius) * pc->fastest;
	if(o->sm + 2 * least > c->gap_out + PRUNE_MARGIN && o->sm + least > c->gap_in + PRUNE_MARGIN)
		return false;
	const double w = (double)req->width, sm = o->sm;
	for(size_t p = 0; p <= n; p++) {
		const struct reach *h = &c->reach[p];
		km[p] = NAN;
		pos[p].km_out = -1;
		sp[p].lo = h->lo0 + km_at_least(fabs(dbase - h->kin)) * h->pace - w;
		sp[p].hi =
		    h->hi0 - sm - (h->out ? km_at_least(fabs(dbase - h->kout)) * pc->fastest : 0);
	}
	km[n] = dbase;
	offer_range(r, req, sp, o);
	return true;
}

/* km from place i of r (n: the base) to loc, computed once. */
static double offer_km(const struct otd_route *r, double *km, size_t i, const struct place *loc)
{
	if(isnan(km[i]))
		km[i] = place_km(&r->cache->place[i], loc);
	return km[i];
}

/* The exact arrival and span of position p. */
static void offer_exact(const struct otd_route *r, const struct pace_ctx *pc, double z,
                        const struct place *loc, const struct otd_offer_request *req, double sm,
                        size_t p, double *km, struct span *sp, struct offer_pos *op)
{
	const struct reach *h = &r->cache->reach[p];
	op->km_out = offer_km(r, km, h->next, loc);
	ins_head(r, pc, z, p, offer_km(r, km, p ? p - 1 : r->n, loc), &op->h);
	/* Reached before the window ends; and leaving, no earlier than its
	 * start + service, in time for what follows (hi0: the latest
	 * departure what follows allows; travel on at the fastest pace). */
	sp->lo = op->h.q + TOL - (double)req->width - PRUNE_MARGIN;
	sp->hi = h->hi0 - sm - (h->out ? op->km_out * pc->fastest : 0);
}

size_t otd_offer_day(const struct otd_route *const *routes, const size_t *owner, size_t n_routes,
                     const struct otd_plan *plan, const struct otd_offer_request *req,
                     struct otd_offer_window *out)
{
	if(req->width <= 0 || req->step <= 0 || n_routes == 0 || !(plan->z >= 0) ||
	   req->earliest > req->day_end || req->latest < req->day_start)
		return 0;
	struct pace_ctx pc;
	pace_init(&pc, plan->travel, plan->tz);
	pace_calm(&pc, req->day_start - DAY / 2, req->day_end + DAY / 2);
	const double z = plan->z;
	struct place loc;
	place_set(&loc, req->lat, req->lon);

	/* One allocation: per route; per position and place. */
	size_t npos = 0;
	for(size_t r = 0; r < n_routes; r++)
		npos += routes[r]->n + 1;
	char *mem =
	    xmalloc(n_routes * sizeof(struct offer_route) +
	            npos * (sizeof(struct span) + sizeof(struct offer_pos) + sizeof(double)));
	struct offer_route *ors = (struct offer_route *)mem;
	struct span *sps = (struct span *)(ors + n_routes);
	struct offer_pos *ops = (struct offer_pos *)(sps + npos);
	double *kms = (double *)(ops + npos);
	size_t first = 0;
	int64_t from = INT64_MAX, until = INT64_MIN; /* the shifts' span */
	for(size_t r = 0; r < n_routes; r++) {
		const struct otd_route *rt = routes[r];
		struct offer_route *o = &ors[r];
		o->first = first;
		first += rt->n + 1;
		/* Only the route's first cache line here: the rest when a
		 * window reaches it. */
		bool full = req->max_visits && rt->visits_timed >= req->max_visits;
		o->state = usable(rt, plan) && !full ? ROUTE_NEW : ROUTE_SKIP;
		o->lo = INFINITY;
		o->hi = -INFINITY;
		o->sm = req->route_service_mean ? req->route_service_mean[r] : req->service_mean;
		o->sv = req->route_service_var ? req->route_service_var[r] : req->service_var;
		if(o->state == ROUTE_SKIP)
			continue;
		from = rt->shift_start < from ? rt->shift_start : from;
		until = rt->shift_end > until ? rt->shift_end : until;
		/* A promise that starts before the shift or ends after it
		 * would tell the customer of hours nobody works; and nothing
		 * can start after the route's latest room for a departure. */
		o->lo = (double)rt->shift_start;
		o->hi = dmin((double)(rt->shift_end - req->width),
		             rt->free_until - o->sm + PRUNE_MARGIN);
	}

	size_t written = 0;
	int64_t i = 0;
	if(req->earliest > req->day_start)
		i = (req->earliest - req->day_start + req->step - 1) / req->step;
	if(from != INT64_MAX && from > req->day_start && (from - req->day_start) / req->step > i)
		i = (from - req->day_start) / req->step;
	for(;; i++) {
		const int64_t s = req->day_start + i * req->step, b = s + req->width;
		if(b > req->day_end || b > until || s > req->latest)
			break;
		const double sd = (double)s;
		size_t owners[OTD_OFFER_VISITORS_MAX];
		int count = 0;
		double best = INFINITY;
		bool green = false;
		for(size_t r = 0; r < n_routes && count < OTD_OFFER_VISITORS_MAX; r++) {
			struct offer_route *o = &ors[r];
			if(sd < o->lo || sd > o->hi)
				continue;
			const struct otd_route *rt = routes[r];
			struct span *sp = &sps[o->first];
			struct offer_pos *op = &ops[o->first];
			double *km = &kms[o->first];
			if(o->state == ROUTE_NEW) {
				o->state = ROUTE_BOUND;
				if(!offer_bound(rt, &pc, &loc, req, km, sp, op, o)) {
					o->state = ROUTE_SKIP;
					o->lo = INFINITY;
					o->hi = -INFINITY;
				}
				if(sd < o->lo || sd > o->hi)
					continue;
			}
			double rbest = INFINITY;
			bool narrowed = false;
			size_t rpos = 0;
			for(size_t p = 0; p <= rt->n; p++) {
				double travel;
				if(sd < sp[p].lo || sd > sp[p].hi)
					continue;
				if(op[p].km_out < 0) {
					offer_exact(rt, &pc, z, &loc, req, o->sm, p, km, &sp[p], &op[p]);
					narrowed = true;
					if(sd < sp[p].lo || sd > sp[p].hi)
						continue;
				}
				if(ins_tail(rt, &pc, z, p, rt->cache->reach[p].next, &op[p].h, s, b, o->sm,
				            o->sv, op[p].km_out, &travel) &&
				   travel < rbest) {
					rbest = travel;
					rpos = p;
				}
			}
			if(narrowed)
				offer_range(rt, req, sp, o);
			if(rbest == INFINITY)
				continue;
			size_t who = owner ? owner[r] : r;
			bool seen = false;
			for(int k = 0; k < count; k++)
				seen = seen || owners[k] == who;
			if(!seen)
				owners[count++] = who;
			if(rbest < best) {
				best = rbest;
				green = rbest <= req->green_travel && next_to_visit(rt, rpos);
			}
		}
		if(count == 0)
			continue;
		struct otd_offer_window *w = &out[written++];
		w->start = s;
		w->end = b;
		w->visitors = count;
		w->travel_added = best;
		w->green = green;
	}
	free(mem);
	return written;
}
