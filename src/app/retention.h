/* onthedot retention (issue 10): personal data is kept only as long as the
 * configuration says (group "retention", README.md: Privacy).
 *
 *   contact_days: a contact whose every visit ended or was cancelled that
 *     long ago (and who has written nothing since, has no visit to come
 *     and no open guarantee case) is anonymised exactly as an erasure does
 *     (audited "customer.anonymise"); texts from unknown senders that old
 *     lose their sender and words.
 *   evidence_days: appointment events, visitors' taps and delivery
 *     reports are deleted after it, except those of an appointment with an
 *     open guarantee case.
 *   position_days: visitors' positions (and each day's last position)
 *     are deleted after it, except within 12 hours of the window of a
 *     visit of theirs with an open case.
 *   ip_days: IP addresses in sessions and the audit log are blanked.
 * 0 keeps that data. A pass runs in batches of OTD_RETENTION_BATCH rows, each
 * its own write job, so bookings interleave; it logs counts only and adds
 * them to app->retention (otd_retention_* on /metrics). */
#ifndef OTD_APP_RETENTION_H
#define OTD_APP_RETENTION_H

#include <stdbool.h>
#include <stdint.h>

#include "app/app.h"

#define OTD_RETENTION_BATCH 500    /* rows per write job */
#define OTD_RETENTION_CONTACTS 20  /* contacts per write job */
#define OTD_RETENTION_BATCHES 2000 /* write jobs per rule and pass, at most */
#define OTD_RETENTION_PERIOD 86400 /* seconds of the app clock between passes */

struct otd_retention_report {
	int64_t contacts;   /* anonymised */
	int64_t inbound;    /* texts from unknown senders cleared */
	int64_t events;     /* appointment and visitor events deleted */
	int64_t receipts;   /* delivery reports deleted */
	int64_t positions;  /* positions deleted or cleared */
	int64_t ips;        /* IP addresses blanked */
	bool log_truncated; /* something changed and the log was checkpointed (TRUNCATE) */
};

/* Runs one retention pass at the app clock's now. out (may be NULL)
 * receives what it did. The first failing step stops it (what committed
 * before stays; the next pass goes on). */
enum otd_status app_retention_pass(struct otd_app *app, struct otd_retention_report *out,
                                   struct otd_error *err);

/* What app_retention_pass would do now, without doing it: the same
 * steps in one transaction that is rolled back (it holds the write lock
 * while it counts). out receives the counts; log_truncated is false. */
enum otd_status app_retention_dry_run(struct otd_app *app, struct otd_retention_report *out,
                                      struct otd_error *err);

/* For the ticker: runs a pass when none ran yet in this process or the
 * last one was OTD_RETENTION_PERIOD or more ago on the app clock (the
 * virtual clock moves it in tests); *ran (may be NULL) says whether it
 * did. Two callers at once run one pass. */
enum otd_status app_retention_due(struct otd_app *app, bool *ran, struct otd_error *err);

#endif
