/* Token buckets. */
#include "onthedot/ratelimit.h"

#include <math.h>

static double level(const struct otd_bucket *b, double rate, double burst, int64_t now_ms)
{
	if(b->last_ms == 0)
		return burst;
	double elapsed = (double)(now_ms - b->last_ms) / 1000.0;
	if(elapsed < 0)
		elapsed = 0; /* a clock step backwards refills nothing */
	double t = b->tokens + elapsed * rate;
	return t > burst ? burst : t;
}

bool otd_bucket_take(struct otd_bucket *b, double rate_per_s, double burst, int64_t now_ms,
                     int *retry_after_s)
{
	double t = level(b, rate_per_s, burst, now_ms);
	b->last_ms = now_ms;
	if(t >= 1.0) {
		b->tokens = t - 1.0;
		return true;
	}
	b->tokens = t;
	if(retry_after_s) {
		double wait = (1.0 - t) / rate_per_s;
		int s = (int)ceil(wait);
		*retry_after_s = s < 1 ? 1 : s;
	}
	return false;
}

bool otd_bucket_idle(const struct otd_bucket *b, double rate_per_s, double burst, int64_t now_ms)
{
	return level(b, rate_per_s, burst, now_ms) >= burst;
}
