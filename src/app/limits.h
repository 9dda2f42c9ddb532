/* onthedot per-client limits: a table of token buckets by key (a client
 * address, an account name), shared by all request threads. */
#ifndef OTD_APP_LIMITS_H
#define OTD_APP_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

struct otd_limiter;

/* A limiter allowing burst requests at once and per_minute on average per
 * key. At most max_keys keys are tracked; idle (full) buckets are dropped
 * first when the table is full, and when none is idle the request is
 * allowed (failing open on memory pressure, never growing unbounded). */
struct otd_limiter *limiter_new(double per_minute, int burst, int max_keys);
void limiter_free(struct otd_limiter *l);

/* Takes one token for key at now_ms. False when limited; *retry_after_s
 * then says when to come back. Thread-safe. */
bool limiter_take(struct otd_limiter *l, const char *key, int64_t now_ms, int *retry_after_s);

/* The limits the service applies, built from the configuration. */
struct otd_limits {
	struct otd_limiter *login_ip;
	struct otd_limiter *login_account;
	struct otd_limiter *slots;  /* slot queries per client */
	struct otd_limiter *resend; /* "send me a new link" per client */
	struct otd_limiter *sms;    /* bookings asking for text messages, per client */
	struct otd_limiter *addresses; /* address searches (autocomplete) per client */
};

#endif
