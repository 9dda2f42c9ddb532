/* Privacy: erasure, the subject access export, the audit log and the
 * retention batches (store/privacy.h). */
#include "store/privacy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "store/sql.h"

/* The payload an erased contact's message keeps: nothing of it. */
#define ERASED_PAYLOAD "{\"erased\":true}"
/* Placeholder addresses: their match key can never come from an import. */
#define PLACEHOLDER_PREFIX "~erased~|"

/* ---- statements -------------------------------------------------------------- */

/* These statements run rarely: prepared and finalised each time, so they
 * take no place in the connection's statement cache. */
static struct otd_stmt *prep(struct otd_conn *c, const char *sql, struct otd_error *err)
{
	return conn_prepare_once(c, sql, err);
}

/* Steps st to its end, finalises it and adds the rows it changed to
 * *changes (may be NULL). */
static enum otd_status run(struct otd_conn *c, struct otd_stmt *st, const char *what,
                           int64_t *changes, struct otd_error *err)
{
	int rc = db_step(st);
	if(rc != DB_DONE) {
		enum otd_status s = conn_fail(c, rc, what, err);
		db_finalize(st);
		return s;
	}
	db_finalize(st);
	if(changes)
		*changes += conn_changes(c);
	return OTD_OK;
}

/* Runs sql with ?1 = a and ?2 = b (unused parameters are ignored). */
static enum otd_status exec2(struct otd_conn *c, const char *sql, int64_t a, int64_t b,
                             const char *what, int64_t *changes, struct otd_error *err)
{
	struct otd_stmt *st = prep(c, sql, err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, a);
	if(db_bind_parameter_count(st) >= 2)
		db_bind_int64(st, 2, b);
	return run(c, st, what, changes, err);
}

/* The end of a query loop: finalises st; rc the last step's result. */
static enum otd_status query_end(struct otd_conn *c, struct otd_stmt *st, int rc, const char *what,
                                 struct otd_error *err)
{
	enum otd_status s = OTD_OK;
	if(rc != DB_DONE && rc != DB_ROW)
		s = conn_fail(c, rc, what, err);
	db_finalize(st);
	return s;
}

/* ---- finding a contact ------------------------------------------------------------ */

enum otd_status store_privacy_contact_of_reference(struct otd_conn *c, const char *reference,
                                                   int64_t *customer_id, struct otd_error *err)
{
	struct otd_stmt *st =
	    prep(c, "SELECT customer_id FROM appointments WHERE reference = ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, reference);
	int rc = db_step(st);
	if(rc == DB_ROW)
		*customer_id = db_column_int64(st, 0);
	enum otd_status s = query_end(c, st, rc, "find the appointment", err);
	if(s == OTD_OK && rc != DB_ROW)
		return otd_error_set(err, OTD_ENOTFOUND, "not_found", "reference",
		                     "There is no appointment with reference %s.", reference);
	return s;
}

enum otd_status store_privacy_contacts_by(struct otd_conn *c, const char *phone, const char *email,
                                          int64_t *ids, size_t max, size_t *n,
                                          struct otd_error *err)
{
	*n = 0;
	struct otd_stmt *st =
	    prep(c,
	         "SELECT id FROM customers WHERE (CAST(?1 AS TEXT) IS NOT NULL AND phone = ?1) OR "
	         "(CAST(?2 AS TEXT) IS NOT NULL AND email = ?2) ORDER BY id",
	         err);
	if(!st)
		return OTD_EIO;
	conn_bind_text(st, 1, phone && phone[0] ? phone : NULL);
	conn_bind_text(st, 2, email && email[0] ? email : NULL);
	int rc;
	while((rc = db_step(st)) == DB_ROW && *n < max)
		ids[(*n)++] = db_column_int64(st, 0);
	return query_end(c, st, rc, "find contacts", err);
}

enum otd_status store_privacy_erased_at(struct otd_conn *c, int64_t customer_id, int64_t *erased_at,
                                        struct otd_error *err)
{
	struct otd_stmt *st =
	    prep(c, "SELECT coalesce(erased_at, 0) FROM customers WHERE id = ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, customer_id);
	int rc = db_step(st);
	*erased_at = rc == DB_ROW ? db_column_int64(st, 0) : 0;
	enum otd_status s = query_end(c, st, rc, "read the contact", err);
	if(s == OTD_OK && rc != DB_ROW)
		return otd_error_set(err, OTD_ENOTFOUND, "not_found", NULL,
		                     "There is no such contact.");
	return s;
}

enum otd_status store_privacy_pending_visit(struct otd_conn *c, int64_t customer_id, int64_t now,
                                            char reference[16], struct otd_error *err)
{
	reference[0] = '\0';
	struct otd_stmt *st =
	    prep(c,
	         "SELECT reference FROM appointments WHERE customer_id = ?1 AND status "
	         "IN ('booked', 'travelling', 'arrived') AND window_end > ?2 - 86400 "
	         "ORDER BY window_start LIMIT 1",
	         err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, customer_id);
	db_bind_int64(st, 2, now);
	int rc = db_step(st);
	if(rc == DB_ROW)
		conn_column_copy(reference, 16, st, 0);
	return query_end(c, st, rc, "look for visits to come", err);
}

/* ---- erasure ---------------------------------------------------------------------- */

/* The contact's appointments, as a subquery on ?1. */
#define APPTS "(SELECT id FROM appointments WHERE customer_id = ?1)"
/* The messages of the contact ?1, found by the outbox's indexes: those about
 * their appointments, and those to their number or address (?3, ?4) sent
 * before we knew them. */
#define MSGS                                                                                       \
	"(SELECT id FROM outbox WHERE appointment_id IN " APPTS " UNION SELECT id FROM outbox "    \
	"WHERE recipient IN (?3, ?4) AND (customer_id IS NULL OR customer_id = ?1))"

static const char *const personal_keys[] = {
    "note", "comment", "text",    "name",         "phone", "email", "sender",  "body",
    "to",   "to_name", "address", "access_notes", "link",  "html",  "subject", "ics",
};

static double round2(double x)
{
	return round(x * 100.0) / 100.0;
}

/* detail (JSON text) without personal keys ("reason" too when
 * drop_reason) and with positions rounded; a heap string, or NULL when
 * nothing changed. */
static char *scrub_detail(const char *detail, bool drop_reason)
{
	json_t *o = json_loads(detail ? detail : "{}", 0, NULL);
	if(!json_is_object(o)) {
		json_decref(o);
		return detail && strcmp(detail, "{}") == 0 ? NULL : xstrdup("{}");
	}
	bool changed = false;
	for(size_t i = 0; i < sizeof(personal_keys) / sizeof(personal_keys[0]); i++)
		if(json_object_del(o, personal_keys[i]) == 0)
			changed = true;
	if(drop_reason && json_object_del(o, "reason") == 0)
		changed = true;
	const char *pos[] = {"lat", "lon"};
	for(size_t i = 0; i < 2; i++) {
		json_t *v = json_object_get(o, pos[i]);
		if(json_is_number(v)) {
			double x = json_number_value(v), r = round2(x);
			if(r != x) {
				json_object_set_new(o, pos[i], json_real(r));
				changed = true;
			}
		}
	}
	char *out = changed ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(12)) : NULL;
	json_decref(o);
	return out;
}

struct event_row {
	int64_t id;
	char *detail;
	bool has_pos;
	double lat, lon;
};

/* Scrubs the events of table ("appointment_events" or "visitor_events")
 * of the contact's appointments: free text out of the detail, positions
 * rounded to 2 decimals. */
static enum otd_status scrub_events(struct otd_conn *tx, int64_t customer_id, bool visitor,
                                    int64_t *count, struct otd_error *err)
{
	struct otd_stmt *st =
	    prep(tx,
	         visitor ? "SELECT id, detail, lat, lon FROM visitor_events WHERE "
	                   "appointment_id IN " APPTS
	                 : "SELECT id, detail, lat, lon FROM appointment_events WHERE "
	                   "appointment_id IN " APPTS,
	         err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, customer_id);
	struct event_row *rows = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while((rc = db_step(st)) == DB_ROW) {
		if(n == cap) {
			cap = cap ? cap * 2 : 32;
			rows = xrealloc(rows, cap * sizeof(*rows));
		}
		struct event_row *r = &rows[n++];
		r->id = db_column_int64(st, 0);
		r->detail = conn_column_dup(st, 1);
		r->has_pos = !db_column_is_null(st, 2);
		r->lat = db_column_double(st, 2);
		r->lon = db_column_double(st, 3);
	}
	enum otd_status s = query_end(tx, st, rc, "read events", err);
	for(size_t i = 0; i < n && s == OTD_OK; i++) {
		struct event_row *r = &rows[i];
		char *detail = scrub_detail(r->detail, true);
		bool moved = r->has_pos && (round2(r->lat) != r->lat || round2(r->lon) != r->lon);
		if(!detail && !moved)
			continue;
		st = prep(
		    tx,
		    visitor
		        ? "UPDATE visitor_events SET detail = ?2, lat = ?3, lon = ?4 WHERE id = ?1"
		        : "UPDATE appointment_events SET detail = ?2, lat = ?3, lon = ?4 WHERE "
		          "id = ?1",
		    err);
		if(!st) {
			free(detail);
			s = OTD_EIO;
			break;
		}
		db_bind_int64(st, 1, r->id);
		db_bind_text_copy(st, 2, detail ? detail : r->detail);
		if(r->has_pos) {
			db_bind_double(st, 3, round2(r->lat));
			db_bind_double(st, 4, round2(r->lon));
		}
		free(detail);
		s = run(tx, st, "scrub an event", NULL, err);
		(*count)++;
	}
	for(size_t i = 0; i < n; i++)
		free(rows[i].detail);
	free(rows);
	return s;
}

struct audit_row {
	int64_t id;
	bool appointment; /* about an appointment or the contact: its "reason" is free text */
	bool customer_ip; /* the customer's own action: the IP is theirs */
	char *detail;
};

static enum otd_status scrub_audit(struct otd_conn *tx, int64_t customer_id, int64_t *count,
                                   struct otd_error *err)
{
	struct otd_stmt *st = prep(
	    tx,
	    "SELECT id, entity IN ('appointment', 'customer'), actor_kind = 'customer' AND ip <> "
	    "'', "
	    "detail FROM audit_log WHERE (entity = 'appointment' AND entity_id IN " APPTS ") OR "
	    "(entity = 'customer' AND entity_id = ?1) OR (entity = 'feedback' AND entity_id IN "
	    "(SELECT id FROM feedback WHERE appointment_id IN " APPTS ")) OR (entity = "
	    "'guarantee_case' AND entity_id IN (SELECT id FROM guarantee_cases WHERE "
	    "appointment_id "
	    "IN " APPTS "))",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, customer_id);
	struct audit_row *rows = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while((rc = db_step(st)) == DB_ROW) {
		if(n == cap) {
			cap = cap ? cap * 2 : 32;
			rows = xrealloc(rows, cap * sizeof(*rows));
		}
		struct audit_row *r = &rows[n++];
		r->id = db_column_int64(st, 0);
		r->appointment = db_column_int(st, 1) != 0;
		r->customer_ip = db_column_int(st, 2) != 0;
		r->detail = conn_column_dup(st, 3);
	}
	enum otd_status s = query_end(tx, st, rc, "read audit entries", err);
	for(size_t i = 0; i < n && s == OTD_OK; i++) {
		struct audit_row *r = &rows[i];
		char *detail = scrub_detail(r->detail, r->appointment);
		if(!detail && !r->customer_ip)
			continue;
		st = prep(
		    tx,
		    "UPDATE audit_log SET detail = ?2, ip = CASE WHEN ?3 <> 0 THEN '' ELSE ip END "
		    "WHERE id = ?1",
		    err);
		if(!st) {
			free(detail);
			s = OTD_EIO;
			break;
		}
		db_bind_int64(st, 1, r->id);
		db_bind_text_copy(st, 2, detail ? detail : r->detail);
		db_bind_int(st, 3, r->customer_ip);
		free(detail);
		s = run(tx, st, "scrub an audit entry", NULL, err);
		(*count)++;
	}
	for(size_t i = 0; i < n; i++)
		free(rows[i].detail);
	free(rows);
	return s;
}

/* The postcode district (outward code) of a normalised postcode: all but
 * the last three characters of a full UK postcode. */
static void district_of(const char *postcode_norm, char *out, size_t size)
{
	size_t n = strlen(postcode_norm);
	if(n >= 5)
		n -= 3;
	snprintf(out, size, "%.*s", (int)n, postcode_norm);
}

/* The placeholder address of a district: found, or made (retired, so no
 * search or booking offers it). */
static enum otd_status placeholder(struct otd_conn *tx, const char *district, const char *town,
                                   double lat, double lon, int64_t now, int64_t *id,
                                   struct otd_error *err)
{
	char key[64], line1[64];
	snprintf(key, sizeof(key), PLACEHOLDER_PREFIX "%s", district);
	snprintf(line1, sizeof(line1), "Address erased (%s)", district);
	struct otd_stmt *st =
	    prep(tx, "SELECT id FROM addresses WHERE uprn IS NULL AND match_key = ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, key);
	int rc = db_step(st);
	if(rc == DB_ROW)
		*id = db_column_int64(st, 0);
	enum otd_status s = query_end(tx, st, rc, "find a placeholder address", err);
	if(s || rc == DB_ROW)
		return s;
	st = prep(
	    tx,
	    "INSERT INTO addresses(uprn, line1, line2, town, postcode, postcode_norm, match_key, "
	    "lat, lon, retired, created_at, updated_at) VALUES (NULL, ?1, '', ?2, ?3, ?3, ?4, ?5, "
	    "?6, 1, ?7, ?7)",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_text(st, 1, line1);
	db_bind_text(st, 2, town);
	db_bind_text(st, 3, district);
	db_bind_text(st, 4, key);
	db_bind_double(st, 5, round2(lat));
	db_bind_double(st, 6, round2(lon));
	db_bind_int64(st, 7, now);
	s = run(tx, st, "make a placeholder address", NULL, err);
	if(s == OTD_OK)
		*id = conn_last_id(tx);
	return s;
}

struct address_row {
	int64_t id;
	char postcode[16];
	char town[104];
	double lat, lon;
};

static enum otd_status repoint_addresses(struct otd_conn *tx, int64_t customer_id, int64_t now,
                                         int64_t *count, struct otd_error *err)
{
	struct otd_stmt *st =
	    prep(tx,
	         "SELECT DISTINCT d.id, d.postcode_norm, d.town, d.lat, d.lon FROM "
	         "appointments a JOIN addresses d ON d.id = a.address_id WHERE "
	         "a.customer_id = ?1 AND d.match_key NOT LIKE '~erased~|%'",
	         err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, customer_id);
	struct address_row *rows = NULL;
	size_t n = 0, cap = 0;
	int rc;
	while((rc = db_step(st)) == DB_ROW) {
		if(n == cap) {
			cap = cap ? cap * 2 : 8;
			rows = xrealloc(rows, cap * sizeof(*rows));
		}
		struct address_row *r = &rows[n++];
		r->id = db_column_int64(st, 0);
		conn_column_copy(r->postcode, sizeof(r->postcode), st, 1);
		conn_column_copy(r->town, sizeof(r->town), st, 2);
		r->lat = db_column_double(st, 3);
		r->lon = db_column_double(st, 4);
	}
	enum otd_status s = query_end(tx, st, rc, "read addresses", err);
	for(size_t i = 0; i < n && s == OTD_OK; i++) {
		char district[16];
		district_of(rows[i].postcode, district, sizeof(district));
		int64_t pid = 0;
		s = placeholder(tx, district, rows[i].town, rows[i].lat, rows[i].lon, now, &pid,
		                err);
		if(s)
			break;
		st = prep(
		    tx,
		    "UPDATE appointments SET address_id = ?3, updated_at = max(?4, created_at) "
		    "WHERE customer_id = ?1 AND address_id = ?2",
		    err);
		if(!st) {
			s = OTD_EIO;
			break;
		}
		db_bind_int64(st, 1, customer_id);
		db_bind_int64(st, 2, rows[i].id);
		db_bind_int64(st, 3, pid);
		db_bind_int64(st, 4, now);
		if((s = run(tx, st, "re-point an appointment's address", count, err)))
			break;
		/* An address no longer in the gazetteer that only this contact
		 * used is theirs alone: it goes. */
		s = exec2(
		    tx,
		    "DELETE FROM addresses WHERE id = ?1 AND retired = 1 AND NOT EXISTS (SELECT 1 "
		    "FROM appointments WHERE address_id = ?1) AND NOT EXISTS (SELECT 1 FROM holds "
		    "WHERE address_id = ?1)",
		    rows[i].id, 0, "delete an unused address", NULL, err);
	}
	free(rows);
	return s;
}

enum otd_status store_privacy_erase(struct otd_conn *tx, int64_t customer_id, int64_t now,
                                    struct otd_erase_counts *counts, struct otd_erase_day *days,
                                    size_t max_days, size_t *n_days, struct otd_error *err)
{
	struct otd_erase_counts local;
	if(!counts)
		counts = &local;
	memset(counts, 0, sizeof(*counts));
	size_t nd = 0;
	/* The contact's phone and email, to find what they sent or were
	 * sent without being recognised as them. */
	char phone[24] = "", email[256] = "";
	struct otd_stmt *st = prep(tx, "SELECT phone, email FROM customers WHERE id = ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, customer_id);
	int rc = db_step(st);
	if(rc == DB_ROW) {
		conn_column_copy(phone, sizeof(phone), st, 0);
		conn_column_copy(email, sizeof(email), st, 1);
	}
	enum otd_status s = query_end(tx, st, rc, "read the contact", err);
	if(s)
		return s;
	if(rc != DB_ROW)
		return otd_error_set(err, OTD_ENOTFOUND, "not_found", NULL,
		                     "There is no such contact.");

	st = prep(tx, "SELECT count(*) FROM appointments WHERE customer_id = ?1", err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, customer_id);
	rc = db_step(st);
	counts->appointments = rc == DB_ROW ? db_column_int64(st, 0) : 0;
	if((s = query_end(tx, st, rc, "count appointments", err)))
		return s;

	/* Links and offers: nothing reaches the appointments any more. */
	if((s = exec2(tx,
	              "UPDATE appointment_links SET revoked_at = ?2 WHERE revoked_at IS NULL AND "
	              "appointment_id IN " APPTS,
	              customer_id, now, "revoke links", &counts->links_revoked, err)))
		return s;
	st = prep(
	    tx, "SELECT DISTINCT visitor_id, local_date FROM holds WHERE for_appointment IN " APPTS,
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, customer_id);
	while((rc = db_step(st)) == DB_ROW) {
		if(days && nd < max_days) {
			days[nd].visitor_id = db_column_int64(st, 0);
			conn_column_copy(days[nd].local_date, sizeof(days[nd].local_date), st, 1);
			nd++;
		}
	}
	if((s = query_end(tx, st, rc, "read holds", err)))
		return s;
	if((s = exec2(
	        tx,
	        "UPDATE waitlist SET state = 'withdrawn', updated_at = max(?2, created_at) WHERE "
	        "state IN ('waiting', 'offered') AND appointment_id IN " APPTS,
	        customer_id, now, "withdraw from the waitlist", NULL, err)) ||
	   (s = exec2(tx, "DELETE FROM holds WHERE for_appointment IN " APPTS, customer_id, 0,
	              "delete holds", &counts->holds_deleted, err)))
		return s;

	/* Messages: their delivery reports, then the rows themselves. */
	const char *sqls[] = {
	    "UPDATE delivery_receipts SET detail = '{}' WHERE detail <> '{}' AND outbox_id "
	    "IN " MSGS,
	    "UPDATE outbox SET state = 'cancelled' WHERE state IN ('pending', 'uncertain') AND id "
	    "IN " MSGS,
	    "UPDATE outbox SET payload = '" ERASED_PAYLOAD "', recipient = NULL, last_error = CASE "
	    "WHEN last_error IS NULL THEN NULL ELSE 'erased' END WHERE (payload <> '" ERASED_PAYLOAD
	    "' OR recipient IS NOT NULL) AND id IN " MSGS,
	};
	int64_t *targets[] = {&counts->receipts, &counts->messages_cancelled, &counts->messages};
	for(size_t i = 0; i < 3; i++) {
		st = prep(tx, sqls[i], err);
		if(!st)
			return OTD_EIO;
		db_bind_int64(st, 1, customer_id);
		conn_bind_text(st, 3, phone[0] ? phone : NULL);
		conn_bind_text(st, 4, email[0] ? email : NULL);
		if((s = run(tx, st, "clear messages", targets[i], err)))
			return s;
	}

	/* What they sent and said. */
	st = prep(tx,
	          "UPDATE inbound_messages SET sender = '" OTD_ERASED_NAME "', body = '' WHERE "
	          "(sender <> '" OTD_ERASED_NAME "' OR body <> '') AND (customer_id = ?1 OR "
	          "appointment_id IN " APPTS " OR (customer_id IS NULL AND CAST(?3 AS TEXT) IS NOT NULL AND "
	          "sender = ?3))",
	          err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, customer_id);
	conn_bind_text(st, 3, phone[0] ? phone : NULL);
	if((s = run(tx, st, "clear inbound messages", &counts->inbound, err)))
		return s;
	if((s = exec2(tx,
	              "UPDATE feedback SET comment = '', published_comment = CASE WHEN "
	              "published_comment IS NULL THEN NULL ELSE '' END, moderation_reason = NULL "
	              "WHERE appointment_id IN " APPTS " AND (comment <> '' OR "
	              "coalesce(published_comment, '') <> '' OR moderation_reason IS NOT NULL)",
	              customer_id, 0, "clear feedback", &counts->feedback, err)) ||
	   (s = exec2(tx,
	              "UPDATE tasks SET note = '' WHERE note <> '' AND appointment_id IN " APPTS,
	              customer_id, 0, "clear task notes", &counts->tasks, err)) ||
	   (s = exec2(tx,
	              "UPDATE guarantee_cases SET exempt_note = NULL WHERE exempt_note IS NOT NULL "
	              "AND appointment_id IN " APPTS,
	              customer_id, 0, "clear exemption notes", NULL, err)) ||
	   (s = exec2(tx,
	              "UPDATE appointments SET cancel_reason = NULL, updated_at = max(?2, "
	              "created_at) WHERE customer_id = ?1 AND cancel_reason IS NOT NULL",
	              customer_id, now, "clear cancellation reasons", NULL, err)) ||
	   (s = exec2(
	        tx,
	        "DELETE FROM idempotency_keys WHERE entity = 'appointment' AND entity_id IN " APPTS,
	        customer_id, 0, "delete idempotency records", &counts->idempotency, err)))
		return s;
	if((s = scrub_events(tx, customer_id, false, &counts->events, err)) ||
	   (s = scrub_events(tx, customer_id, true, &counts->events, err)) ||
	   (s = scrub_audit(tx, customer_id, &counts->audit, err)) ||
	   (s = repoint_addresses(tx, customer_id, now, &counts->addresses, err)))
		return s;
	s = exec2(tx,
	          "UPDATE customers SET name = '" OTD_ERASED_NAME "', phone = NULL, email = NULL, "
	          "access_notes = '', erased_at = coalesce(erased_at, ?2) WHERE id = ?1",
	          customer_id, now, "erase the contact", NULL, err);
	if(n_days)
		*n_days = nd;
	return s;
}

/* ---- the export -------------------------------------------------------------------- */

static json_t *col_text(struct otd_stmt *st, int i)
{
	const unsigned char *t = db_column_text(st, i);
	return t ? json_string((const char *)t) : json_null();
}

static json_t *col_time(struct otd_stmt *st, int i)
{
	if(db_column_is_null(st, i))
		return json_null();
	char buf[32];
	otd_rfc3339_format(db_column_int64(st, i), buf, sizeof(buf));
	return json_string(buf);
}

static json_t *col_int(struct otd_stmt *st, int i)
{
	if(db_column_is_null(st, i))
		return json_null();
	return json_integer(db_column_int64(st, i));
}

/* Column i parsed as JSON (the text itself when it is not JSON). */
static json_t *col_json(struct otd_stmt *st, int i)
{
	const char *t = (const char *)db_column_text(st, i);
	if(!t)
		return json_null();
	json_t *v = json_loads(t, JSON_DECODE_ANY, NULL);
	return v ? v : json_string(t);
}

/* The visitor's first name: what customers are told. */
static json_t *col_first_name(struct otd_stmt *st, int i)
{
	const char *t = (const char *)db_column_text(st, i);
	if(!t)
		return json_null();
	size_t n = strcspn(t, " ");
	return json_stringn(t, n ? n : strlen(t));
}

/* Rows of sql (?1 = id) as JSON objects through row_fn, into a new array. */
typedef json_t *(*row_fn)(struct otd_stmt *st);

static enum otd_status rows_json(struct otd_conn *c, const char *sql, int64_t id, row_fn fn,
                                 const char *what, json_t **out, struct otd_error *err)
{
	*out = json_array();
	struct otd_stmt *st = prep(c, sql, err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, id);
	int rc;
	while((rc = db_step(st)) == DB_ROW)
		json_array_append_new(*out, fn(st));
	return query_end(c, st, rc, what, err);
}

static json_t *event_json(struct otd_stmt *st)
{
	json_t *detail = col_json(st, 4);
	/* The visitor's position is theirs, not the customer's. */
	if(json_is_object(detail)) {
		json_object_del(detail, "lat");
		json_object_del(detail, "lon");
	}
	return json_pack("{s:o,s:o,s:o,s:o,s:o}", "kind", col_text(st, 0), "at", col_time(st, 1),
	                 "claimed_at", col_time(st, 2), "actor_kind", col_text(st, 3), "detail",
	                 detail);
}

static json_t *receipt_json(struct otd_stmt *st)
{
	return json_pack("{s:o,s:o,s:o,s:o}", "at", col_time(st, 0), "provider", col_text(st, 1),
	                 "status", col_text(st, 2), "detail", col_json(st, 3));
}

static json_t *case_json(struct otd_stmt *st)
{
	return json_pack(
	    "{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "id", col_int(st, 0),
	    "reason", col_text(st, 1), "rule_set", col_text(st, 2), "rule_version", col_text(st, 3),
	    "amount_minor", col_int(st, 4), "currency", col_text(st, 5), "breached_at",
	    col_time(st, 6), "deadline_at", col_time(st, 7), "state", col_text(st, 8),
	    "exempt_reason", col_text(st, 9), "exempt_note", col_text(st, 10), "paid_at",
	    col_time(st, 11), "paid_minor", col_int(st, 12), "penalty_minor", col_int(st, 13));
}

static json_t *task_json(struct otd_stmt *st)
{
	return json_pack("{s:o,s:o,s:o,s:o,s:o}", "kind", col_text(st, 0), "state", col_text(st, 1),
	                 "note", col_text(st, 2), "created_at", col_time(st, 3), "done_at",
	                 col_time(st, 4));
}

static json_t *feedback_json(struct otd_stmt *st)
{
	return json_pack("{s:o,s:o,s:b,s:o,s:o,s:o,s:o}", "rating", col_int(st, 0), "comment",
	                 col_text(st, 1), "publish_consent", db_column_int(st, 2) != 0,
	                 "moderation", col_text(st, 3), "published_comment", col_text(st, 4),
	                 "given_at", col_time(st, 5), "updated_at", col_time(st, 6));
}

static json_t *inbound_json(struct otd_stmt *st)
{
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}", "received_at", col_time(st, 0), "provider",
	                 col_text(st, 1), "sender", col_text(st, 2), "body", col_text(st, 3),
	                 "outcome", col_text(st, 4), "reference", col_text(st, 5));
}

static json_t *audit_json(struct otd_stmt *st)
{
	json_t *o =
	    json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "id", col_int(st, 0), "at", col_time(st, 1),
	              "actor_kind", col_text(st, 2), "action", col_text(st, 3), "entity",
	              col_text(st, 4), "entity_id", col_int(st, 5), "detail", col_json(st, 6));
	/* Their own address on the network; a staff member's is not theirs. */
	const char *kind = (const char *)db_column_text(st, 2);
	const char *ip = (const char *)db_column_text(st, 7);
	json_object_set_new(o, "ip",
	                    kind && strcmp(kind, "customer") == 0 && ip && ip[0] ? json_string(ip)
	                                                                         : json_null());
	return o;
}

/* The messages of the contact (with their delivery reports). */
static enum otd_status messages_json(struct otd_conn *c, int64_t customer_id, json_t **out,
                                     struct otd_error *err)
{
	*out = json_array();
	struct otd_stmt *st = prep(
	    c,
	    "SELECT o.id, a.reference, o.channel, o.template, o.state, o.created_at, o.sent_at, "
	    "o.recipient, o.payload, o.provider FROM outbox o LEFT JOIN appointments a ON a.id = "
	    "o.appointment_id WHERE o.customer_id = ?1 OR o.appointment_id IN " APPTS
	    /* as the erasure finds them: also those to their number or address
	     * sent before we knew them */
	    " OR (o.recipient IN (SELECT phone FROM customers WHERE id = ?1 UNION SELECT email "
	    "FROM customers WHERE id = ?1) AND (o.customer_id IS NULL OR o.customer_id = ?1))"
	    " ORDER BY o.id",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, customer_id);
	int rc;
	enum otd_status s = OTD_OK;
	while(s == OTD_OK && (rc = db_step(st)) == DB_ROW) {
		int64_t id = db_column_int64(st, 0);
		json_t *m = json_pack("{s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "id",
		                      (json_int_t)id, "reference", col_text(st, 1), "channel",
		                      col_text(st, 2), "template", col_text(st, 3), "state",
		                      col_text(st, 4), "created_at", col_time(st, 5), "sent_at",
		                      col_time(st, 6), "recipient", col_text(st, 7), "body",
		                      col_json(st, 8), "provider", col_text(st, 9));
		json_t *receipts = NULL;
		s = rows_json(c,
		              "SELECT received_at, provider, status, detail FROM delivery_receipts "
		              "WHERE outbox_id = ?1 ORDER BY id",
		              id, receipt_json, "read delivery reports", &receipts, err);
		json_object_set_new(m, "receipts", receipts);
		json_array_append_new(*out, m);
	}
	if(s)
		rc = DB_DONE;
	enum otd_status q = query_end(c, st, rc, "read messages", err);
	return s ? s : q;
}

static enum otd_status appointments_json(struct otd_conn *c, int64_t customer_id, json_t **out,
                                         struct otd_error *err)
{
	*out = json_array();
	struct otd_stmt *st = prep(
	    c,
	    "SELECT a.id, a.reference, a.status, a.local_date, a.window_start, a.window_end, "
	    "a.promise_version, a.booked_by, a.consent_sms, a.consent_email, a.created_at, "
	    "a.arrived_at, a.done_at, a.cancelled_at, a.cancelled_by, a.cancel_reason, t.name, "
	    "v.name, d.line1, d.line2, d.town, d.postcode FROM appointments a JOIN visit_types t "
	    "ON "
	    "t.id = a.visit_type_id JOIN addresses d ON d.id = a.address_id LEFT JOIN visitors v "
	    "ON "
	    "v.id = a.visitor_id WHERE a.customer_id = ?1 ORDER BY a.id",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, customer_id);
	int rc;
	enum otd_status s = OTD_OK;
	while(s == OTD_OK && (rc = db_step(st)) == DB_ROW) {
		int64_t id = db_column_int64(st, 0);
		json_t *a = json_pack(
		    "{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:{s:b,s:b},s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
		    "reference", col_text(st, 1), "status", col_text(st, 2), "date",
		    col_text(st, 3), "window_start", col_time(st, 4), "window_end", col_time(st, 5),
		    "promise_version", col_int(st, 6), "booked_by", col_text(st, 7), "consent",
		    "sms", db_column_int(st, 8) != 0, "email", db_column_int(st, 9) != 0,
		    "booked_at", col_time(st, 10), "arrived_at", col_time(st, 11), "done_at",
		    col_time(st, 12), "cancelled_at", col_time(st, 13), "cancelled_by",
		    col_text(st, 14), "cancel_reason", col_text(st, 15), "visit_type",
		    col_text(st, 16), "visitor_first_name", col_first_name(st, 17));
		json_object_set_new(a, "address",
		                    json_pack("{s:o,s:o,s:o,s:o}", "line1", col_text(st, 18),
		                              "line2", col_text(st, 19), "town", col_text(st, 20),
		                              "postcode", col_text(st, 21)));
		json_t *v = NULL;
		s = rows_json(c,
		              "SELECT kind, received_at, claimed_at, actor_kind, detail FROM "
		              "appointment_events WHERE appointment_id = ?1 ORDER BY id",
		              id, event_json, "read events", &v, err);
		json_object_set_new(a, "events", v);
		if(s == OTD_OK) {
			s = rows_json(
			    c,
			    "SELECT rating, comment, publish_consent, moderation, "
			    "published_comment, created_at, coalesce(updated_at, created_at) FROM "
			    "feedback WHERE appointment_id = ?1",
			    id, feedback_json, "read feedback", &v, err);
			json_object_set(a, "feedback",
			                json_array_size(v) ? json_array_get(v, 0) : json_null());
			json_decref(v);
		}
		if(s == OTD_OK) {
			s = rows_json(
			    c,
			    "SELECT id, reason, rule_set, rule_version, amount_minor, currency, "
			    "breached_at, deadline_at, state, exempt_reason, exempt_note, paid_at, "
			    "paid_minor, penalty_minor FROM guarantee_cases WHERE appointment_id = "
			    "?1 ORDER BY id",
			    id, case_json, "read guarantee cases", &v, err);
			json_object_set_new(a, "guarantee_cases", v);
		}
		if(s == OTD_OK) {
			s = rows_json(
			    c,
			    "SELECT kind, state, note, created_at, done_at FROM tasks WHERE "
			    "appointment_id = ?1 ORDER BY id",
			    id, task_json, "read tasks", &v, err);
			json_object_set_new(a, "tasks", v);
		}
		json_array_append_new(*out, a);
	}
	if(s)
		rc = DB_DONE;
	enum otd_status q = query_end(c, st, rc, "read appointments", err);
	return s ? s : q;
}

enum otd_status store_privacy_export(struct otd_conn *c, int64_t customer_id, json_t **out,
                                     struct otd_error *err)
{
	*out = NULL;
	struct otd_stmt *st =
	    prep(c,
	         "SELECT id, name, phone, email, access_notes, created_at, erased_at "
	         "FROM customers WHERE id = ?1",
	         err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, customer_id);
	int rc = db_step(st);
	json_t *o = NULL;
	if(rc == DB_ROW)
		o = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "id", col_int(st, 0), "name",
		              col_text(st, 1), "phone", col_text(st, 2), "email", col_text(st, 3),
		              "access_notes", col_text(st, 4), "created_at", col_time(st, 5),
		              "erased_at", col_time(st, 6));
	enum otd_status s = query_end(c, st, rc, "read the contact", err);
	if(s == OTD_OK && !o)
		s = otd_error_set(err, OTD_ENOTFOUND, "not_found", NULL,
		                  "There is no such contact.");
	if(s) {
		json_decref(o);
		return s;
	}
	json_t *v = NULL;
	s = appointments_json(c, customer_id, &v, err);
	json_object_set_new(o, "appointments", v);
	if(s == OTD_OK) {
		s = messages_json(c, customer_id, &v, err);
		json_object_set_new(o, "messages", v);
	}
	if(s == OTD_OK) {
		s = rows_json(
		    c,
		    "SELECT m.received_at, m.provider, m.sender, m.body, m.outcome, "
		    "a.reference FROM inbound_messages m LEFT JOIN appointments a ON a.id = "
		    "m.appointment_id WHERE m.customer_id = ?1 OR m.appointment_id IN " APPTS
		    " OR (m.customer_id IS NULL AND m.sender = (SELECT phone FROM customers WHERE "
		    "id = ?1)) ORDER BY m.id",
		    customer_id, inbound_json, "read inbound messages", &v, err);
		json_object_set_new(o, "inbound_messages", v);
	}
	if(s == OTD_OK) {
		s = rows_json(
		    c,
		    "SELECT id, at, actor_kind, action, entity, entity_id, detail, ip FROM "
		    "audit_log "
		    "WHERE (entity = 'appointment' AND entity_id IN " APPTS
		    ") OR (entity = 'customer' "
		    "AND entity_id = ?1) OR (entity = 'feedback' AND entity_id IN (SELECT id FROM "
		    "feedback WHERE appointment_id IN " APPTS
		    ")) OR (entity = 'guarantee_case' AND "
		    "entity_id IN (SELECT id FROM guarantee_cases WHERE appointment_id IN " APPTS
		    ")) ORDER BY id",
		    customer_id, audit_json, "read audit entries", &v, err);
		json_object_set_new(o, "audit", v);
	}
	if(s) {
		json_decref(o);
		return s;
	}
	*out = o;
	return OTD_OK;
}

/* ---- the audit log ------------------------------------------------------------------ */

void store_audit_entries_free(struct otd_audit_entry *v, size_t n)
{
	for(size_t i = 0; v && i < n; i++)
		free(v[i].detail);
	free(v);
}

enum otd_status store_audit_list(struct otd_conn *c, const struct otd_audit_filter *f,
                                 struct otd_audit_entry **out, size_t *n, int64_t *next,
                                 struct otd_error *err)
{
	*out = NULL;
	*n = 0;
	*next = 0;
	struct otd_stmt *st =
	    prep(c,
	         "SELECT id, at, actor_kind, coalesce(actor_id, 0), action, entity, "
	         "coalesce(entity_id, 0), ip, detail FROM audit_log WHERE (?1 = 0 OR "
	         "at >= ?1) AND (?2 = 0 OR id < ?2) AND (CAST(?3 AS TEXT) IS NULL OR entity = ?3) "
	         "AND (?4 = 0 OR entity_id = ?4) ORDER BY id DESC LIMIT ?5",
	         err);
	if(!st)
		return OTD_EIO;
	int limit = f->limit < 1 ? 1 : f->limit;
	db_bind_int64(st, 1, f->since);
	db_bind_int64(st, 2, f->before_id);
	conn_bind_text(st, 3, f->entity && f->entity[0] ? f->entity : NULL);
	db_bind_int64(st, 4, f->entity_id);
	db_bind_int(st, 5, limit + 1);
	struct otd_audit_entry *v = xcalloc((size_t)limit, sizeof(*v));
	int rc;
	size_t k = 0;
	bool more = false;
	while((rc = db_step(st)) == DB_ROW) {
		if(k == (size_t)limit) {
			more = true;
			continue;
		}
		struct otd_audit_entry *e = &v[k++];
		e->id = db_column_int64(st, 0);
		e->at = db_column_int64(st, 1);
		conn_column_copy(e->actor_kind, sizeof(e->actor_kind), st, 2);
		e->actor_id = db_column_int64(st, 3);
		conn_column_copy(e->action, sizeof(e->action), st, 4);
		conn_column_copy(e->entity, sizeof(e->entity), st, 5);
		e->entity_id = db_column_int64(st, 6);
		conn_column_copy(e->ip, sizeof(e->ip), st, 7);
		e->detail = conn_column_dup(st, 8);
	}
	enum otd_status s = query_end(c, st, rc, "read the audit log", err);
	if(s) {
		store_audit_entries_free(v, k);
		return s;
	}
	if(more && k > 0)
		*next = v[k - 1].id;
	*out = v;
	*n = k;
	return OTD_OK;
}

/* ---- retention -------------------------------------------------------------------- */

enum otd_status store_retention_contacts_due(struct otd_conn *c, int64_t cutoff, int64_t *ids,
                                             size_t max, size_t *n, struct otd_error *err)
{
	*n = 0;
	struct otd_stmt *st = prep(
	    c,
	    "SELECT c.id FROM customers c WHERE c.erased_at IS NULL AND c.created_at < ?1 AND NOT "
	    "EXISTS (SELECT 1 FROM appointments a WHERE a.customer_id = c.id AND "
	    "coalesce(a.done_at, "
	    "a.cancelled_at, a.window_end) >= ?1) AND NOT EXISTS (SELECT 1 FROM appointments a "
	    "JOIN "
	    "guarantee_cases g ON g.appointment_id = a.id WHERE a.customer_id = c.id AND g.state = "
	    "'open') AND NOT EXISTS (SELECT 1 FROM inbound_messages m WHERE m.customer_id = c.id "
	    "AND "
	    "m.received_at >= ?1) ORDER BY c.id LIMIT ?2",
	    err);
	if(!st)
		return OTD_EIO;
	db_bind_int64(st, 1, cutoff);
	db_bind_int64(st, 2, (int64_t)max);
	int rc;
	while((rc = db_step(st)) == DB_ROW && *n < max)
		ids[(*n)++] = db_column_int64(st, 0);
	return query_end(c, st, rc, "find contacts due for anonymising", err);
}

enum otd_status store_retention_inbound(struct otd_conn *tx, int64_t cutoff, int max, int64_t *n,
                                        struct otd_error *err)
{
	*n = 0;
	return exec2(
	    tx,
	    "UPDATE inbound_messages SET sender = '" OTD_ERASED_NAME "', body = '' WHERE id "
	    "IN (SELECT id FROM inbound_messages WHERE customer_id IS NULL AND received_at < "
	    "?1 AND (sender <> '" OTD_ERASED_NAME "' OR body <> '') LIMIT ?2)",
	    cutoff, max, "clear old inbound messages", n, err);
}

enum otd_status store_retention_events(struct otd_conn *tx, int64_t cutoff, int max, int64_t *n,
                                       struct otd_error *err)
{
	*n = 0;
	enum otd_status s = exec2(
	    tx,
	    "DELETE FROM appointment_events WHERE id IN (SELECT e.id FROM appointment_events e "
	    "WHERE e.received_at < ?1 AND NOT EXISTS (SELECT 1 FROM guarantee_cases g WHERE "
	    "g.appointment_id = e.appointment_id AND g.state = 'open') LIMIT ?2)",
	    cutoff, max, "delete old appointment events", n, err);
	if(s == OTD_OK && *n < max)
		s = exec2(
		    tx,
		    "DELETE FROM visitor_events WHERE id IN (SELECT e.id FROM visitor_events e "
		    "WHERE e.received_at < ?1 AND (e.appointment_id IS NULL OR NOT EXISTS (SELECT "
		    "1 FROM guarantee_cases g WHERE g.appointment_id = e.appointment_id AND "
		    "g.state = 'open')) LIMIT ?2)",
		    cutoff, max - *n, "delete old visitor events", n, err);
	return s;
}

enum otd_status store_retention_receipts(struct otd_conn *tx, int64_t cutoff, int max, int64_t *n,
                                         struct otd_error *err)
{
	*n = 0;
	return exec2(
	    tx,
	    "DELETE FROM delivery_receipts WHERE id IN (SELECT r.id FROM delivery_receipts r "
	    "JOIN outbox o ON o.id = r.outbox_id WHERE r.received_at < ?1 AND "
	    "(o.appointment_id IS NULL OR NOT EXISTS (SELECT 1 FROM guarantee_cases g WHERE "
	    "g.appointment_id = o.appointment_id AND g.state = 'open')) LIMIT ?2)",
	    cutoff, max, "delete old delivery reports", n, err);
}

enum otd_status store_retention_positions(struct otd_conn *tx, int64_t cutoff, int max, int64_t *n,
                                          struct otd_error *err)
{
	*n = 0;
	enum otd_status s = exec2(
	    tx,
	    "DELETE FROM visitor_positions WHERE id IN (SELECT p.id FROM visitor_positions p WHERE "
	    "p.at < ?1 AND NOT EXISTS (SELECT 1 FROM guarantee_cases g JOIN appointments a ON a.id "
	    "= g.appointment_id WHERE g.state = 'open' AND a.visitor_id = p.visitor_id AND p.at "
	    "BETWEEN a.window_start - 43200 AND a.window_end + 43200) LIMIT ?2)",
	    cutoff, max, "delete old positions", n, err);
	if(s == OTD_OK && *n < max)
		s = exec2(
		    tx,
		    "UPDATE visitor_days SET pos_lat = NULL, pos_lon = NULL, pos_at = NULL WHERE "
		    "(visitor_id, local_date) IN (SELECT visitor_id, local_date FROM visitor_days "
		    "WHERE pos_at < ?1 LIMIT ?2)",
		    cutoff, max - *n, "clear old day positions", n, err);
	return s;
}

enum otd_status store_retention_ips(struct otd_conn *tx, int64_t cutoff, int max, int64_t *n,
                                    struct otd_error *err)
{
	*n = 0;
	enum otd_status s =
	    exec2(tx,
	          "UPDATE sessions SET ip = '' WHERE id IN (SELECT id FROM sessions "
	          "WHERE ip <> '' AND created_at < ?1 LIMIT ?2)",
	          cutoff, max, "clear old session addresses", n, err);
	if(s == OTD_OK && *n < max)
		s = exec2(
		    tx,
		    "UPDATE audit_log SET ip = '' WHERE id IN (SELECT id FROM audit_log WHERE ip "
		    "<> '' AND ip <> 'cli' AND at < ?1 LIMIT ?2)",
		    cutoff, max - *n, "clear old audit addresses", n, err);
	return s;
}
