/* onthedot store: the queries behind the public trust figures. Each reads
 * one period [p->from, p->to) into a struct otd_trust_period (definitions
 * in onthedot/trust.h) that otd_trust_period_init prepared. Run them in
 * one read job, so the figures come from one snapshot. */
#ifndef OTD_STORE_TRUST_H
#define OTD_STORE_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "onthedot/status.h"
#include "onthedot/trust.h"

struct otd_conn;

/* Promises due, kept and early in the period, by window width and
 * overall. */
enum otd_status store_trust_kept(struct otd_conn *c, struct otd_trust_period *p,
                                 struct otd_error *err);

/* The notice given before delays: p->delays, p->told_before_start and the
 * median. */
enum otd_status store_trust_notice(struct otd_conn *c, struct otd_trust_period *p,
                                   struct otd_error *err);

/* Compensation paid in the period: cases, sum and currency. */
enum otd_status store_trust_paid(struct otd_conn *c, struct otd_trust_period *p,
                                 struct otd_error *err);

/* Feedback given in the period, by mark and moderation. */
enum otd_status store_trust_feedback(struct otd_conn *c, struct otd_trust_period *p,
                                     struct otd_error *err);

/* The latest published or redacted feedback, newest first, at most max
 * (<= OTD_TRUST_LATEST_MAX); each with given_at set and date left "" (the
 * caller writes the local date). */
enum otd_status store_trust_latest(struct otd_conn *c, struct otd_trust_comment *out, size_t max,
                                   size_t *n, struct otd_error *err);

#endif
