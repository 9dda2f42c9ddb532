/* onthedot system use cases: health and the numbers /metrics shows. */
#ifndef OTD_APP_SYSTEM_H
#define OTD_APP_SYSTEM_H

#include <stdint.h>

#include "app/app.h"
#include "store/store.h"
#include "store/system.h"

/* A cheap database read. OTD_OK when the service can answer. */
enum otd_status app_health(struct otd_app *app, struct otd_error *err);

struct otd_app_metrics {
	struct otd_store_stats store;
	int64_t outbox_pending;
	int64_t outbox_uncertain;
	int64_t outbox_uncertain_total; /* sends ever cut off by a crash */
	int64_t outbox_failed, outbox_sent;
	int64_t now;
	bool virtual_clock;
	struct otd_ops_gauges ops; /* what the example alerts watch (store/system.h) */
};

/* Collects store and outbox figures. */
enum otd_status app_metrics(struct otd_app *app, struct otd_app_metrics *out,
                            struct otd_error *err);

/* Moves a virtual clock forward by seconds, or to an instant (when to > 0).
 * OTD_ENOTFOUND for a real clock (the route does not exist then);
 * OTD_EINVAL for a negative step or an instant in the past. Audited. */
enum otd_status app_clock_advance(struct otd_app *app, const struct otd_principal *actor,
                                  int64_t seconds, int64_t to, int64_t *now,
                                  struct otd_error *err);

#endif
