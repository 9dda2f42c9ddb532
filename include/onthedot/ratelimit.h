/* onthedot: token-bucket rate limiting, pure arithmetic on given times.
 *
 * A bucket holds up to burst tokens and refills at rate tokens per
 * second; each request takes one. The caller supplies the time, so tests
 * and the virtual clock drive it exactly. */
#ifndef ONTHEDOT_RATELIMIT_H
#define ONTHEDOT_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct otd_bucket {
	double tokens;
	int64_t last_ms; /* 0: never used (starts full) */
};

/* Takes one token at now_ms. Returns true when allowed. When refused,
 * *retry_after_s (may be NULL) receives the whole seconds until a token is
 * available (at least 1). rate must be > 0 and burst >= 1. */
bool otd_bucket_take(struct otd_bucket *b, double rate_per_s, double burst, int64_t now_ms,
                     int *retry_after_s);

/* True when the bucket would be full at now_ms (it can be forgotten). */
bool otd_bucket_idle(const struct otd_bucket *b, double rate_per_s, double burst, int64_t now_ms);

#endif
