/* onthedot store: cheap reads for health and metrics. */
#ifndef OTD_STORE_SYSTEM_H
#define OTD_STORE_SYSTEM_H

#include <stdint.h>

#include "onthedot/status.h"

struct otd_conn;

/* A trivial read proving the database answers. */
enum otd_status store_ping(struct otd_conn *c, struct otd_error *err);

/* Outbox rows waiting to be sent (pending or sending) and uncertain ones. */
enum otd_status store_outbox_depth(struct otd_conn *c, int64_t *pending, int64_t *uncertain,
                                   struct otd_error *err);

/* Figures an operator's alerts watch, as of now (seconds):
 * oldest_due_age: how long the longest-waiting pending outbox message has
 * been due (0 when none is due); at_risk_unmessaged: appointments at_risk
 * today or later, not finished or cancelled, with no apology sent;
 * guarantee_due_24h: open guarantee cases whose deadline is within the
 * next 24 hours; guarantee_overdue: open cases past their deadline. */
struct otd_ops_gauges {
	int64_t oldest_due_age;
	int64_t at_risk_unmessaged;
	int64_t guarantee_due_24h;
	int64_t guarantee_overdue;
};

/* Fills *out as of now (the app clock's seconds) from one read; indexed
 * lookups only (outbox by state, appointments by day, cases by state). */
enum otd_status store_ops_gauges(struct otd_conn *c, int64_t now, struct otd_ops_gauges *out,
                                 struct otd_error *err);

#endif
