/* onthedot: the risk state of a promise, with hysteresis, pure.
 *
 * DESIGN.md, "Risk". States: ok, watch (P(late) >= 0.2), at_risk (P >=
 * 0.5), broken (the window ended without an arrival; final). A state is
 * entered at its threshold and left only below a lower exit threshold
 * (watch 0.1, at_risk 0.35 by default) so a probability hovering near a
 * threshold does not flap. A forced promise (cannot_attend, unavailable)
 * is at_risk whatever its probability. */
#ifndef ONTHEDOT_RISK_H
#define ONTHEDOT_RISK_H

#include <stdbool.h>

enum otd_risk {
	OTD_RISK_OK,
	OTD_RISK_WATCH,
	OTD_RISK_AT_RISK,
	OTD_RISK_BROKEN,
};

struct otd_risk_thresholds {
	double watch_enter, watch_exit;     /* 0.2, 0.1 */
	double at_risk_enter, at_risk_exit; /* 0.5, 0.35 */
};

/* The defaults above. */
void otd_risk_thresholds_default(struct otd_risk_thresholds *t);

/* True when 0 <= exit <= enter <= 1 for both and watch_enter <=
 * at_risk_enter, watch_exit <= at_risk_exit. */
bool otd_risk_thresholds_valid(const struct otd_risk_thresholds *t);

/* The next state from cur given P(late) p, whether the promise is forced
 * at risk, and whether its window has ended with no arrival. */
enum otd_risk otd_risk_next(enum otd_risk cur, double p, bool forced, bool window_passed,
                            const struct otd_risk_thresholds *t);

/* "ok", "watch", "at_risk", "broken". */
const char *otd_risk_name(enum otd_risk r);

/* Parses a name; false when it is none of them. */
bool otd_risk_parse(const char *name, enum otd_risk *out);

#endif
