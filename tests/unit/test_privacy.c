/* Unit tests: erasure, the subject access export and the audit log
 * (app/privacy.c, store/privacy.c) on a real migrated database with a
 * virtual clock. Zoë has two visits (one done, one cancelled with a
 * reason) and a third still to come; messages (one sent with her link in
 * it, one waiting), a delivery report, texts she sent (one from her number
 * before we knew her), published feedback, a visitor's note and position
 * at her door, a task, an audit entry with her reason and her IP. Another
 * customer's data must stay untouched. Erasure is refused while a visit
 * is to come, then clears every copy, keeps the statistics and is
 * idempotent; the export shows everything with links redacted; the audit
 * log pages newest first. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/privacy.h"
#include "cli/config_file.h"
#include "onthedot/mem.h"
#include "store/store.h"
#include "testutil.h"

#define START "2026-03-03T12:00:00Z" /* 1772539200 */
#define LINK "AAAAAAAAAAAAAAAAAAAAAA"

static struct otd_config cfg;
static struct otd_app app;
static char *db_path;
static struct otd_error err;
static struct otd_principal admin;

#define ASSERT_SQL(sql, want)                                                                      \
	do {                                                                                       \
		char *got_ = testutil_sql_text(db_path, sql);                                      \
		ck_assert_str_eq(got_, want);                                                      \
		free(got_);                                                                        \
	} while(0)

static void seed(void)
{
	testutil_sql_exec(
	    db_path,
	    "INSERT INTO skills(code) VALUES ('gas');"
	    "INSERT INTO visitors(name, role_title, phone, base_lat, base_lon, created_at, "
	    "updated_at) VALUES ('Ann Lee', 'Gas engineer', '', 52.2, -1.5, 1, 1);"
	    "INSERT INTO visit_types(code, name, skill_id, duration_median_min, duration_spread, "
	    "window_min, created_at, updated_at) VALUES ('boiler', 'Boiler repair', 1, 45, 0.25, "
	    "60, 1, 1);"
	    "INSERT INTO addresses(uprn, line1, postcode, postcode_norm, match_key, lat, lon, "
	    "created_at, updated_at) VALUES "
	    "('100', '1 High St', 'AB1 2CD', 'AB12CD', '1 high st|AB12CD', 52.212345, -1.545678, "
	    "1, 1),"
	    "('101', '9 Low Rd', 'AB1 9ZZ', 'AB19ZZ', '9 low rd|AB19ZZ', 52.3, -1.6, 1, 1);"
	    "INSERT INTO customers(name, phone, email, access_notes, created_at) VALUES "
	    "('Zoë Quill', '+447700900001', 'zoe@example.org', 'Gate code 4321', 1),"
	    "('Other Person', '+447700900002', NULL, 'Blue door', 1);"
	    "INSERT INTO appointments(reference, customer_id, address_id, visit_type_id, "
	    "visitor_id, local_date, window_start, window_end, status, arrived_at, done_at, "
	    "cancelled_at, cancelled_by, cancel_reason, created_at, updated_at) VALUES "
	    "('OTD-ZQE3A2', 1, 1, 1, 1, '2026-03-02', 1772442000, 1772445600, 'done', 1772442100, "
	    "1772444000, NULL, NULL, NULL, 1000, 1000),"
	    "('OTD-ZQE3B2', 1, 1, 1, 1, '2026-03-04', 1772614800, 1772618400, 'booked', NULL, "
	    "NULL, NULL, NULL, NULL, 1000, 1000),"
	    "('OTD-ZQE3C2', 1, 1, 1, NULL, '2026-03-02', 1772449200, 1772452800, 'cancelled', "
	    "NULL, NULL, 1100, 'customer', 'Zoë is away', 1000, 1100),"
	    "('OTD-XTH3A2', 2, 2, 1, 1, '2026-03-02', 1772442000, 1772445600, 'done', "
	    "1772442100, 1772444000, NULL, NULL, NULL, 1000, 1000);"
	    "INSERT INTO appointment_links(appointment_id, token_hash, created_at, expires_at) "
	    "VALUES (1, randomblob(32), 1000, 1900000000), (4, randomblob(32), 1000, 1900000000);"
	    "INSERT INTO outbox(idem_key, appointment_id, customer_id, channel, template, payload, "
	    "state, due_at, created_at, sent_at, recipient) VALUES "
	    "('m1', 1, 1, 'email', 'booking_confirmation', '{\"to\":\"zoe@example.org\","
	    "\"text\":\"Hello Zoë, see https://x.example/a/" LINK "\"}', 'sent', 1000, 1000, "
	    "1001, 'zoe@example.org'),"
	    "('m2', 3, 1, 'sms', 'cancelled', '{\"to\":\"+447700900001\",\"text\":\"Bye Zoë\"}', "
	    "'pending', 2000, 1100, NULL, '+447700900001'),"
	    "('m3', NULL, NULL, 'sms', 'notice', '{\"to\":\"+447700900001\",\"text\":\"Zoë?\"}', "
	    "'sent', 2000, 1100, 1200, '+447700900001'),"
	    "('m4', 4, 2, 'sms', 'booking_confirmation', '{\"to\":\"+447700900002\",\"text\":"
	    "\"Hello Other\"}', 'sent', 1000, 1000, 1001, '+447700900002');"
	    "INSERT INTO delivery_receipts(outbox_id, received_at, provider, status, detail) "
	    "VALUES (1, 1002, 'smtp', 'delivered', '{\"to\":\"zoe@example.org\"}'),"
	    "(4, 1002, 'kannel', 'delivered', '{\"to\":\"+447700900002\"}');"
	    "INSERT INTO inbound_messages(provider, provider_id, sender, body, customer_id, "
	    "appointment_id, outcome, received_at) VALUES "
	    "('kannel', 'p1', '+447700900001', 'Zoë here, running late', 1, 1, 'inbox', 1500),"
	    "('kannel', 'p2', '+447700900001', 'Is this Zoë''s visit?', NULL, NULL, "
	    "'unknown_sender', 900),"
	    "('kannel', 'p3', '+447700900002', 'Other here', 2, 4, 'inbox', 1500);"
	    "INSERT INTO feedback(appointment_id, rating, comment, publish_consent, moderation, "
	    "published_comment, created_at, updated_at) VALUES "
	    "(1, 5, 'Lovely, thank you from Zoë', 1, 'published', 'Lovely, thank you from Zoë', "
	    "1200, 1200),"
	    "(4, 2, 'Other was late', 0, 'pending', NULL, 1200, 1200);"
	    "INSERT INTO appointment_events(appointment_id, kind, received_at, actor_kind, detail) "
	    "VALUES (1, 'arrived', 1772442100, 'user', '{\"event\":\"arrived\",\"note\":\"dog "
	    "called Zoë\",\"lat\":52.212345,\"lon\":-1.545678}'),"
	    "(4, 'arrived', 1772442100, 'user', '{\"note\":\"Other note\"}');"
	    "INSERT INTO visitor_events(visitor_id, local_date, kind, appointment_id, received_at, "
	    "claimed_at, actor_kind, lat, lon, detail) VALUES (1, '2026-03-02', 'arrived', 1, "
	    "1772442100, 1772442100, 'user', 52.212345, -1.545678, '{\"note\":\"dog\"}');"
	    "INSERT INTO tasks(kind, appointment_id, note, created_at) VALUES "
	    "('call', 1, 'Call Zoë on her mobile', 1300), ('call', 4, 'Call Other', 1300);"
	    "INSERT INTO audit_log(at, actor_kind, action, entity, entity_id, ip, detail) VALUES "
	    "(1100, 'customer', 'appointment.cancel', 'appointment', 3, '203.0.113.9', "
	    "'{\"by\":\"customer\",\"reason\":\"Zoë is away\"}'),"
	    "(1150, 'token', 'appointment.reschedule', 'appointment', 1, '198.51.100.4', "
	    "'{\"promise_version\":2}'),"
	    "(1160, 'customer', 'appointment.cancel', 'appointment', 4, '203.0.113.10', "
	    "'{\"reason\":\"Other reason\"}');");
}

static void setup(void)
{
	static int seq;
	otd_error_clear(&err);
	db_path = xasprintf("%s/privacy-%d.db", testutil_tmpdir(), ++seq);
	remove(db_path);
	int from, to;
	ck_assert_int_eq(store_migrate(db_path, true, 1000, &from, &to, NULL, &err), OTD_OK);
	otd_config_defaults(&cfg);
	free(cfg.database);
	cfg.database = xstrdup(db_path);
	cfg.virtual_clock = true;
	free(cfg.virtual_start);
	cfg.virtual_start = xstrdup(START);
	seed();
	ck_assert_msg(app_open(&app, &cfg, OTD_APP_CLI, &err) == OTD_OK, "%s", err.message);
	memset(&admin, 0, sizeof(admin));
	admin.kind = OTD_PRINCIPAL_TOKEN;
	admin.role = OTD_ROLE_ADMIN;
	admin.token_id = 7;
	snprintf(admin.ip, sizeof(admin.ip), "192.0.2.7");
}

static void teardown(void)
{
	app_close(&app);
	otd_config_cleanup(&cfg);
	free(db_path);
}

static enum otd_status erase_ref(const char *ref, struct otd_erase_result *r)
{
	otd_error_clear(&err);
	struct otd_privacy_subject s = {.reference = ref};
	return app_privacy_erase(&app, &admin, &s, r, &err);
}

START_TEST(refused_while_a_visit_is_to_come)
{
	struct otd_erase_result r;
	ck_assert_int_eq(erase_ref("OTD-ZQE3A2", &r), OTD_ESTATE);
	ck_assert_str_eq(err.code, "visit_pending");
	ck_assert_ptr_nonnull(strstr(err.message, "OTD-ZQE3B2"));
	ASSERT_SQL("SELECT name FROM customers WHERE id = 1", "Zoë Quill");
	ASSERT_SQL("SELECT count(*) FROM audit_log WHERE action = 'customer.erase'", "0");
}
END_TEST

START_TEST(erases_every_copy_and_keeps_the_statistics)
{
	testutil_sql_exec(db_path,
	                  "UPDATE appointments SET status = 'cancelled', visitor_id = NULL, "
	                  "cancelled_at = 1200, cancelled_by = 'organisation' WHERE id = 2");
	struct otd_erase_result r;
	ck_assert_msg(erase_ref("otd-zqe3a2", &r) == OTD_OK, "%s", err.message);
	ck_assert_uint_eq(r.contacts, 1);
	ck_assert_uint_eq(r.already_erased, 0);
	ck_assert_int_eq(r.counts.appointments, 3);
	ck_assert_int_eq(r.counts.messages, 3); /* m1, m2 and m3 (to her number, no contact) */
	ck_assert_int_eq(r.counts.messages_cancelled, 1);
	ck_assert_int_eq(r.counts.receipts, 1);
	ck_assert_int_eq(r.counts.inbound, 2);
	ck_assert_int_eq(r.counts.feedback, 1);
	ck_assert_int_eq(r.counts.links_revoked, 1);
	ck_assert_int_eq(r.counts.addresses, 3);
	ck_assert_int_eq(r.counts.tasks, 1);
	ck_assert_int_eq(r.counts.audit, 1);
	ck_assert(r.log_truncated);

	ASSERT_SQL(
	    "SELECT name || '|' || coalesce(phone, 'NULL') || '|' || coalesce(email, "
	    "'NULL') || '|' || access_notes || '|' || (erased_at = 1772539200) FROM customers "
	    "WHERE id = 1",
	    "erased|NULL|NULL||1");
	/* Nothing of Zoë anywhere in any text column. */
	const char *tables[][2] = {
	    {"outbox", "payload || coalesce(recipient, '') || coalesce(last_error, '')"},
	    {"delivery_receipts", "detail"},
	    {"inbound_messages", "sender || body"},
	    {"feedback", "comment || coalesce(published_comment, '')"},
	    {"appointment_events", "detail"},
	    {"visitor_events", "detail"},
	    {"tasks", "note"},
	    {"audit_log", "detail || ip"},
	    {"appointments", "coalesce(cancel_reason, '')"},
	    {"customers", "name || coalesce(phone, '') || coalesce(email, '') || access_notes"},
	};
	for(size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		char *q =
		    xasprintf("SELECT count(*) FROM %s WHERE %s LIKE '%%Zo%%' OR %s LIKE "
		              "'%%7700900001%%' OR %s LIKE '%%203.0.113.9''%%' OR %s LIKE "
		              "'%%Gate code%%'",
		              tables[i][0], tables[i][1], tables[i][1], tables[i][1], tables[i][1]);
		long long n = testutil_sql_int(db_path, q);
		ck_assert_msg(n == 0, "%s still holds her data (%lld rows)", tables[i][0], n);
		free(q);
	}
	ASSERT_SQL("SELECT count(*) FROM audit_log WHERE ip = '203.0.113.9'", "0");
	/* The staff member's address in an entry about her stays: it is theirs. */
	ASSERT_SQL("SELECT ip FROM audit_log WHERE action = 'appointment.reschedule'",
	           "198.51.100.4");
	ASSERT_SQL("SELECT group_concat(state, ',') FROM (SELECT state FROM outbox WHERE id IN "
	           "(1, 2, 3) ORDER BY id)",
	           "sent,cancelled,sent");
	ASSERT_SQL("SELECT count(*) FROM appointment_links WHERE appointment_id = 1 AND revoked_at "
	           "IS NULL",
	           "0");
	/* Positions rounded to about a kilometre; the note gone. */
	ASSERT_SQL("SELECT detail FROM appointment_events WHERE appointment_id = 1",
	           "{\"event\":\"arrived\",\"lat\":52.21,\"lon\":-1.55}");
	ASSERT_SQL("SELECT lat || ',' || lon || ' ' || detail FROM visitor_events",
	           "52.21,-1.55 {}");
	/* The home: a retired placeholder of the district; the gazetteer row stays. */
	ASSERT_SQL(
	    "SELECT DISTINCT d.line1 || '|' || d.postcode || '|' || d.lat || '|' || d.lon "
	    "|| '|' || d.retired FROM appointments a JOIN addresses d ON d.id = a.address_id "
	    "WHERE a.customer_id = 1",
	    "Address erased (AB1)|AB1|52.21|-1.55|1");
	ASSERT_SQL("SELECT count(*) FROM addresses WHERE uprn = '100'", "1");
	/* Statistics: windows, statuses, times, marks. */
	ASSERT_SQL("SELECT group_concat(status || window_start, ',') FROM (SELECT status, "
	           "window_start FROM appointments WHERE customer_id = 1 ORDER BY id)",
	           "done1772442000,cancelled1772614800,cancelled1772449200");
	ASSERT_SQL("SELECT rating || moderation FROM feedback WHERE appointment_id = 1",
	           "5published");
	/* The other customer: untouched. */
	ASSERT_SQL("SELECT name || access_notes FROM customers WHERE id = 2",
	           "Other PersonBlue door");
	ASSERT_SQL("SELECT payload FROM outbox WHERE id = 4",
	           "{\"to\":\"+447700900002\",\"text\":\"Hello Other\"}");
	ASSERT_SQL("SELECT body FROM inbound_messages WHERE provider_id = 'p3'", "Other here");
	ASSERT_SQL("SELECT comment FROM feedback WHERE appointment_id = 4", "Other was late");
	ASSERT_SQL("SELECT note FROM tasks WHERE appointment_id = 4", "Call Other");
	ASSERT_SQL("SELECT ip || detail FROM audit_log WHERE entity_id = 4",
	           "203.0.113.10{\"reason\":\"Other reason\"}");
	ASSERT_SQL("SELECT detail FROM delivery_receipts WHERE outbox_id = 4",
	           "{\"to\":\"+447700900002\"}");
	/* Audited with counts only. */
	ASSERT_SQL("SELECT actor_kind || actor_id || entity || entity_id || ip FROM audit_log "
	           "WHERE action = 'customer.erase'",
	           "token7customer1192.0.2.7");
	ASSERT_SQL("SELECT json_extract(detail, '$.appointments') FROM audit_log WHERE action = "
	           "'customer.erase'",
	           "3");

	/* Again: nothing changes. */
	ck_assert_int_eq(erase_ref("OTD-ZQE3C2", &r), OTD_OK);
	ck_assert_uint_eq(r.contacts, 1);
	ck_assert_uint_eq(r.already_erased, 1);
	ck_assert_int_eq(r.counts.messages, 0);
	ASSERT_SQL("SELECT count(*) FROM audit_log WHERE action = 'customer.erase'", "1");
}
END_TEST

START_TEST(by_phone_as_typed_and_by_email)
{
	testutil_sql_exec(db_path,
	                  "UPDATE appointments SET status = 'cancelled', visitor_id = NULL, "
	                  "cancelled_at = 1200, cancelled_by = 'organisation' WHERE id = 2");
	struct otd_privacy_subject s = {.phone = "07700 900002"};
	struct otd_erase_result r;
	ck_assert_msg(app_privacy_erase(&app, &admin, &s, &r, &err) == OTD_OK, "%s", err.message);
	ck_assert_uint_eq(r.contacts, 1);
	ASSERT_SQL("SELECT name FROM customers WHERE id = 2", "erased");
	ASSERT_SQL("SELECT name FROM customers WHERE id = 1", "Zoë Quill");
	struct otd_privacy_subject e = {.email = "zoe@EXAMPLE.org"};
	ck_assert_msg(app_privacy_erase(&app, &admin, &e, &r, &err) == OTD_OK, "%s", err.message);
	ASSERT_SQL("SELECT name FROM customers WHERE id = 1", "erased");
}
END_TEST

START_TEST(subjects_are_checked)
{
	struct otd_erase_result r;
	struct otd_privacy_subject none = {0};
	ck_assert_int_eq(app_privacy_erase(&app, &admin, &none, &r, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "missing_subject");
	struct otd_privacy_subject two = {.reference = "OTD-ZQE3A2", .email = "zoe@example.org"};
	ck_assert_int_eq(app_privacy_erase(&app, &admin, &two, &r, &err), OTD_EINVAL);
	struct otd_privacy_subject bad_phone = {.phone = "call me"};
	ck_assert_int_eq(app_privacy_erase(&app, &admin, &bad_phone, &r, &err), OTD_EINVAL);
	ck_assert_str_eq(err.field, "phone");
	struct otd_privacy_subject nobody = {.email = "nobody@example.org"};
	ck_assert_int_eq(app_privacy_erase(&app, &admin, &nobody, &r, &err), OTD_ENOTFOUND);
	ck_assert_str_eq(err.field, "email");
	ck_assert_int_eq(erase_ref("OTD-ZZZZZZ", &r), OTD_ENOTFOUND);
	ck_assert_int_eq(erase_ref("not a reference", &r), OTD_ENOTFOUND);
	json_t *doc = NULL;
	ck_assert_int_eq(app_privacy_export(&app, &admin, &nobody, &doc, &err), OTD_ENOTFOUND);
	ck_assert_ptr_null(doc);
}
END_TEST

START_TEST(export_holds_everything_with_links_redacted)
{
	struct otd_privacy_subject s = {.phone = "+44 7700 900001"};
	json_t *doc = NULL;
	ck_assert_msg(app_privacy_export(&app, &admin, &s, &doc, &err) == OTD_OK, "%s",
	              err.message);
	char *text = json_dumps(doc, JSON_COMPACT);
	ck_assert_ptr_null(strstr(text, LINK));
	ck_assert_ptr_nonnull(strstr(text, "/a/REDACTED"));
	json_t *contacts = json_object_get(doc, "contacts");
	ck_assert_uint_eq(json_array_size(contacts), 1);
	json_t *c = json_array_get(contacts, 0);
	ck_assert_str_eq(json_string_value(json_object_get(c, "name")), "Zoë Quill");
	ck_assert_str_eq(json_string_value(json_object_get(c, "access_notes")), "Gate code 4321");
	json_t *appts = json_object_get(c, "appointments");
	ck_assert_uint_eq(json_array_size(appts), 3);
	json_t *a1 = json_array_get(appts, 0);
	ck_assert_str_eq(json_string_value(json_object_get(a1, "visitor_first_name")), "Ann");
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_object_get(a1, "feedback"), "comment")),
	    "Lovely, thank you from Zoë");
	/* The visitor's position is theirs: not in her export. */
	json_t *ev = json_array_get(json_object_get(a1, "events"), 0);
	ck_assert_ptr_null(json_object_get(json_object_get(ev, "detail"), "lat"));
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_array_get(appts, 2), "cancel_reason")),
	    "Zoë is away");
	/* As the erasure finds them: also the notice to her number sent before
	 * she was a contact (m3), and her text from a number not yet matched
	 * (p2); not the other contact's. */
	ck_assert_uint_eq(json_array_size(json_object_get(c, "messages")), 3);
	json_t *m1 = json_array_get(json_object_get(c, "messages"), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(m1, "receipts")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_object_get(json_array_get(json_object_get(c, "messages"), 2),
	                                     "body"),
	                     "text")),
	                 "Zoë?");
	ck_assert_uint_eq(json_array_size(json_object_get(c, "inbound_messages")), 2);
	/* Audit entries about her: her own IP, not the staff member's. */
	json_t *audit = json_object_get(c, "audit");
	ck_assert_uint_eq(json_array_size(audit), 2);
	ck_assert_ptr_nonnull(strstr(text, "203.0.113.9"));
	ck_assert_ptr_null(strstr(text, "198.51.100.4"));
	ck_assert_ptr_null(strstr(text, "Other"));
	free(text);
	json_decref(doc);
	ASSERT_SQL("SELECT count(*) FROM audit_log WHERE action = 'customer.export' AND entity_id "
	           "= 1",
	           "1");
}
END_TEST

START_TEST(audit_log_pages_newest_first)
{
	struct otd_audit_filter f = {.limit = 2};
	struct otd_audit_entry *v = NULL;
	size_t n = 0;
	int64_t next = 0;
	ck_assert_int_eq(app_audit_list(&app, &f, &v, &n, &next, &err), OTD_OK);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_gt(v[0].id, v[1].id);
	ck_assert_int_eq(next, v[1].id);
	ck_assert_str_eq(v[0].action, "appointment.cancel");
	ck_assert_str_eq(v[0].ip, "203.0.113.10");
	f.before_id = next;
	store_audit_entries_free(v, n);
	ck_assert_int_eq(app_audit_list(&app, &f, &v, &n, &next, &err), OTD_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(next, 0);
	ck_assert_str_eq(v[0].detail, "{\"by\":\"customer\",\"reason\":\"Zoë is away\"}");
	store_audit_entries_free(v, n);
	struct otd_audit_filter g = {.limit = 10, .entity = "appointment", .entity_id = 1};
	ck_assert_int_eq(app_audit_list(&app, &g, &v, &n, &next, &err), OTD_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(v[0].action, "appointment.reschedule");
	store_audit_entries_free(v, n);
	struct otd_audit_filter h = {.limit = 10, .since = 1155};
	ck_assert_int_eq(app_audit_list(&app, &h, &v, &n, &next, &err), OTD_OK);
	ck_assert_uint_eq(n, 1);
	store_audit_entries_free(v, n);
}
END_TEST

START_TEST(links_are_redacted_in_text)
{
	char s[] = "see https://x.example/a/" LINK " and /a/short and /a/" LINK "X and /a/" LINK;
	otd_privacy_redact_links(s);
	ck_assert_str_eq(s, "see https://x.example/a/REDACTED and /a/short and /a/" LINK
	                    "X and /a/REDACTED");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("privacy");
	TCase *tc = tcase_create("privacy");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, refused_while_a_visit_is_to_come);
	tcase_add_test(tc, erases_every_copy_and_keeps_the_statistics);
	tcase_add_test(tc, by_phone_as_typed_and_by_email);
	tcase_add_test(tc, subjects_are_checked);
	tcase_add_test(tc, export_holds_everything_with_links_redacted);
	tcase_add_test(tc, audit_log_pages_newest_first);
	tcase_add_test(tc, links_are_redacted_in_text);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
