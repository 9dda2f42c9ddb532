/* onthedot guarantee ledger use cases (DESIGN.md, Guarantees; issue 5,
 * part 2). A broken promise, or a change we made with too little notice
 * and without the customer's consent, becomes a case with the rule
 * version and amount in force at the breach, a payment deadline and its
 * evidence. Dispatchers exempt cases with a reason, finance marks them
 * paid (a late payment owes the rule's penalty too), and a quarterly
 * report sums them up. With no rule set configured no case is opened. */
#ifndef OTD_APP_GUARANTEES_H
#define OTD_APP_GUARANTEES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/app.h"
#include "store/guarantees.h"

struct otd_conn;

/* Loads the configured rule set (guarantees.rule_set: built in, or
 * guarantees.dir/NAME.json) into app->rules; none when the name is "".
 * An unknown name or a file that does not parse stops the start with a
 * message naming it. */
enum otd_status app_guarantees_load(struct otd_app *app, struct otd_error *err);

/* In tx: opens the case for the appointment's current promise breached at
 * breached_at (reason "window_missed" or "short_notice", notice_s the
 * notice given for short notice, else -1). Exempt at once (force_majeure)
 * when a declared disruption covers the appointment. *out (may be NULL)
 * receives the case; *opened whether it is new. Without a rule set, or
 * with no version in force at breached_at, nothing is opened. */
enum otd_status guarantee_open(struct otd_app *app, struct otd_conn *tx, int64_t appointment_id,
                               const char *reason, int64_t breached_at, int64_t notice_s,
                               int64_t now, struct otd_case *out, bool *opened,
                               struct otd_error *err);

/* Whether a change the organisation makes now to a promise starting at
 * window_start needs the customer's consent to cost nothing (the rule's
 * notice is not met); false without a rule set. */
bool guarantee_short_notice(struct otd_app *app, const char (*holidays)[11], size_t n_holidays,
                            int64_t now, int64_t window_start);

/* In tx, before the organisation changes or cancels a promise starting at
 * window_start without the customer's consent: opens a short_notice case
 * when the rule's notice is not met. */
enum otd_status guarantee_on_change(struct otd_app *app, struct otd_conn *tx,
                                    int64_t appointment_id, int64_t window_start, int64_t now,
                                    struct otd_error *err);

/* "£40.00" for a case's amount (out of size bytes). */
void guarantee_amount_text(const struct otd_case *c, char *out, size_t size);

/* The last day to pay a case, for people: "Friday 13 March". */
void guarantee_pay_by_text(const struct otd_app *app, const struct otd_case *c, char *out,
                           size_t size);

/* The paying use cases. */
enum otd_status app_cases_list(struct otd_app *app, const struct otd_case_filter *f,
                               struct otd_case **out, size_t *n, int64_t *next,
                               struct otd_error *err);
enum otd_status app_case_get(struct otd_app *app, int64_t id, struct otd_case *out,
                             char **evidence_json, struct otd_error *err);

/* Marks a case paid at paid_at (0: now) with paid_minor (-1: what is owed,
 * the penalty included when past the deadline). OTD_ESTATE when not open;
 * 400 when paid_minor is less than the amount owed. Audited. */
enum otd_status app_case_pay(struct otd_app *app, const struct otd_principal *actor, int64_t id,
                             int64_t paid_at, int64_t paid_minor, struct otd_case *out,
                             struct otd_error *err);

/* Marks a case exempt: reason customer_cancelled, no_access (only with the
 * visitor's no_access evidence: 422 otherwise), force_majeure or consent;
 * a note of 1 to 300 characters. Audited. */
enum otd_status app_case_exempt(struct otd_app *app, const struct otd_principal *actor, int64_t id,
                                const char *reason, const char *note, struct otd_case *out,
                                struct otd_error *err);

/* The report for a quarter "YYYY-Qn" (local dates), 400 naming quarter
 * when malformed. */
enum otd_status app_cases_report(struct otd_app *app, const char *quarter,
                                 struct otd_case_report *out, int64_t *from, int64_t *to,
                                 struct otd_error *err);

#endif
