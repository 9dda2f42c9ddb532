/* Delivery timing: retry backoff and quiet hours. */
#include "onthedot/delivery.h"

#include <math.h>
#include <stdbool.h>

#define DAY_SECONDS 86400

int64_t otd_backoff_seconds(int attempt, int base_s, int cap_s, double u)
{
	if(attempt < 1)
		attempt = 1;
	if(base_s < 1)
		base_s = 1;
	if(cap_s < 1)
		cap_s = 1;
	if(!(u >= 0.0)) /* negative or NaN */
		u = 0.0;
	if(u > 1.0)
		u = 1.0;
	/* Double only while below the cap: at most 31 steps for int bounds,
	 * however large attempt is, and the product stays far inside int64. */
	int64_t ceiling = base_s;
	for(int i = 1; i < attempt && ceiling < cap_s; i++)
		ceiling *= 2;
	if(ceiling > cap_s)
		ceiling = cap_s;
	int64_t d = (int64_t)ceil(u * (double)ceiling);
	if(d > ceiling)
		d = ceiling;
	return d < 1 ? 1 : d;
}

static int64_t floor_mod(int64_t a, int64_t m)
{
	int64_t r = a % m;
	return r < 0 ? r + m : r;
}

/* Whether second-of-day sod of the wall clock lies in [qs, qe), the
 * period crossing midnight when qs > qe. */
static bool quiet_at(int64_t sod, int64_t qs, int64_t qe)
{
	return qs < qe ? sod >= qs && sod < qe : sod >= qs || sod < qe;
}

int64_t otd_quiet_release(const struct otd_tz *tz, int64_t t, int start_min, int end_min)
{
	if(start_min == end_min || start_min < 0 || start_min >= OTD_DAY_MINUTES || end_min < 0 ||
	   end_min >= OTD_DAY_MINUTES)
		return t;
	/* Keep x + offset + a day far from overflow. */
	if(t > INT64_MAX / 2 || t < INT64_MIN / 2)
		return t;
	const int64_t qs = (int64_t)start_min * 60, qe = (int64_t)end_min * 60;
	int64_t x = t;
	/* Each round either answers or moves x to a change of the clocks,
	 * where the wall clock jumps and the question starts afresh. */
	for(int round = 0; round < 8; round++) {
		int32_t off = otd_tz_offset_at(tz, x);
		int64_t sod = floor_mod(x + off, DAY_SECONDS);
		if(!quiet_at(sod, qs, qe))
			return x;
		/* With the offset unchanged, the wall clock reads end_min this
		 * many seconds on, all of them quiet (sod != qe: qe is not quiet). */
		int64_t y = x + floor_mod(qe - sod, DAY_SECONDS);
		if(otd_tz_offset_at(tz, y) == off)
			return y;
		/* The clocks change in (x, y]: find the first instant of the
		 * new offset (binary search; one change in a day at most). */
		int64_t lo = x, hi = y;
		while(hi - lo > 1) {
			int64_t mid = lo + (hi - lo) / 2;
			if(otd_tz_offset_at(tz, mid) == off)
				lo = mid;
			else
				hi = mid;
		}
		x = hi;
	}
	return x; /* not reached with any real zone */
}
