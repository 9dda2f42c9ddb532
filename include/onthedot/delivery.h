/* onthedot: when to (re)try a message, pure.
 *
 * DESIGN.md (Messaging): the delivery worker retries with exponential
 * backoff and respects quiet hours (except for same-day changes, which the
 * caller decides). Core draws no randomness and reads no clock: the worker
 * passes the current time and a uniform random number in. */
#ifndef ONTHEDOT_DELIVERY_H
#define ONTHEDOT_DELIVERY_H

#include <stdint.h>

#include "onthedot/tz.h"

/* Minutes in a day: quiet-hour bounds are 0 .. OTD_DAY_MINUTES - 1. */
#define OTD_DAY_MINUTES 1440

/* Seconds to wait before retry number attempt (1 for the first retry),
 * exponential backoff with "full jitter" (Marc Brooker, "Exponential
 * Backoff And Jitter", AWS Architecture Blog, 2015):
 *     ceil(u * min(cap_s, base_s * 2^(attempt - 1))), at least 1.
 * u is a uniform random number in [0, 1) the caller draws; values outside
 * (and NaN) are taken as the nearest end of that range, so the result never
 * exceeds the ceiling. attempt below 1 counts as 1, base_s below 1 as 1 and
 * cap_s below base_s as base_s. Never overflows: any attempt up to INT_MAX
 * gives at most max(cap_s, base_s) seconds. */
int64_t otd_backoff_seconds(int attempt, int base_s, int cap_s, double u);

/* The first instant >= t outside the daily quiet period in zone tz: the
 * wall-clock times from start_min (inclusive) to end_min (exclusive),
 * minutes after local midnight as read on the clock (21:00 is 1260). When
 * start_min > end_min the period crosses midnight (21:00 to 08:00); when
 * they are equal there are no quiet hours and t is returned. Bounds
 * outside 0 .. OTD_DAY_MINUTES - 1 also mean no quiet hours, and so does a
 * t more than 2^62 seconds from the epoch (out of any calendar's reach).
 *
 * The answer follows the wall clock through changes of the clocks: when
 * the end of the period falls in a gap (it never shows on the clock) the
 * period ends at the instant the clocks jump past it; when it falls in an
 * overlap (it shows twice) the period ends at whichever showing comes
 * first at or after t; and when the clocks go back out of the period and
 * later into it again, the instants in between are outside it. Assumes, as
 * every real zone does, at most one change of the clocks within any day. */
int64_t otd_quiet_release(const struct otd_tz *tz, int64_t t, int start_min, int end_min);

#endif
