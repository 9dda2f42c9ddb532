/* The risk state of a promise (onthedot/risk.h). */
#include "onthedot/risk.h"

#include <string.h>

static const char *const names[] = {"ok", "watch", "at_risk", "broken"};

void otd_risk_thresholds_default(struct otd_risk_thresholds *t)
{
	t->watch_enter = 0.2;
	t->watch_exit = 0.1;
	t->at_risk_enter = 0.5;
	t->at_risk_exit = 0.35;
}

static bool unit(double x)
{
	return x >= 0.0 && x <= 1.0;
}

bool otd_risk_thresholds_valid(const struct otd_risk_thresholds *t)
{
	return unit(t->watch_enter) && unit(t->watch_exit) && unit(t->at_risk_enter) &&
	       unit(t->at_risk_exit) && t->watch_exit <= t->watch_enter &&
	       t->at_risk_exit <= t->at_risk_enter && t->watch_enter <= t->at_risk_enter &&
	       t->watch_exit <= t->at_risk_exit;
}

enum otd_risk otd_risk_next(enum otd_risk cur, double p, bool forced, bool window_passed,
                            const struct otd_risk_thresholds *t)
{
	if(cur == OTD_RISK_BROKEN || window_passed)
		return OTD_RISK_BROKEN;
	if(forced)
		return OTD_RISK_AT_RISK;
	/* Up at the enter thresholds, at once. */
	enum otd_risk up = p >= t->at_risk_enter ? OTD_RISK_AT_RISK
	                   : p >= t->watch_enter ? OTD_RISK_WATCH
	                                         : OTD_RISK_OK;
	if(up >= cur)
		return up;
	/* Down only below the exit thresholds: a state stays while p is at or
	 * above its exit, and a step down lands on the level p still holds
	 * by the exit of the level below. */
	if(cur == OTD_RISK_AT_RISK && p >= t->at_risk_exit)
		return OTD_RISK_AT_RISK;
	return p >= t->watch_exit ? OTD_RISK_WATCH : OTD_RISK_OK;
}

const char *otd_risk_name(enum otd_risk r)
{
	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "ok";
}

bool otd_risk_parse(const char *name, enum otd_risk *out)
{
	for(unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if(strcmp(name, names[i]) == 0) {
			*out = (enum otd_risk)i;
			return true;
		}
	return false;
}
