/* onthedot ticker: the thread that does what time alone makes due. Now:
 * expired holds are deleted an hour after they lapse (their capacity is already free to offers,
 * which skip expired holds; this keeps the table small and returns lapsed
 * waitlist offers to the queue); then the risk pass over every active
 * route (app_risk_pass), so a silent visitor still raises risk as time
 * passes. */
#ifndef OTD_APP_TICKER_H
#define OTD_APP_TICKER_H

#include "app/app.h"

struct otd_ticker;

/* Starts the ticker thread, one pass every period_s seconds (wall time).
 * A pass with a failed step is logged and counted (app->ticker) and the
 * next one waits ticker_backoff_s; the thread runs until ticker_stop,
 * whatever fails. NULL when the thread cannot be created. */
struct otd_ticker *ticker_start(struct otd_app *app, int period_s);

/* Stops the thread after its current pass and frees it. NULL is ignored. */
void ticker_stop(struct otd_ticker *t);

/* Seconds the ticker waits before its next pass after failures passes
 * in a row failed: period_s for 0 or 1, then doubling up to 16 periods,
 * and never more than max(period_s, 300). */
int ticker_backoff_s(int period_s, int failures);

/* One pass, on the calling thread (tests, the virtual clock). Each step
 * runs whatever the others did; failures are logged and counted in
 * app->ticker.errors, a pass without one sets app->ticker.last_success
 * (wall-clock seconds). */
void ticker_pass(struct otd_app *app);

/* The same, returning the first step's failure (err filled when not
 * NULL), for callers that must not go on after one (the simulator). */
enum otd_status ticker_pass_checked(struct otd_app *app, struct otd_error *err);

#endif
