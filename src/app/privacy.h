/* onthedot privacy use cases (issue 10): erasing one contact's personal
 * data, the subject access export, and the audit log for admins. Where
 * personal data is kept is listed in store/privacy.h and in the record of
 * processing in README.md.
 *
 * A contact is named by the reference of one of its appointments, or by a
 * phone number or email address (every contact holding it). Erasure keeps
 * anonymous statistics (windows, statuses, kept or broken, the ledger's
 * amounts, feedback marks) and is idempotent. Through the running server
 * it also drops what the server keeps in memory (the trust figures, the
 * planner's cached days); from the command line on a database a server
 * uses, its write waits for the server's (BEGIN IMMEDIATE) and the
 * server's trust figures refresh within a minute. */
#ifndef OTD_APP_PRIVACY_H
#define OTD_APP_PRIVACY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/app.h"
#include "store/privacy.h"

#define OTD_PRIVACY_CONTACTS_MAX 64 /* contacts one phone or email may name */

/* Who an erasure or export is about: exactly one of the three. phone is
 * normalised as the booking form does (so "07700 900123" finds
 * "+447700900123"); email is normalised too. */
struct otd_privacy_subject {
	const char *reference; /* OTD-XXXXXX */
	const char *phone;
	const char *email;
};

struct otd_erase_result {
	size_t contacts;                /* contacts named */
	size_t already_erased;          /* of which erased before: nothing changed for them */
	struct otd_erase_counts counts; /* summed over the contacts erased now */
	bool log_truncated;             /* the write-ahead log was checkpointed and truncated */
};

/* Erases the personal data of the contact(s) subject names, as actor
 * (audited "customer.erase" per contact, with counts only). Refused with
 * OTD_ESTATE (422) "visit_pending", naming the reference, while one of
 * them has a visit still to come or under way: cancel it first. A subject
 * naming nothing is OTD_ENOTFOUND; a malformed one OTD_EINVAL naming
 * "reference", "phone" or "email". A contact erased before is counted in
 * already_erased and left alone. After the commit the write-ahead log is
 * checkpointed with TRUNCATE (the database writes with secure_delete, so
 * freed space holds zeros) and the server's caches drop the contact. */
enum otd_status app_privacy_erase(struct otd_app *app, const struct otd_principal *actor,
                                  const struct otd_privacy_subject *subject,
                                  struct otd_erase_result *out, struct otd_error *err);

/* The counts of an erasure as a new JSON object (for the API, the
 * command and the audit entry). */
json_t *app_erase_counts_json(const struct otd_erase_counts *c);

/* Everything held about the contact(s) subject names, as a new JSON object
 * (the caller owns *out): {"exported_at", "contacts": [...]} with, for
 * each contact, the shape of store_privacy_export; every customer link in
 * a message body reads ".../a/REDACTED". Audited ("customer.export").
 * Errors as app_privacy_erase (no visit_pending). */
enum otd_status app_privacy_export(struct otd_app *app, const struct otd_principal *actor,
                                   const struct otd_privacy_subject *subject, json_t **out,
                                   struct otd_error *err);

/* The audit log newest first (store_audit_list); f->limit is clamped to
 * 1..limits.list_max. *out: store_audit_entries_free(*out, *n). */
enum otd_status app_audit_list(struct otd_app *app, const struct otd_audit_filter *f,
                               struct otd_audit_entry **out, size_t *n, int64_t *next,
                               struct otd_error *err);

/* Replaces the secret of every customer link ("/a/" and 22 characters of
 * base64url) in s by "REDACTED", in place. */
void otd_privacy_redact_links(char *s);

#endif
