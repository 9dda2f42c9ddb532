/* onthedot store: the guarantee ledger. One case per broken promise or
 * change made with too little notice; finance pays, dispatchers exempt.
 * Functions taking tx must run in a write job. */
#ifndef OTD_STORE_GUARANTEES_H
#define OTD_STORE_GUARANTEES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onthedot/status.h"

struct otd_conn;

struct otd_case {
	int64_t id;
	int64_t appointment_id;
	char reference[11];
	int promise_version;
	char reason[24]; /* window_missed, short_notice, not_made_properly */
	char rule_set[65];
	char rule_version[65];
	int64_t amount_minor;
	char currency[4];
	int64_t breached_at, deadline_at;
	char state[8];          /* open, paid, exempt */
	char exempt_reason[24]; /* "" unless exempt */
	char exempt_note[301];
	int64_t paid_at; /* 0 unless paid */
	int64_t paid_minor;
	int64_t penalty_minor;
	int64_t notice_s; /* short notice: notice given, seconds; -1 when none */
	int64_t created_at;
};

/* Opens a case; *created false (and *id the existing case) when the promise
 * already has one for that reason. exempt_reason (may be NULL) opens it
 * exempt at once (a declared disruption). */
enum otd_status store_case_open(struct otd_conn *tx, const struct otd_case *c,
                                const char *exempt_reason, const char *exempt_note, int64_t *id,
                                bool *created, struct otd_error *err);

/* One case (with its appointment's reference). OTD_ENOTFOUND when none. */
enum otd_status store_case_get(struct otd_conn *c, int64_t id, struct otd_case *out,
                               struct otd_error *err);

/* Cases in id order after after_id: state "" for any; deadline "near"
 * (open, due within near_s of now), "passed" (open, past due) or "" for
 * any; breached in [from, to) when to > 0. At most limit; *next the last
 * id when more follow, else 0. out is heap (free). */
/* The cases of one appointment, oldest first, at most max into out. */
enum otd_status store_cases_of_appointment(struct otd_conn *c, int64_t appointment_id,
                                           struct otd_case *out, size_t max, size_t *n,
                                           struct otd_error *err);

struct otd_case_filter {
	const char *state;
	const char *deadline;
	int64_t now, near_s;
	int64_t from, to;
	int64_t after_id;
	int limit;
};
enum otd_status store_cases_list(struct otd_conn *c, const struct otd_case_filter *f,
                                 struct otd_case **out, size_t *n, int64_t *next,
                                 struct otd_error *err);

/* Settles an open case: paid (paid_minor, penalty_minor owed on top when
 * late) or exempt (reason, note). OTD_ESTATE when the case is not open. */
enum otd_status store_case_pay(struct otd_conn *tx, int64_t id, int64_t paid_at, int64_t paid_minor,
                               int64_t penalty_minor, int64_t user_id, struct otd_error *err);
enum otd_status store_case_exempt(struct otd_conn *tx, int64_t id, const char *reason,
                                  const char *note, int64_t user_id, struct otd_error *err);

/* Whether the appointment has a visitor's no_access event (the evidence a
 * no_access exemption needs), and whether a declared disruption covers it. */
enum otd_status store_appointment_has_event(struct otd_conn *c, int64_t appointment_id,
                                            const char *kind, bool *has, struct otd_error *err);
enum otd_status store_appointment_disrupted(struct otd_conn *c, int64_t appointment_id,
                                            bool *disrupted, struct otd_error *err);

/* The quarter's figures, cases breached in [from, to). */
struct otd_case_report {
	int64_t cases, breaches, exempt, open, paid, paid_late;
	int64_t owed_minor;    /* amounts of the breaches not exempt */
	int64_t paid_minor;    /* paid, penalties included */
	int64_t penalty_minor; /* of which penalties */
	char currency[4];      /* of the cases ("" when none) */
};
enum otd_status store_cases_report(struct otd_conn *c, int64_t from, int64_t to,
                                   struct otd_case_report *out, struct otd_error *err);

/* A case's evidence as a JSON array text (heap): the appointment's events
 * with times and positions, and every message sent about it with its
 * delivery reports (payloads as kept: links redacted). */
enum otd_status store_case_evidence(struct otd_conn *c, int64_t appointment_id, char **json,
                                    struct otd_error *err);

#endif
