/* Unit tests: the booking use cases (app/booking.c) in process, on a real
 * store with a virtual clock: the slot offer's rules (lead time, horizon,
 * same-day cut-off, holidays, visits per day), holds and their errors,
 * booking with its messages, link and replay, the day cache dropped after
 * a booking, sixteen threads booking one window that fits exactly ten
 * visits, rescheduling (promise version, SEQUENCE), cancelling (METHOD:
 * CANCEL with the same UID), a waitlist offer when a place frees, "send me
 * a new link" and the dispatcher's search. The organisation is written
 * with sqlite3 directly before the application starts. */
#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "app/audit.h"
#include "app/booking.h"
#include "app/planning.h"
#include "cli/config_file.h"
#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "onthedot/tz.h"
#include "store/catalog.h"
#include "store/store.h"
#include "testutil.h"

#define START "2026-03-02T09:00:00Z" /* a Monday, GMT */
#define X_LAT 52.2
#define X_LON -1.5

static struct otd_config cfg;
static struct otd_app app;
static bool app_started;
static char *db_path;
static struct otd_principal cli, customer; /* customer: no principal */

/* Checked fixture: a migrated database; each test writes its organisation,
 * adjusts the configuration and starts the application (start()). */
static void setup(void)
{
	static int seq;
	struct otd_error err;
	otd_error_clear(&err);
	db_path = xasprintf("%s/booking-%d.db", testutil_tmpdir(), ++seq);
	remove(db_path);
	int from, to;
	ck_assert_int_eq(store_migrate(db_path, true, 1000, &from, &to, NULL, &err), OTD_OK);
	otd_config_defaults(&cfg);
	free(cfg.database);
	cfg.database = xstrdup(db_path);
	cfg.virtual_clock = true;
	free(cfg.virtual_start);
	cfg.virtual_start = xstrdup(START);
	free(cfg.public_url);
	cfg.public_url = xstrdup("https://visits.example.org");
	free(cfg.organisation);
	cfg.organisation = xstrdup("Wrenfield Water");
	free(cfg.messages.signature);
	cfg.messages.signature = xstrdup("Priya Shah");
	free(cfg.messages.phone);
	cfg.messages.phone = xstrdup("01632 960123");
	app_principal_cli(&cli);
	memset(&customer, 0, sizeof(customer));
	app_started = false;
}

static void teardown(void)
{
	if(app_started)
		app_close(&app);
	otd_config_cleanup(&cfg);
	free(db_path);
}

static void start(void)
{
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(app_open(&app, &cfg, OTD_APP_CLI, &err) == OTD_OK, "%s", err.message);
	app_started = true;
}

static void set_string(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

/* ---- direct SQL --------------------------------------------------------- */

static sqlite3 *sql_open(void)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
	return db;
}

static void sql_exec(const char *sql)
{
	sqlite3 *db = sql_open();
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : "");
	sqlite3_close(db);
}

static long long sql_int(const char *sql)
{
	sqlite3 *db = sql_open();
	sqlite3_stmt *st;
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
	              sqlite3_errmsg(db));
	long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* Every row of a one-column query, joined with ";" (heap; caller frees). */
static char *sql_list(const char *sql)
{
	sqlite3 *db = sql_open();
	sqlite3_stmt *st;
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql,
	              sqlite3_errmsg(db));
	struct otd_buf b;
	otd_buf_init(&b, 0);
	int rows = 0;
	while(sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		otd_buf_printf(&b, "%s%s", rows++ ? ";" : "", t ? t : "NULL");
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return otd_buf_steal(&b);
}

#define ASSERT_LIST(sql, want)                                                                     \
	do {                                                                                       \
		char *got_ = sql_list(sql);                                                        \
		ck_assert_str_eq(got_, want);                                                      \
		free(got_);                                                                        \
	} while(0)

static int64_t at(const char *s)
{
	int64_t t = 0;
	struct otd_error e;
	ck_assert_msg(otd_rfc3339_parse(s, &t, &e) == OTD_OK, "%s", s);
	return t;
}

/* ---- organisations -------------------------------------------------------- */

/* Ann, gas engineer based at X, weekdays 08:00 for 8 hours; a boiler
 * repair (45 minutes, 2-hour windows); three addresses near X; Friday 6
 * March a bank holiday. */
static void seed_ann(void)
{
	sql_exec(
	    "INSERT INTO skills(code) VALUES ('gas');"
	    "INSERT INTO visitors(name, role_title, phone, base_lat, base_lon, created_at, "
	    "updated_at) VALUES ('Ann Lee', 'Gas engineer', '', 52.2, -1.5, 1, 1);"
	    "INSERT INTO visitor_skills(visitor_id, skill_id) VALUES (1, 1);"
	    "INSERT INTO shifts(visitor_id, tzid, dtstart_local, duration_min, rrule) VALUES "
	    "(1, 'Europe/London', '2026-03-02T08:00:00', 480, 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR');"
	    "INSERT INTO visit_types(code, name, skill_id, duration_median_min, duration_spread, "
	    "window_min, created_at, updated_at) VALUES ('boiler', 'Boiler repair', 1, 45, 0.25, "
	    "120, 1, 1);"
	    "INSERT INTO holidays(date, name) VALUES ('2026-03-06', 'Founders day');"
	    "INSERT INTO addresses(line1, town, postcode, postcode_norm, match_key, lat, lon, "
	    "created_at, updated_at) VALUES "
	    "('1 High St', 'Wrenfield', 'AB1 2CD', 'AB12CD', '1 high st|AB12CD', 52.2, -1.5, 1, 1),"
	    "('2 Mill Lane', 'Wrenfield', 'AB1 9ZZ', 'AB19ZZ', '2 mill lane|AB19ZZ', 52.21, -1.5, "
	    "1, "
	    "1),"
	    "('3 Kiln Row', 'Wrenfield', 'XY9 8WV', 'XY98WV', '3 kiln row|XY98WV', 52.19, -1.5, 1, "
	    "1);");
}

/* The oracle: visitors based at X working `minutes` from 10:00 each day,
 * a visit type of exactly `duration` minutes (no spread) with 60-minute
 * windows, one address at X; exact travel, no break, no lead time, no
 * same-day cut-off, no limit per day or per client. */
static void seed_oracle(int visitors, int minutes, int duration)
{
	sql_exec("INSERT INTO skills(code) VALUES ('oracle');"
	         "INSERT INTO addresses(line1, postcode, postcode_norm, match_key, lat, lon, "
	         "created_at, updated_at) VALUES ('1 X Street', 'XX1 1XX', 'XX11XX', "
	         "'1 x street|XX11XX', 52.2, -1.5, 1, 1);");
	for(int i = 1; i <= visitors; i++) {
		char *sql =
		    xasprintf("INSERT INTO visitors(name, role_title, base_lat, base_lon, "
		              "created_at, updated_at) "
		              "VALUES ('Olive%d Oracle', 'Inspector', 52.2, -1.5, 1, 1);"
		              "INSERT INTO visitor_skills(visitor_id, skill_id) VALUES (%d, 1);"
		              "INSERT INTO shifts(visitor_id, tzid, dtstart_local, duration_min, "
		              "rrule) VALUES "
		              "(%d, 'Europe/London', '2026-03-03T10:00:00', %d, 'FREQ=DAILY');",
		              i, i, i, minutes);
		sql_exec(sql);
		free(sql);
	}
	char *sql = xasprintf(
	    "INSERT INTO visit_types(code, name, skill_id, duration_median_min, duration_spread, "
	    "window_min, created_at, updated_at) VALUES ('exact', 'Exact visit', 1, %d, 0, 60, 1, "
	    "1)",
	    duration);
	sql_exec(sql);
	free(sql);
	cfg.planning.travel_spread = 0;
	cfg.planning.break_minutes = 0;
	cfg.booking.lead_minutes = 0;
	cfg.booking.max_visits_per_day = 0;
	cfg.booking.holds_per_client = 1000;
	set_string(&cfg.booking.same_day_cutoff, "");
	cfg.store.writer_wait_ms = 60000;
}

/* ---- use case helpers ------------------------------------------------------- */

/* The offer from..to as "DATE HH:MM/n HH:MM/n; DATE ..." (local starts and
 * how many visitors could take each). */
static char *slots(int64_t address, int64_t type, const char *from, const char *to)
{
	struct otd_slot_query q = {.address_id = address, .visit_type_id = type};
	snprintf(q.from, sizeof(q.from), "%s", from);
	snprintf(q.to, sizeof(q.to), "%s", to);
	struct otd_slot_result r;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(app_slots(&app, &q, &r, &err) == OTD_OK, "%s", err.message);
	struct otd_buf b;
	otd_buf_init(&b, 0);
	for(size_t d = 0; d < r.n_days; d++) {
		otd_buf_printf(&b, "%s%s", d ? "; " : "", r.days[d].date);
		for(size_t i = 0; i < r.days[d].n; i++) {
			const struct otd_offer_window *w = &r.days[d].windows[i];
			struct otd_local s;
			otd_tz_to_local(app.tz, w->start, &s);
			char date[11];
			otd_date_format(s.c.year, s.c.month, s.c.day, date);
			ck_assert_str_eq(date, r.days[d].date);
			ck_assert_int_eq(w->end - w->start, (int64_t)r.width_minutes * 60);
			otd_buf_printf(&b, " %02d:%02d/%d", s.c.hour, s.c.minute, w->visitors);
		}
	}
	otd_slot_result_cleanup(&r);
	return otd_buf_steal(&b);
}

#define ASSERT_SLOTS(addr, type, from, to, want)                                                   \
	do {                                                                                       \
		char *got_ = slots(addr, type, from, to);                                          \
		ck_assert_str_eq(got_, want);                                                      \
		free(got_);                                                                        \
	} while(0)

static enum otd_status hold_for(int64_t address, int64_t type, const char *start,
                                int64_t for_appointment, const char *client,
                                struct otd_hold_result *out, struct otd_error *err)
{
	struct otd_hold_request req = {.address_id = address,
	                               .visit_type_id = type,
	                               .window_start = at(start),
	                               .for_appointment = for_appointment,
	                               .client_key = client};
	otd_error_clear(err);
	return app_hold_create(&app, &customer, &req, out, err);
}

static void hold_ok(int64_t address, int64_t type, const char *start, int64_t for_appointment,
                    const char *client, struct otd_hold_result *out)
{
	struct otd_error err;
	ck_assert_msg(hold_for(address, type, start, for_appointment, client, out, &err) == OTD_OK,
	              "%s %s: %s: %s", client, start, err.code, err.message);
	ck_assert_uint_eq(strlen(out->token), OTD_HOLD_TOKEN_LEN);
}

static enum otd_status book(const char *token, const char *name, const char *phone,
                            const char *email, bool sms, bool mail, struct otd_appointment_view *v,
                            struct otd_error *err)
{
	struct otd_booking_request req = {.hold_token = token,
	                                  .name = name,
	                                  .phone = phone,
	                                  .email = email,
	                                  .access_notes = "Side gate",
	                                  .consent_sms = sms,
	                                  .consent_email = mail};
	otd_error_clear(err);
	return app_book(&app, &customer, &req, v, err);
}

/* Holds start and books it for name; returns the appointment id. */
static int64_t book_ok(int64_t address, const char *start, const char *name, const char *phone,
                       const char *email, struct otd_appointment_view *v)
{
	struct otd_hold_result h;
	hold_ok(address, 1, start, 0, name, &h);
	struct otd_error err;
	ck_assert_msg(book(h.token, name, phone, email, phone != NULL, email != NULL, v, &err) ==
	                  OTD_OK,
	              "%s: %s", err.code, err.message);
	return v->a.id;
}

/* One outbox row's payload, parsed (caller decrefs). */
static json_t *payload(const char *idem_key)
{
	char *sql = xasprintf("SELECT payload FROM outbox WHERE idem_key = '%s'", idem_key);
	char *text = sql_list(sql);
	free(sql);
	json_error_t jerr;
	json_t *p = json_loads(text, 0, &jerr);
	ck_assert_msg(p != NULL, "%s: %s (%s)", idem_key, jerr.text, text);
	free(text);
	return p;
}

static const char *field(json_t *o, const char *name)
{
	const char *s = json_string_value(json_object_get(o, name));
	ck_assert_msg(s != NULL, "no %s", name);
	return s;
}

/* The link token at the end of a message's link. */
static const char *token_of(const char *link)
{
	const char *t = strstr(link, "/a/");
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(strlen(t + 3), OTD_LINK_TOKEN_LEN);
	return t + 3;
}

static int64_t resolve(const char *token)
{
	int64_t id = 0;
	struct otd_error err;
	otd_error_clear(&err);
	enum otd_status st = app_link_resolve(&app, token, &id, &err);
	if(st == OTD_ENOTFOUND) {
		ck_assert_str_eq(err.code, "link_not_found");
		return 0;
	}
	ck_assert_int_eq(st, OTD_OK);
	return id;
}

/* ---- the slot offer ----------------------------------------------------------- */

#define FULL_DAY                                                                                   \
	" 08:00/1 08:30/1 09:00/1 09:30/1 10:00/1 10:30/1 11:00/1 11:30/1 12:00/1 12:30/1 "        \
	"13:00/1 "                                                                                 \
	"13:30/1 14:00/1"

START_TEST(slots_respect_the_booking_rules)
{
	seed_ann();
	start();
	/* Monday 09:00: today from 11:00 (two hours' lead), Tuesday to Thursday
	 * the whole shift (windows inside 08:00-16:00), Friday a holiday. */
	ASSERT_SLOTS(1, 1, "2026-03-02", "2026-03-06",
	             "2026-03-02 11:00/1 11:30/1 12:00/1 12:30/1 13:00/1 13:30/1 14:00/1; "
	             "2026-03-03" FULL_DAY "; 2026-03-04" FULL_DAY "; 2026-03-05" FULL_DAY);
	/* The lead time moves with the clock. */
	ck_assert(otd_clock_advance(app.clock, 59 * 60));
	ASSERT_SLOTS(1, 1, "2026-03-02", "2026-03-02",
	             "2026-03-02 12:00/1 12:30/1 13:00/1 13:30/1 "
	             "14:00/1");
	ck_assert(otd_clock_advance(app.clock, 2 * 3600)); /* 11:59 */
	ASSERT_SLOTS(1, 1, "2026-03-02", "2026-03-02", "2026-03-02 14:00/1");
	/* At the same-day cut-off (12:00) today is closed; tomorrow is not. */
	ck_assert(otd_clock_advance(app.clock, 60));
	ASSERT_SLOTS(1, 1, "2026-03-02", "2026-03-03", "2026-03-03" FULL_DAY);
	/* The horizon (28 days from now, Monday 30 March 12:00 GMT, 13:00 BST):
	 * in summer time the shift is still 08:00-16:00 local. */
	ASSERT_SLOTS(1, 1, "2026-03-27", "2026-03-31",
	             "2026-03-27" FULL_DAY "; 2026-03-30 08:00/1 08:30/1 09:00/1 09:30/1 10:00/1 "
	             "10:30/1 11:00/1 11:30/1 12:00/1 12:30/1 13:00/1");
	/* Days in the past offer nothing. */
	ASSERT_SLOTS(1, 1, "2026-02-23", "2026-02-27", "");
	/* A place given by coordinates, and by an address, agree. */
	struct otd_slot_query q = {.lat = X_LAT,
	                           .lon = X_LON,
	                           .visit_type_id = 1,
	                           .from = "2026-03-04",
	                           .to = "2026-03-04"};
	struct otd_slot_result r;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(app_slots(&app, &q, &r, &err), OTD_OK);
	ck_assert_uint_eq(r.n_days, 1);
	ck_assert_uint_eq(r.days[0].n, 13);
	ck_assert_int_eq(r.width_minutes, 120);
	ck_assert_int_eq(r.days[0].windows[0].start, at("2026-03-04T08:00:00Z"));
	ck_assert_int_eq(r.days[0].windows[0].end, at("2026-03-04T10:00:00Z"));
	otd_slot_result_cleanup(&r);

	/* Bad queries. */
	q = (struct otd_slot_query){
	    .address_id = 1, .visit_type_id = 1, .from = "2026-03-04", .to = "2026-03-03"};
	ck_assert_int_eq(app_slots(&app, &q, &r, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "bad_range");
	ck_assert_str_eq(err.field, "to");
	q = (struct otd_slot_query){
	    .address_id = 1, .visit_type_id = 1, .from = "2026-03-04", .to = "2026-04-04"};
	ck_assert_int_eq(app_slots(&app, &q, &r, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "bad_range");
	q = (struct otd_slot_query){
	    .address_id = 1, .visit_type_id = 1, .from = "2026-03-32", .to = "2026-04-01"};
	ck_assert_int_eq(app_slots(&app, &q, &r, &err), OTD_EINVAL);
	ck_assert_str_eq(err.field, "from");
	q = (struct otd_slot_query){
	    .address_id = 1, .visit_type_id = 9, .from = "2026-03-04", .to = "2026-03-04"};
	ck_assert_int_eq(app_slots(&app, &q, &r, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "unknown_visit_type");
	q = (struct otd_slot_query){
	    .address_id = 99, .visit_type_id = 1, .from = "2026-03-04", .to = "2026-03-04"};
	ck_assert_int_eq(app_slots(&app, &q, &r, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "unknown_address");
}
END_TEST

START_TEST(visits_per_day_are_capped)
{
	seed_ann();
	cfg.booking.max_visits_per_day = 2;
	start();
	struct otd_appointment_view v;
	book_ok(1, "2026-03-03T08:00:00Z", "Zoë", "07700 900001", NULL, &v);
	otd_appointment_view_cleanup(&v);
	ASSERT_SLOTS(1, 1, "2026-03-03", "2026-03-03", "2026-03-03" FULL_DAY);
	book_ok(2, "2026-03-03T14:00:00Z", "Cy", "07700 900002", NULL, &v);
	otd_appointment_view_cleanup(&v);
	/* Two visits: Tuesday is full for Ann; Wednesday is not. */
	ASSERT_SLOTS(1, 1, "2026-03-03", "2026-03-04", "2026-03-04" FULL_DAY);
	struct otd_hold_result h;
	struct otd_error err;
	ck_assert_int_eq(hold_for(3, 1, "2026-03-03T11:00:00Z", 0, "dee", &h, &err), OTD_ECONFLICT);
	ck_assert_str_eq(err.code, "window_taken");
}
END_TEST

/* ---- holds and booking -------------------------------------------------------- */

START_TEST(hold_and_book_write_the_booking_its_link_and_messages)
{
	seed_ann();
	start();
	struct otd_hold_result h;
	hold_ok(2, 1, "2026-03-03T10:00:00Z", 0, "client-1", &h);
	ck_assert_int_eq(h.hold.visitor_id, 1);
	ck_assert_str_eq(h.hold.local_date, "2026-03-03");
	ck_assert_int_eq(h.hold.window_start, at("2026-03-03T10:00:00Z"));
	ck_assert_int_eq(h.hold.window_end, at("2026-03-03T12:00:00Z"));
	ck_assert_int_eq(h.hold.expires_at, at(START) + 10 * 60);
	ck_assert_str_eq(h.hold.purpose, "booking");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM holds WHERE client_key = 'client-1'"), 1);

	struct otd_appointment_view v;
	struct otd_error err;
	ck_assert_msg(book(h.token, "Zoë O'Brien-Nguyễn", "07700 900001", "zoe@Example.ORG", true,
	                   true, &v, &err) == OTD_OK,
	              "%s", err.message);
	ck_assert(!v.replayed);
	ck_assert_int_eq(v.a.id, 1);
	ck_assert_uint_eq(strlen(v.a.reference), 10);
	ck_assert_int_eq(strncmp(v.a.reference, "OTD-", 4), 0);
	ck_assert_str_eq(v.a.status, "booked");
	ck_assert_str_eq(v.a.booked_by, "customer");
	ck_assert_int_eq(v.a.promise_version, 1);
	ck_assert_int_eq(v.a.window_start, at("2026-03-03T10:00:00Z"));
	ck_assert_int_eq(v.a.visitor_id, 1);
	/* The first stop of an empty route: the middle of the first gap. */
	ck_assert_int_eq(v.a.route_position, 1024);
	ck_assert_str_eq(v.customer.name, "Zoë O'Brien-Nguyễn");
	ck_assert_str_eq(v.customer.phone, "+447700900001");
	ck_assert_str_eq(v.customer.email, "zoe@example.org");
	ck_assert_str_eq(v.customer.access_notes, "Side gate");
	ck_assert_str_eq(v.visit_type, "Boiler repair");
	ck_assert_str_eq(v.visitor_first_name, "Ann");
	ck_assert_str_eq(v.visitor_role, "Gas engineer");
	ck_assert_str_eq(v.waitlist, "none");
	ck_assert_uint_eq(strlen(v.link_token), OTD_LINK_TOKEN_LEN);
	ck_assert_int_eq(resolve(v.link_token), 1);
	char ref[11];
	snprintf(ref, sizeof(ref), "%s", v.a.reference);
	otd_appointment_view_cleanup(&v);

	/* The hold became the appointment. */
	ck_assert_int_eq(sql_int("SELECT count(*) FROM holds"), 0);
	ASSERT_LIST("SELECT kind || ' ' || actor_kind FROM appointment_events", "booked customer");
	ASSERT_LIST("SELECT action FROM audit_log ORDER BY id", "hold.create;appointment.book");
	/* One email and one SMS, each with its own working link. */
	ASSERT_LIST(
	    "SELECT idem_key || ' ' || channel || ' ' || template || ' ' || state FROM outbox "
	    "ORDER BY id",
	    "appt:1:v1:booked:email email booking_confirmation pending;"
	    "appt:1:v1:booked:sms sms booking_confirmation pending");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM appointment_links"), 3);
	json_t *mail = payload("appt:1:v1:booked:email");
	ck_assert_str_eq(field(mail, "to"), "zoe@example.org");
	ck_assert_str_eq(field(mail, "to_name"), "Zoë O'Brien-Nguyễn");
	ck_assert_str_eq(field(mail, "subject"),
	                 "Your boiler repair: Tuesday 3 March, 10:00 to 12:00");
	ck_assert_str_eq(field(mail, "ics_method"), "REQUEST");
	const char *ics = field(mail, "ics");
	char line[64];
	snprintf(line, sizeof(line), "\r\nUID:%s@onthedot\r\n", ref);
	ck_assert_ptr_nonnull(strstr(ics, line));
	ck_assert_ptr_nonnull(strstr(ics, "\r\nMETHOD:REQUEST\r\n"));
	ck_assert_ptr_nonnull(strstr(ics, "\r\nSEQUENCE:1\r\n"));
	ck_assert_ptr_nonnull(strstr(ics, "\r\nDTSTART;TZID=Europe/London:20260303T100000\r\n"));
	ck_assert_ptr_nonnull(
	    strstr(field(mail, "text"), "Ann, our gas engineer, will come to you."));
	ck_assert_ptr_nonnull(strstr(field(mail, "text"), "at 2 Mill Lane, Wrenfield, AB1 9ZZ."));
	ck_assert_int_eq(resolve(token_of(field(mail, "link"))), 1);
	ck_assert_int_eq(strncmp(field(mail, "link"), "https://visits.example.org/a/", 29), 0);
	json_t *sms = payload("appt:1:v1:booked:sms");
	ck_assert_str_eq(field(sms, "to"), "+447700900001");
	char want[300];
	snprintf(
	    want, sizeof(want),
	    "Zoë O'Brien-Nguyễn, your boiler repair with Wrenfield Water is booked for Tue 3 Mar, "
	    "10:00-12:00. Ann (gas engineer) will come. Manage: %s",
	    field(sms, "link"));
	ck_assert_str_eq(field(sms, "text"), want);
	ck_assert_str_ne(field(sms, "link"), field(mail, "link"));
	ck_assert_int_eq(resolve(token_of(field(sms, "link"))), 1);
	json_decref(mail);
	json_decref(sms);

	/* The same contact and visit type again: told about the booking. */
	hold_ok(3, 1, "2026-03-04T10:00:00Z", 0, "client-1", &h);
	ck_assert_int_eq(
	    book(h.token, "Zoë", "+447700900001", "zoe@example.org", false, false, &v, &err),
	    OTD_ECONFLICT);
	ck_assert_str_eq(err.code, "already_booked");
	snprintf(want, sizeof(want),
	         "You already have this visit booked: %s, Tuesday 3 March, 10:00 to 12:00. Use the "
	         "link we sent you to change it, or ask for a new link.",
	         ref);
	ck_assert_str_eq(err.message, want);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM appointments"), 1);
	/* The hold it used stays until it expires; a booked hold token is spent. */
	ck_assert_int_eq(sql_int("SELECT count(*) FROM holds"), 1);

	/* Contact details are checked before anything is stored. */
	ck_assert_int_eq(book(h.token, "Cy", NULL, NULL, false, false, &v, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "missing_contact");
	ck_assert_int_eq(book(h.token, "Cy", NULL, "cy@example.org", true, false, &v, &err),
	                 OTD_EINVAL);
	ck_assert_str_eq(err.field, "phone");
	ck_assert_int_eq(book(h.token, "Cy", "+33612345678", NULL, true, false, &v, &err),
	                 OTD_EINVAL);
	ck_assert_str_eq(err.code, "unsupported_country");
	ck_assert_int_eq(book(h.token, "", "07700 900002", NULL, true, false, &v, &err),
	                 OTD_EINVAL);
	ck_assert_str_eq(err.field, "name");
	/* An expired hold: nothing booked. */
	ck_assert(otd_clock_advance(app.clock, 10 * 60));
	ck_assert_int_eq(book(h.token, "Cy", "07700 900002", NULL, true, false, &v, &err),
	                 OTD_ECONFLICT);
	ck_assert_str_eq(err.code, "hold_expired");
	ck_assert_int_eq(v.a.window_start, at("2026-03-04T10:00:00Z")); /* for alternatives */
	ck_assert_int_eq(v.a.address_id, 3);
	ck_assert_int_eq(book("no-such-hold", "Cy", "07700 900002", NULL, true, false, &v, &err),
	                 OTD_ECONFLICT);
	ck_assert_int_eq(v.a.address_id, 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM appointments"), 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM outbox"), 2);
}
END_TEST

/* A write job that waits for the test, then renames visit type 1. */
static pthread_mutex_t rename_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rename_cv = PTHREAD_COND_INITIALIZER;
static bool rename_entered, rename_open;

static enum otd_status rename_when_let(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	(void)arg;
	pthread_mutex_lock(&rename_mu);
	rename_entered = true;
	pthread_cond_broadcast(&rename_cv);
	while(!rename_open)
		pthread_cond_wait(&rename_cv, &rename_mu);
	pthread_mutex_unlock(&rename_mu);
	struct otd_visit_type t;
	enum otd_status st = store_visit_type_get(tx, 1, &t, err);
	if(st)
		return st;
	free(t.name);
	t.name = xstrdup("Boiler service");
	st = store_visit_type_update(tx, &t, at(START), err);
	otd_visit_type_cleanup(&t);
	return st;
}

static void *rename_thread(void *arg)
{
	struct otd_error err;
	*(enum otd_status *)arg = store_write(app.store, rename_when_let, NULL, &err);
	return NULL;
}

struct book_arg {
	const char *token;
	struct otd_appointment_view v;
	struct otd_error err;
	enum otd_status st;
};

static void *book_thread(void *arg)
{
	struct book_arg *b = arg;
	b->st =
	    book(b->token, "Zoë", "07700 900001", "zoe@example.org", true, true, &b->v, &b->err);
	return NULL;
}

/* The confirmation is rendered before the write job, off the writer's
 * thread; when what it says changed in between, the write job renders it
 * again from what it stores. */
START_TEST(a_confirmation_rendered_early_is_not_sent_when_its_facts_changed)
{
	seed_ann();
	start();
	struct otd_hold_result h;
	hold_ok(2, 1, "2026-03-03T10:00:00Z", 0, "client-1", &h);
	/* The writer waits inside a job that will rename the visit type. */
	rename_entered = rename_open = false;
	enum otd_status renamed = OTD_EIO;
	pthread_t r, b;
	pthread_create(&r, NULL, rename_thread, &renamed);
	pthread_mutex_lock(&rename_mu);
	while(!rename_entered)
		pthread_cond_wait(&rename_cv, &rename_mu);
	pthread_mutex_unlock(&rename_mu);
	/* The booking renders its messages with the old name, then queues. */
	struct book_arg ba = {.token = h.token};
	pthread_create(&b, NULL, book_thread, &ba);
	struct otd_store_stats stats;
	for(int i = 0; i < 400; i++) {
		store_stats(app.store, &stats);
		if(stats.writer_queue_depth == 1)
			break;
		usleep(5000);
	}
	ck_assert_int_eq(stats.writer_queue_depth, 1);
	pthread_mutex_lock(&rename_mu);
	rename_open = true;
	pthread_cond_broadcast(&rename_cv);
	pthread_mutex_unlock(&rename_mu);
	pthread_join(r, NULL);
	pthread_join(b, NULL);
	ck_assert_int_eq(renamed, OTD_OK);
	ck_assert_msg(ba.st == OTD_OK, "%s", ba.err.message);
	ck_assert_str_eq(ba.v.visit_type, "Boiler service");
	otd_appointment_view_cleanup(&ba.v);
	/* Both messages say what was stored, and their links work. */
	json_t *mail = payload("appt:1:v1:booked:email");
	ck_assert_str_eq(field(mail, "subject"),
	                 "Your boiler service: Tuesday 3 March, 10:00 to 12:00");
	ck_assert_ptr_nonnull(
	    strstr(field(mail, "ics"), "\r\nSUMMARY:Boiler service with Ann\r\n"));
	ck_assert_int_eq(resolve(token_of(field(mail, "link"))), 1);
	json_t *sms = payload("appt:1:v1:booked:sms");
	ck_assert_ptr_nonnull(strstr(field(sms, "text"), "your boiler service with"));
	ck_assert_int_eq(resolve(token_of(field(sms, "link"))), 1);
	json_decref(mail);
	json_decref(sms);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM appointment_links"), 3);
}
END_TEST

START_TEST(an_idempotency_key_replays_the_first_booking_with_a_new_link)
{
	seed_ann();
	start();
	struct otd_hold_result h;
	hold_ok(1, 1, "2026-03-03T10:00:00Z", 0, "phone", &h);
	struct otd_idem idem = {.scope = "customer", .key = "key-1"};
	memset(idem.hash, 7, sizeof(idem.hash));
	struct otd_booking_request req = {.hold_token = h.token,
	                                  .name = "Zoë",
	                                  .phone = "07700 900001",
	                                  .consent_sms = true,
	                                  .idem = &idem};
	struct otd_appointment_view v1, v2;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(app_book(&app, &customer, &req, &v1, &err), OTD_OK);
	/* The phone retries: the hold is spent, the key answers. */
	ck_assert_int_eq(app_book(&app, &customer, &req, &v2, &err), OTD_OK);
	ck_assert(v2.replayed);
	ck_assert_int_eq(v2.a.id, v1.a.id);
	ck_assert_str_eq(v2.a.reference, v1.a.reference);
	ck_assert_str_ne(v2.link_token, v1.link_token);
	ck_assert_int_eq(resolve(v1.link_token), v1.a.id);
	ck_assert_int_eq(resolve(v2.link_token), v1.a.id);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM appointments"), 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM outbox"), 1);
	otd_appointment_view_cleanup(&v1);
	otd_appointment_view_cleanup(&v2);
	/* The same key for another request is refused. */
	idem.hash[0] = 8;
	ck_assert_int_eq(app_book(&app, &customer, &req, &v2, &err), OTD_ESTATE);
	ck_assert_str_eq(err.code, "idempotency_key_reused");
}
END_TEST

START_TEST(holds_refuse_windows_the_offer_would_not_show)
{
	seed_ann();
	cfg.booking.holds_per_client = 2;
	start();
	struct otd_hold_result h;
	struct otd_error err;
	ck_assert_int_eq(hold_for(1, 1, "2026-03-03T10:10:00Z", 0, "c", &h, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "window_not_on_grid");
	ck_assert_str_eq(err.field, "window_start");
	ck_assert_int_eq(hold_for(1, 1, "2026-03-02T10:30:00Z", 0, "c", &h, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "window_not_bookable"); /* inside the lead time */
	ck_assert_int_eq(hold_for(1, 1, "2026-03-06T10:00:00Z", 0, "c", &h, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "window_not_bookable"); /* a holiday */
	ck_assert_int_eq(hold_for(1, 1, "2026-03-31T10:00:00Z", 0, "c", &h, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "window_not_bookable"); /* past the horizon */
	ck_assert_int_eq(hold_for(1, 1, "2026-03-03T23:00:00Z", 0, "c", &h, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "window_not_bookable"); /* would cross midnight */
	ck_assert_int_eq(hold_for(1, 1, "2026-03-07T10:00:00Z", 0, "c", &h, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "window_not_offered"); /* a Saturday: nobody works */
	ck_assert_int_eq(hold_for(1, 1, "2026-03-03T15:00:00Z", 0, "c", &h, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "window_not_offered"); /* ends after the shift */
	ck_assert_int_eq(hold_for(1, 2, "2026-03-03T10:00:00Z", 0, "c", &h, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "unknown_visit_type");
	ck_assert_int_eq(hold_for(7, 1, "2026-03-03T10:00:00Z", 0, "c", &h, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "unknown_address");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM holds"), 0);
	/* Live holds per client are capped; another client is not affected. */
	hold_ok(1, 1, "2026-03-03T08:00:00Z", 0, "c", &h);
	hold_ok(1, 1, "2026-03-04T08:00:00Z", 0, "c", &h);
	ck_assert_int_eq(hold_for(1, 1, "2026-03-05T08:00:00Z", 0, "c", &h, &err), OTD_ERATE);
	ck_assert_str_eq(err.code, "too_many_holds");
	ck_assert_int_eq(err.retry_after, 60);
	hold_ok(1, 1, "2026-03-05T08:00:00Z", 0, "other", &h);
	/* Once they expire the client may hold again. */
	ck_assert(otd_clock_advance(app.clock, 10 * 60));
	hold_ok(1, 1, "2026-03-05T10:00:00Z", 0, "c", &h);
}
END_TEST

/* ---- the day cache after a booking ------------------------------------------------ */

struct day_job {
	int64_t visitor;
	const char *date;
	int64_t now;
	struct plan_day *day;
	struct plan_catalog *cat;
};

static enum otd_status day_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct day_job *j = arg;
	enum otd_status st = planner_catalog(app.planner, c, j->now, &j->cat, err);
	if(st)
		return st;
	const struct plan_visitor *v = plan_catalog_visitor(j->cat, j->visitor);
	if(!v) {
		planner_catalog_release(app.planner, j->cat);
		return OTD_ENOTFOUND;
	}
	st = planner_day(app.planner, c, j->cat, v, j->date, j->now, planner_generation(app.planner), &j->day, err);
	if(st)
		planner_catalog_release(app.planner, j->cat);
	return st;
}

/* The cached day's items as "V1 H2" (kind and id). */
static char *cached_items(int64_t visitor, const char *date)
{
	struct day_job j = {visitor, date, otd_clock_now(app.clock), NULL, NULL};
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(store_read(app.store, day_fn, &j, &err), OTD_OK);
	struct otd_buf b;
	otd_buf_init(&b, 0);
	otd_buf_puts(&b, "");
	for(size_t i = 0; i < j.day->n_items; i++)
		otd_buf_printf(&b, "%s%c%lld", i ? " " : "",
		               j.day->items[i].kind == OTD_ITEM_VISIT ? 'V' : 'H',
		               (long long)j.day->items[i].id);
	planner_day_release(app.planner, j.day);
	planner_catalog_release(app.planner, j.cat);
	return otd_buf_steal(&b);
}

static void stats(uint64_t *hits, uint64_t *builds)
{
	size_t days;
	planner_stats(app.planner, hits, builds, &days);
}

START_TEST(a_booking_replaces_its_day_in_the_cache)
{
	/* Two visitors, each able to make one 40-minute visit in the hour. */
	seed_oracle(2, 60, 40);
	start();
	const char *d = "2026-03-03";
	ASSERT_SLOTS(1, 1, d, d, "2026-03-03 10:00/2");
	uint64_t hits, builds, h0, b0;
	stats(&h0, &b0);
	ck_assert_uint_eq(b0, 2);
	ASSERT_SLOTS(1, 1, d, d, "2026-03-03 10:00/2"); /* warm: hits only */
	stats(&hits, &builds);
	ck_assert_uint_eq(builds, 2);
	ck_assert_uint_eq(hits, h0 + 2);

	struct otd_hold_result h;
	hold_ok(1, 1, "2026-03-03T10:00:00Z", 0, "c1", &h);
	int64_t who = h.hold.visitor_id;
	int64_t other = who == 1 ? 2 : 1;
	/* The hold counts at once: the writer put the held visitor's day, with
	 * the hold in it, in the cache as it committed (nothing rebuilt). */
	ASSERT_SLOTS(1, 1, d, d, "2026-03-03 10:00/1");
	char *items = cached_items(who, d);
	ck_assert_str_eq(items, "H1");
	free(items);
	stats(&h0, &b0);
	ck_assert_uint_eq(b0, 2);

	/* Booking replaces the hold: the cached day (still valid until the
	 * hold's expiry) must not be served with the hold in it; the writer
	 * puts the day with the booking in its place. */
	struct otd_appointment_view v;
	struct otd_error err;
	ck_assert_int_eq(book(h.token, "Zoë", "07700 900001", NULL, true, false, &v, &err), OTD_OK);
	otd_appointment_view_cleanup(&v);
	items = cached_items(who, d);
	ck_assert_str_eq(items, "V1");
	free(items);
	stats(&hits, &builds);
	ck_assert_uint_eq(builds, b0);
	ck_assert_uint_eq(hits, h0 + 1);
	/* The other visitor's day was not touched. */
	items = cached_items(other, d);
	ck_assert_str_eq(items, "");
	free(items);
	stats(&hits, &builds);
	ck_assert_uint_eq(builds, b0);
	ck_assert_uint_eq(hits, h0 + 2);
	ASSERT_SLOTS(1, 1, d, d, "2026-03-03 10:00/1");

	/* The last place held: none left; when the hold expires, back again. */
	hold_ok(1, 1, "2026-03-03T10:00:00Z", 0, "c2", &h);
	ck_assert_int_eq(h.hold.visitor_id, other);
	ASSERT_SLOTS(1, 1, d, d, "");
	struct otd_hold_result h2;
	ck_assert_int_eq(hold_for(1, 1, "2026-03-03T10:00:00Z", 0, "c3", &h2, &err), OTD_ECONFLICT);
	ck_assert_str_eq(err.code, "window_taken");
	ck_assert(otd_clock_advance(app.clock, 10 * 60));
	ASSERT_SLOTS(1, 1, d, d, "2026-03-03 10:00/1");
	hold_ok(1, 1, "2026-03-03T10:00:00Z", 0, "c3", &h2);
	ck_assert_int_eq(h2.hold.visitor_id, other);
	/* The lapsed hold was ignored, then tidied away an hour after it
	 * lapsed (until then a customer coming back hears "expired"). */
	ck_assert_int_eq(sql_int("SELECT count(*) FROM holds"), 2);
	ck_assert_int_eq(app_holds_expire(&app, &err), OTD_OK);
	ASSERT_LIST("SELECT client_key FROM holds", "c2;c3");
	ck_assert(otd_clock_advance(app.clock, 61 * 60));
	ck_assert_int_eq(app_holds_expire(&app, &err), OTD_OK);
	ASSERT_LIST("SELECT client_key FROM holds", "c3");
}
END_TEST

/* The cached day of visitor on date, taken from the cache (a hit: nothing
 * is built), against the day built afresh from the database: the same
 * items in the same order, the same routes, stops and timing. */
struct fresh_job {
	int64_t visitor;
	const char *date;
	int64_t now;
	struct plan_day day;
};

static enum otd_status fresh_fn(struct otd_conn *c, void *arg, struct otd_error *err)
{
	struct fresh_job *j = arg;
	struct plan_catalog *cat;
	enum otd_status st = planner_catalog(app.planner, c, j->now, &cat, err);
	if(st)
		return st;
	const struct plan_visitor *v = plan_catalog_visitor(cat, j->visitor);
	st = v ? planner_build_day(app.planner, c, cat, v, j->date, j->now, 0, 0, &j->day, err)
	       : OTD_ENOTFOUND;
	planner_catalog_release(app.planner, cat);
	return st;
}

static void assert_cached_day_is_the_stored_one(int64_t visitor, const char *date)
{
	uint64_t h0, b0, h1, b1;
	stats(&h0, &b0);
	struct day_job j = {visitor, date, otd_clock_now(app.clock), NULL, NULL};
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(store_read(app.store, day_fn, &j, &err), OTD_OK);
	stats(&h1, &b1);
	ck_assert_msg(b1 == b0 && h1 == h0 + 1, "the day was built, not found in the cache");
	struct fresh_job f = {visitor, date, j.now, {0}};
	ck_assert_int_eq(store_read(app.store, fresh_fn, &f, &err), OTD_OK);
	const struct plan_day *a = j.day, *b = &f.day;
	ck_assert_uint_eq(a->n_items, b->n_items);
	for(size_t i = 0; i < a->n_items; i++) {
		const struct otd_route_item *x = &a->items[i], *y = &b->items[i];
		ck_assert_msg(x->kind == y->kind && x->id == y->id,
		              "item %zu: %c%lld, stored %c%lld", i,
		              x->kind == OTD_ITEM_VISIT ? 'V' : 'H', (long long)x->id,
		              y->kind == OTD_ITEM_VISIT ? 'V' : 'H', (long long)y->id);
		ck_assert_int_eq(x->route_position, y->route_position);
		ck_assert_int_eq(x->window_start, y->window_start);
		ck_assert_int_eq(x->window_end, y->window_end);
		ck_assert_int_eq(x->expires_at, y->expires_at);
		ck_assert_int_eq(x->for_appointment, y->for_appointment);
		ck_assert_int_eq(x->visit_type_id, y->visit_type_id);
		ck_assert(x->lat == y->lat && x->lon == y->lon);
		ck_assert(x->median_min == y->median_min && x->spread == y->spread);
	}
	ck_assert_int_eq(a->valid_until, b->valid_until);
	ck_assert_uint_eq(a->n_routes, b->n_routes);
	for(size_t r = 0; r < a->n_routes; r++) {
		const struct otd_route *x = &a->routes[r], *y = &b->routes[r];
		ck_assert_uint_eq(x->n, y->n);
		ck_assert_int_eq(x->feasible, y->feasible);
		for(size_t k = 0; k < x->n; k++) {
			ck_assert_int_eq(x->stops[k].kind, y->stops[k].kind);
			ck_assert_int_eq(x->stops[k].id, y->stops[k].id);
			ck_assert_int_eq(x->stops[k].a, y->stops[k].a);
			ck_assert_int_eq(x->stops[k].b, y->stops[k].b);
			ck_assert(x->stops[k].service_mean == y->stops[k].service_mean);
			ck_assert(x->stops[k].service_var == y->stops[k].service_var);
			ck_assert_int_eq(a->item_of[r][k], b->item_of[r][k]);
		}
		for(size_t k = 0; k <= x->n; k++)
			ck_assert(x->arr_mean[k] == y->arr_mean[k] &&
			          x->arr_var[k] == y->arr_var[k]);
	}
	plan_day_cleanup(&f.day);
	planner_day_release(app.planner, j.day);
	planner_catalog_release(app.planner, j.cat);
}

START_TEST(the_day_a_booking_leaves_in_the_cache_is_the_stored_one)
{
	/* Ann's day, with its lunch break, travel and spread: holds and
	 * bookings out of window order, each put in the cache by the writer as
	 * it commits, and each time the same as the day read back. */
	seed_ann();
	/* What was learned over all visitors times the routes; the items keep
	 * the type's own figures, as the database gives them. */
	sql_exec("INSERT INTO learned_durations(visit_type_id, visitor_id, n, median_s, sigma, "
	         "updated_at) VALUES (1, 0, 12, 2520, 0.2, 1)");
	start();
	const char *d = "2026-03-03";
	char *offer = slots(1, 1, d, d); /* the cache now holds Ann's day */
	free(offer);
	struct otd_hold_result h;
	struct otd_appointment_view v;
	struct otd_error err;
	hold_ok(1, 1, "2026-03-03T12:00:00Z", 0, "c1", &h);
	assert_cached_day_is_the_stored_one(1, d);
	ck_assert_int_eq(book(h.token, "Ada", "07700 900001", NULL, true, false, &v, &err), OTD_OK);
	otd_appointment_view_cleanup(&v);
	assert_cached_day_is_the_stored_one(1, d);
	book_ok(2, "2026-03-03T08:00:00Z", "Bea", "07700 900002", NULL, &v);
	otd_appointment_view_cleanup(&v);
	assert_cached_day_is_the_stored_one(1, d);
	hold_ok(3, 1, "2026-03-03T14:00:00Z", 0, "c3", &h); /* held, not booked */
	assert_cached_day_is_the_stored_one(1, d);
	/* Positions gone (as left by an older version): the next booking
	 * numbers the whole route again, and the cache follows. */
	sql_exec("UPDATE holds SET route_position = NULL");
	planner_day_invalidate(app.planner, 1, d);
	offer = slots(1, 1, d, d);
	free(offer);
	book_ok(1, "2026-03-03T10:00:00Z", "Cy", "07700 900003", NULL, &v);
	otd_appointment_view_cleanup(&v);
	assert_cached_day_is_the_stored_one(1, d);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM appointments WHERE route_position IS NULL"),
	                 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM holds WHERE route_position IS NULL"), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM appointments"), 3);
}
END_TEST

/* ---- sixteen at once ------------------------------------------------------------- */

#define STORM 16

struct storm_client {
	int i;
	pthread_barrier_t *go;
	enum otd_status hold, book;
	char hold_code[OTD_ERR_CODE_MAX];
	int64_t appointment;
};

static void *storm_client(void *arg)
{
	struct storm_client *c = arg;
	char key[32], name[32], phone[32];
	snprintf(key, sizeof(key), "client-%02d", c->i);
	snprintf(name, sizeof(name), "Client %02d", c->i);
	snprintf(phone, sizeof(phone), "07700 9%05d", c->i);
	struct otd_hold_request req = {.address_id = 1,
	                               .visit_type_id = 1,
	                               .window_start = 1772532000, /* 2026-03-03T10:00:00Z */
	                               .client_key = key};
	struct otd_hold_result h;
	struct otd_error err;
	otd_error_clear(&err);
	pthread_barrier_wait(c->go);
	c->hold = app_hold_create(&app, &customer, &req, &h, &err);
	snprintf(c->hold_code, sizeof(c->hold_code), "%s", err.code);
	c->book = OTD_EINTERNAL;
	if(c->hold == OTD_OK) {
		struct otd_booking_request br = {
		    .hold_token = h.token, .name = name, .phone = phone, .consent_sms = true};
		struct otd_appointment_view v;
		otd_error_clear(&err);
		c->book = app_book(&app, &customer, &br, &v, &err);
		if(c->book == OTD_OK) {
			c->appointment = v.a.id;
			otd_appointment_view_cleanup(&v);
		}
	}
	return NULL;
}

/* Re-times the visitor's day from the database, independently of the
 * planner: travel is zero (every visit at the base), durations exact. */
static void assert_route_keeps_every_window(int64_t shift_start, int64_t shift_end, int visits,
                                            int64_t duration)
{
	sqlite3 *db = sql_open();
	sqlite3_stmt *st;
	ck_assert_int_eq(
	    sqlite3_prepare_v2(db,
	                       "SELECT route_position, window_start, window_end FROM "
	                       "appointments WHERE visitor_id = 1 AND status = 'booked' "
	                       "ORDER BY route_position",
	                       -1, &st, NULL),
	    SQLITE_OK);
	int n = 0, last = -1;
	int64_t dep = shift_start;
	while(sqlite3_step(st) == SQLITE_ROW) {
		/* Positions are order keys with gaps: strictly increasing. */
		ck_assert_int_eq(sqlite3_column_type(st, 0), SQLITE_INTEGER);
		ck_assert_int_gt(sqlite3_column_int(st, 0), last);
		last = sqlite3_column_int(st, 0);
		int64_t a = sqlite3_column_int64(st, 1), b = sqlite3_column_int64(st, 2);
		int64_t arrival = dep; /* + zero travel */
		int64_t begin = arrival > a ? arrival : a;
		ck_assert_msg(arrival < b, "visit %d arrives at %lld, window ends %lld", n,
		              (long long)arrival, (long long)b);
		dep = begin + duration;
		n++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	ck_assert_int_eq(n, visits);
	ck_assert_int_le(dep, shift_end); /* back at the base within the shift */
}

START_TEST(sixteen_threads_book_a_window_that_fits_exactly_ten)
{
	/* One visitor, a 60-minute shift, 6-minute visits at the base. */
	seed_oracle(1, 60, 6);
	start();
	ASSERT_SLOTS(1, 1, "2026-03-03", "2026-03-03", "2026-03-03 10:00/1");
	pthread_barrier_t go;
	pthread_barrier_init(&go, NULL, STORM);
	struct storm_client c[STORM];
	pthread_t t[STORM];
	for(int i = 0; i < STORM; i++) {
		c[i] = (struct storm_client){.i = i, .go = &go};
		ck_assert_int_eq(pthread_create(&t[i], NULL, storm_client, &c[i]), 0);
	}
	for(int i = 0; i < STORM; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&go);
	int held = 0, booked = 0, taken = 0;
	for(int i = 0; i < STORM; i++) {
		if(c[i].hold == OTD_OK) {
			held++;
			ck_assert_msg(c[i].book == OTD_OK, "client %d held but could not book", i);
			booked++;
		} else {
			ck_assert_msg(c[i].hold == OTD_ECONFLICT, "client %d: %d %s", i, c[i].hold,
			              c[i].hold_code);
			ck_assert_str_eq(c[i].hold_code, "window_taken");
			taken++;
		}
	}
	ck_assert_int_eq(booked, 10);
	ck_assert_int_eq(held, 10);
	ck_assert_int_eq(taken, 6);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM appointments"), 10);
	ck_assert_int_eq(sql_int("SELECT count(DISTINCT customer_id) FROM appointments"), 10);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM holds"), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM outbox WHERE template = "
	                         "'booking_confirmation'"),
	                 10);
	assert_route_keeps_every_window(at("2026-03-03T10:00:00Z"), at("2026-03-03T11:00:00Z"), 10,
	                                6 * 60);
	/* The planner, re-timing the day from the database, agrees. */
	struct day_job j = {1, "2026-03-03", otd_clock_now(app.clock), NULL, NULL};
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(store_read(app.store, day_fn, &j, &err), OTD_OK);
	ck_assert_uint_eq(j.day->n_routes, 1);
	ck_assert_uint_eq(otd_route_visits(&j.day->routes[0]), 10);
	ck_assert(j.day->routes[0].feasible);
	planner_day_release(app.planner, j.day);
	planner_catalog_release(app.planner, j.cat);
	/* Nothing more is offered or can be held. */
	ASSERT_SLOTS(1, 1, "2026-03-03", "2026-03-03", "");
	struct otd_hold_result h;
	ck_assert_int_eq(hold_for(1, 1, "2026-03-03T10:00:00Z", 0, "late", &h, &err),
	                 OTD_ECONFLICT);
}
END_TEST

/* ---- reschedule, cancel, waitlist ----------------------------------------------- */

START_TEST(reschedule_moves_the_promise_and_the_invite_sequence)
{
	seed_ann();
	start();
	struct otd_appointment_view v;
	int64_t id =
	    book_ok(1, "2026-03-03T10:00:00Z", "Zoë", "07700 900001", "zoe@example.org", &v);
	char ref[11], link[OTD_LINK_TOKEN_LEN + 1];
	snprintf(ref, sizeof(ref), "%s", v.a.reference);
	snprintf(link, sizeof(link), "%s", v.link_token);
	otd_appointment_view_cleanup(&v);

	/* A hold to move it: its own place is free meanwhile. */
	struct otd_hold_result h;
	hold_ok(1, 1, "2026-03-05T13:00:00Z", id, "zoe", &h);
	ck_assert_str_eq(h.hold.purpose, "reschedule");
	ck_assert_int_eq(h.hold.for_appointment, id);
	/* It cannot be booked as a new visit. */
	struct otd_error err;
	ck_assert_int_eq(book(h.token, "Zoë", "07700 900001", NULL, true, false, &v, &err),
	                 OTD_ESTATE);
	ck_assert_str_eq(err.code, "hold_for_reschedule");

	ck_assert(otd_clock_advance(app.clock, 60));
	otd_error_clear(&err);
	ck_assert_msg(app_reschedule(&app, &customer, id, h.token, 0, true, NULL, &v, &err) ==
	                  OTD_OK,
	              "%s", err.message);
	ck_assert_int_eq(v.a.promise_version, 2);
	ck_assert_int_eq(v.a.window_start, at("2026-03-05T13:00:00Z"));
	ck_assert_int_eq(v.a.window_end, at("2026-03-05T15:00:00Z"));
	ck_assert_str_eq(v.a.local_date, "2026-03-05");
	ck_assert_str_eq(v.a.reference, ref);
	otd_appointment_view_cleanup(&v);
	/* The old link still works; the hold is spent. */
	ck_assert_int_eq(resolve(link), id);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM holds"), 0);
	ASSERT_LIST("SELECT kind FROM appointment_events ORDER BY id", "booked;rescheduled");
	ASSERT_LIST("SELECT idem_key || ' ' || template FROM outbox ORDER BY id",
	            "appt:1:v1:booked:email booking_confirmation;appt:1:v1:booked:sms "
	            "booking_confirmation;appt:1:v2:rescheduled:email rescheduled;"
	            "appt:1:v2:rescheduled:sms rescheduled");
	json_t *mail = payload("appt:1:v2:rescheduled:email");
	const char *ics = field(mail, "ics");
	char uid[64];
	snprintf(uid, sizeof(uid), "\r\nUID:%s@onthedot\r\n", ref);
	ck_assert_ptr_nonnull(strstr(ics, uid));
	ck_assert_ptr_nonnull(strstr(ics, "\r\nMETHOD:REQUEST\r\n"));
	ck_assert_ptr_nonnull(strstr(ics, "\r\nSEQUENCE:2\r\n"));
	ck_assert_ptr_null(strstr(ics, "SEQUENCE:1"));
	ck_assert_ptr_nonnull(strstr(ics, "\r\nDTSTART;TZID=Europe/London:20260305T130000\r\n"));
	ck_assert_str_eq(field(mail, "subject"),
	                 "Your boiler repair has moved: Thursday 5 March, 13:00 to 15:00");
	ck_assert_ptr_nonnull(strstr(field(mail, "text"), "(it was Tuesday 3 March, 10:00 to "
	                                                  "12:00)"));
	json_decref(mail);
	json_t *sms = payload("appt:1:v2:rescheduled:sms");
	ck_assert_ptr_nonnull(strstr(field(sms, "text"), "has moved to Thu 5 Mar, 13:00-15:00 (was "
	                                                 "Tue 3 Mar, 10:00-12:00)"));
	json_decref(sms);

	/* A spent hold cannot move it again. */
	ck_assert_int_eq(app_reschedule(&app, &customer, id, h.token, 0, true, NULL, &v, &err),
	                 OTD_ECONFLICT);
	ck_assert_int_eq(sql_int("SELECT promise_version FROM appointments"), 2);
	/* Nor a hold made for another booking. */
	struct otd_appointment_view w;
	int64_t other = book_ok(2, "2026-03-04T10:00:00Z", "Cy", "07700 900002", NULL, &w);
	otd_appointment_view_cleanup(&w);
	hold_ok(2, 1, "2026-03-04T13:00:00Z", other, "cy", &h);
	ck_assert_int_eq(app_reschedule(&app, &customer, id, h.token, 0, true, NULL, &v, &err),
	                 OTD_ESTATE);
	ck_assert_str_eq(err.code, "hold_mismatch");
	ck_assert_int_eq(app_reschedule(&app, &customer, id, NULL, 0, true, NULL, &v, &err),
	                 OTD_EINVAL);
	ck_assert_str_eq(err.code, "missing_field");
}
END_TEST

START_TEST(cancel_sends_a_calendar_cancel_with_the_same_uid)
{
	seed_ann();
	start();
	struct otd_appointment_view v;
	int64_t id = book_ok(1, "2026-03-03T10:00:00Z", "Zoë", NULL, "zoe@example.org", &v);
	char ref[11], link[OTD_LINK_TOKEN_LEN + 1];
	snprintf(ref, sizeof(ref), "%s", v.a.reference);
	snprintf(link, sizeof(link), "%s", v.link_token);
	otd_appointment_view_cleanup(&v);
	ck_assert(otd_clock_advance(app.clock, 3600)); /* 10:00: 24 hours' notice */
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(app_cancel(&app, &customer, id, true, NULL, &v, &err), OTD_OK);
	ck_assert_str_eq(v.a.status, "cancelled");
	ck_assert_str_eq(v.a.cancelled_by, "customer");
	ck_assert_int_eq(v.a.cancel_notice_s, 24 * 3600);
	ck_assert_int_eq(v.a.promise_version, 1);
	otd_appointment_view_cleanup(&v);
	ASSERT_LIST(
	    "SELECT idem_key || ' ' || template FROM outbox ORDER BY id",
	    "appt:1:v1:booked:email booking_confirmation;appt:1:v2:cancelled:email cancelled");
	json_t *booked = payload("appt:1:v1:booked:email");
	json_t *mail = payload("appt:1:v2:cancelled:email");
	ck_assert_str_eq(field(mail, "ics_method"), "CANCEL");
	const char *ics = field(mail, "ics");
	char uid[64];
	snprintf(uid, sizeof(uid), "\r\nUID:%s@onthedot\r\n", ref);
	ck_assert_ptr_nonnull(strstr(ics, uid));
	ck_assert_ptr_nonnull(strstr(field(booked, "ics"), uid));
	ck_assert_ptr_nonnull(strstr(ics, "\r\nMETHOD:CANCEL\r\n"));
	ck_assert_ptr_nonnull(strstr(ics, "\r\nSTATUS:CANCELLED\r\n"));
	ck_assert_ptr_nonnull(strstr(ics, "\r\nSEQUENCE:2\r\n"));
	ck_assert_ptr_null(json_object_get(mail, "link")); /* nothing left to manage */
	ck_assert_str_eq(field(mail, "subject"),
	                 "Your boiler repair on Tuesday 3 March, 10:00 to 12:00 is cancelled");
	json_decref(mail);
	json_decref(booked);
	ASSERT_LIST(
	    "SELECT kind || ' ' || detail FROM appointment_events ORDER BY id",
	    "booked {\"promise_version\":1,\"window_start\":1772532000,\"window_end\":"
	    "1772539200,\"visitor_id\":1};cancelled {\"by\":\"customer\",\"notice_s\":86400}");
	/* Its place is free again; a second cancel is refused. */
	ck_assert_int_eq(sql_int("SELECT count(*) FROM appointments WHERE route_position IS NOT "
	                         "NULL"),
	                 0);
	ck_assert_int_eq(app_cancel(&app, &customer, id, true, NULL, &v, &err), OTD_ESTATE);
	ck_assert_str_eq(err.code, "cannot_cancel");
	ck_assert_str_eq(err.message, "This visit is already cancelled.");
	/* The link still reads it (cancelled). */
	ck_assert_int_eq(resolve(link), id);
}
END_TEST

START_TEST(a_cancelled_place_is_offered_to_the_waitlist)
{
	seed_oracle(1, 60, 40); /* one visit a day fits */
	start();
	struct otd_appointment_view v;
	/* Wednesday's visit waits for an earlier window; Tuesday is taken. */
	int64_t tue = 0, wed = 0;
	struct otd_hold_result h;
	hold_ok(1, 1, "2026-03-03T10:00:00Z", 0, "a", &h);
	struct otd_error err;
	ck_assert_int_eq(book(h.token, "Ann Early", "07700 900001", NULL, true, false, &v, &err),
	                 OTD_OK);
	tue = v.a.id;
	otd_appointment_view_cleanup(&v);
	hold_ok(1, 1, "2026-03-04T10:00:00Z", 0, "b", &h);
	ck_assert_int_eq(book(h.token, "Bea Later", NULL, "bea@example.org", false, true, &v, &err),
	                 OTD_OK);
	wed = v.a.id;
	otd_appointment_view_cleanup(&v);
	ck_assert_int_eq(app_waitlist(&app, wed, true, &err), OTD_OK);
	ASSERT_SLOTS(1, 1, "2026-03-03", "2026-03-03", "");

	/* Tuesday's customer cancels: Bea gets the place, held for her. */
	ck_assert_int_eq(app_cancel(&app, &customer, tue, true, NULL, &v, &err), OTD_OK);
	otd_appointment_view_cleanup(&v);
	ASSERT_LIST(
	    "SELECT id || ' ' || for_appointment || ' ' || purpose || ' ' || window_start || "
	    "' ' || (expires_at - created_at) FROM holds",
	    "1 2 waitlist_offer 1772532000 7200");
	ASSERT_LIST("SELECT state || ' ' || offered_hold FROM waitlist", "offered 1");
	ASSERT_SLOTS(1, 1, "2026-03-03", "2026-03-03", ""); /* held, not free */
	ck_assert_int_eq(app_appointment_view(&app, wed, &v, &err), OTD_OK);
	ck_assert_str_eq(v.waitlist, "offered");
	ck_assert_uint_eq(v.n_offers, 1);
	ck_assert_int_eq(v.offers[0].window_start, at("2026-03-03T10:00:00Z"));
	int64_t offer = v.offers[0].id;
	otd_appointment_view_cleanup(&v);
	char *key = sql_list("SELECT idem_key FROM outbox WHERE template = 'waitlist_offer'");
	ck_assert_int_eq(strncmp(key, "appt:2:v1:waitlist_offer:1:1772532000:", 38), 0);
	ck_assert_ptr_null(strchr(key, ';')); /* one message: Bea's email */
	json_t *mail = payload(key);
	free(key);
	ck_assert_str_eq(field(mail, "to"), "bea@example.org");
	ck_assert_str_eq(field(mail, "subject"),
	                 "An earlier time for your exact visit: Tuesday 3 March, 10:00 to 11:00");
	ck_assert_ptr_nonnull(strstr(field(mail, "text"),
	                             "we are holding it for you until 11:00 on Monday 2 March."));
	ck_assert_ptr_nonnull(strstr(field(mail, "text"), "If you do nothing, your visit stays on "
	                                                  "Wednesday 4 March, 10:00 to 11:00."));
	ck_assert_int_eq(resolve(token_of(field(mail, "link"))), wed);
	json_decref(mail);

	/* She takes it: moved, her Wednesday freed, her wait over. */
	otd_error_clear(&err);
	ck_assert_msg(app_reschedule(&app, &customer, wed, NULL, offer, true, NULL, &v, &err) ==
	                  OTD_OK,
	              "%s", err.message);
	ck_assert_int_eq(v.a.window_start, at("2026-03-03T10:00:00Z"));
	ck_assert_int_eq(v.a.promise_version, 2);
	ck_assert_str_eq(v.waitlist, "done");
	otd_appointment_view_cleanup(&v);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM holds"), 0);
	ASSERT_SLOTS(1, 1, "2026-03-04", "2026-03-04", "2026-03-04 10:00/1");
	ASSERT_SLOTS(1, 1, "2026-03-03", "2026-03-03", "");
}
END_TEST

START_TEST(a_lapsed_waitlist_offer_leaves_the_customer_waiting)
{
	seed_oracle(1, 60, 40);
	start();
	struct otd_appointment_view v;
	struct otd_error err;
	struct otd_hold_result h;
	hold_ok(1, 1, "2026-03-03T10:00:00Z", 0, "a", &h);
	ck_assert_int_eq(book(h.token, "Ann Early", "07700 900001", NULL, true, false, &v, &err),
	                 OTD_OK);
	int64_t tue = v.a.id;
	otd_appointment_view_cleanup(&v);
	hold_ok(1, 1, "2026-03-05T10:00:00Z", 0, "b", &h);
	ck_assert_int_eq(book(h.token, "Bea Later", "07700 900002", NULL, true, false, &v, &err),
	                 OTD_OK);
	int64_t thu = v.a.id;
	otd_appointment_view_cleanup(&v);
	ck_assert_int_eq(app_waitlist(&app, thu, true, &err), OTD_OK);
	ck_assert_int_eq(app_cancel(&app, &customer, tue, true, NULL, &v, &err), OTD_OK);
	otd_appointment_view_cleanup(&v);
	ASSERT_LIST("SELECT state FROM waitlist", "offered");
	/* Two hours later the offer has lapsed: she waits again and the place
	 * is free for anyone. */
	ck_assert(otd_clock_advance(app.clock, 2 * 3600));
	ck_assert_int_eq(app_appointment_view(&app, thu, &v, &err), OTD_OK);
	ck_assert_str_eq(v.waitlist, "waiting");
	ck_assert_uint_eq(v.n_offers, 0);
	otd_appointment_view_cleanup(&v);
	ASSERT_SLOTS(1, 1, "2026-03-03", "2026-03-03", "2026-03-03 10:00/1");
	ck_assert_int_eq(app_holds_expire(&app, &err), OTD_OK);
	ASSERT_LIST("SELECT state || ' ' || coalesce(offered_hold, '-') FROM waitlist",
	            "waiting -");
	/* Withdrawn: off the list. */
	ck_assert_int_eq(app_waitlist(&app, thu, false, &err), OTD_OK);
	ASSERT_LIST("SELECT state FROM waitlist", "withdrawn");
	ck_assert_int_eq(app_waitlist(&app, tue, true, &err), OTD_ESTATE);
	ck_assert_str_eq(err.code, "cannot_waitlist");
}
END_TEST

START_TEST(cancelling_a_booking_frees_the_offer_held_for_it)
{
	seed_oracle(1, 60, 40);
	start();
	struct otd_appointment_view v;
	struct otd_error err;
	struct otd_hold_result h;
	hold_ok(1, 1, "2026-03-03T10:00:00Z", 0, "a", &h);
	ck_assert_int_eq(book(h.token, "Ann Early", "07700 900001", NULL, true, false, &v, &err),
	                 OTD_OK);
	int64_t tue = v.a.id;
	otd_appointment_view_cleanup(&v);
	hold_ok(1, 1, "2026-03-04T10:00:00Z", 0, "b", &h);
	ck_assert_int_eq(book(h.token, "Bea Later", "07700 900002", NULL, true, false, &v, &err),
	                 OTD_OK);
	int64_t wed = v.a.id;
	otd_appointment_view_cleanup(&v);
	ck_assert_int_eq(app_waitlist(&app, wed, true, &err), OTD_OK);
	ck_assert_int_eq(app_cancel(&app, &customer, tue, true, NULL, &v, &err), OTD_OK);
	otd_appointment_view_cleanup(&v);
	ASSERT_LIST("SELECT for_appointment || ' ' || purpose FROM holds", "2 waitlist_offer");
	ASSERT_SLOTS(1, 1, "2026-03-03", "2026-03-04", ""); /* Tuesday held for Bea */

	/* Bea cancels her visit instead: the window held for it is nobody's
	 * now, free at once rather than when the offer would have lapsed. */
	ck_assert_int_eq(app_cancel(&app, &customer, wed, true, NULL, &v, &err), OTD_OK);
	otd_appointment_view_cleanup(&v);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM holds"), 0);
	ASSERT_LIST("SELECT state FROM waitlist", "withdrawn");
	ASSERT_SLOTS(1, 1, "2026-03-03", "2026-03-04", "2026-03-03 10:00/1; 2026-03-04 10:00/1");
}
END_TEST

/* ---- a new link ------------------------------------------------------------------- */

START_TEST(a_new_link_goes_only_to_the_contact_on_file)
{
	seed_ann();
	start();
	struct otd_appointment_view v;
	int64_t id =
	    book_ok(1, "2026-03-03T10:00:00Z", "Zoë", "07700 900001", "zoe@example.org", &v);
	char ref[11], link[OTD_LINK_TOKEN_LEN + 1];
	snprintf(ref, sizeof(ref), "%s", v.a.reference);
	snprintf(link, sizeof(link), "%s", v.link_token);
	otd_appointment_view_cleanup(&v);
	long long links = sql_int("SELECT count(*) FROM appointment_links");
	ck_assert_int_eq(links, 3);
	struct otd_error err;
	otd_error_clear(&err);

	/* Nothing matches: nothing sent, nothing revoked, and no error. */
	ck_assert_int_eq(app_resend_link(&app, ref, "07700 900009", &err), OTD_OK);
	ck_assert_int_eq(app_resend_link(&app, ref, "mallory@example.org", &err), OTD_OK);
	ck_assert_int_eq(app_resend_link(&app, "OTD-ZZZZZZ", "07700 900001", &err), OTD_OK);
	ck_assert_int_eq(app_resend_link(&app, "not a reference", "07700 900001", &err), OTD_OK);
	ck_assert_int_eq(app_resend_link(&app, ref, "not a contact", &err), OTD_OK);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM outbox"), 2);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM appointment_links WHERE revoked_at IS NOT "
	                         "NULL"),
	                 0);
	ck_assert_int_eq(resolve(link), id);

	/* The phone on file, as typed: an SMS only, every old link revoked. */
	ck_assert_int_eq(app_resend_link(&app, ref + 4, "07700 900001", &err), OTD_OK);
	ck_assert_int_eq(resolve(link), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM appointment_links WHERE revoked_at IS NULL"),
	                 1);
	char *key =
	    sql_list("SELECT idem_key || ' ' || channel || ' ' || template FROM outbox WHERE "
	             "id > 2");
	ck_assert_int_eq(strncmp(key, "appt:1:v1:new_link:", 19), 0);
	ck_assert_str_eq(key + strlen(key) - 13, " sms new_link");
	free(key);
	key = sql_list("SELECT idem_key FROM outbox WHERE id = 3");
	json_t *sms = payload(key);
	free(key);
	ck_assert_str_eq(field(sms, "to"), "+447700900001");
	const char *fresh = token_of(field(sms, "link"));
	ck_assert_int_eq(resolve(fresh), id);
	char want[300];
	snprintf(
	    want, sizeof(want),
	    "Zoë, here is your new link for your boiler repair on Tue 3 Mar, 10:00-12:00 (links we "
	    "sent before no longer work): %s",
	    field(sms, "link"));
	ck_assert_str_eq(field(sms, "text"), want);
	char first[OTD_LINK_TOKEN_LEN + 1];
	snprintf(first, sizeof(first), "%s", fresh);
	json_decref(sms);
	ASSERT_LIST("SELECT kind || ' ' || detail FROM appointment_events WHERE kind = "
	            "'links_revoked'",
	            "links_revoked {\"sent_to\":\"sms\"}");

	/* The email on file, in another case: an email only; the link just sent
	 * is revoked in turn. */
	ck_assert_int_eq(app_resend_link(&app, ref, "ZOE@example.org", &err), OTD_OK);
	ck_assert_int_eq(resolve(first), 0);
	key = sql_list("SELECT idem_key FROM outbox WHERE id = 4");
	ck_assert_str_eq(key + strlen(key) - 6, ":email");
	json_t *mail = payload(key);
	free(key);
	ck_assert_str_eq(field(mail, "to"), "zoe@example.org");
	ck_assert_str_eq(field(mail, "subject"), "Your new link for your boiler repair");
	ck_assert_ptr_null(json_object_get(mail, "ics"));
	ck_assert_int_eq(resolve(token_of(field(mail, "link"))), id);
	json_decref(mail);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM outbox"), 4);
}
END_TEST

/* ---- the dispatcher's search ---------------------------------------------------------- */

static char *search(struct otd_appointment_filter f, int64_t *next)
{
	struct otd_appointment_view *items = NULL;
	size_t n = 0;
	struct otd_error err;
	otd_error_clear(&err);
	if(!f.limit)
		f.limit = 20;
	ck_assert_msg(app_appointments_search(&app, &f, &items, &n, next, &err) == OTD_OK, "%s",
	              err.message);
	struct otd_buf b;
	otd_buf_init(&b, 0);
	otd_buf_puts(&b, "");
	for(size_t i = 0; i < n; i++) {
		otd_buf_printf(&b, "%s%s %s", i ? ";" : "", items[i].customer.name,
		               items[i].visitor_first_name);
		otd_appointment_view_cleanup(&items[i]);
	}
	free(items);
	return otd_buf_steal(&b);
}

#define ASSERT_SEARCH(f, want_next, want)                                                          \
	do {                                                                                       \
		int64_t next_ = -1;                                                                \
		char *got_ = search(f, &next_);                                                    \
		ck_assert_str_eq(got_, want);                                                      \
		ck_assert_int_eq(next_, want_next);                                                \
		free(got_);                                                                        \
	} while(0)

START_TEST(dispatchers_search_by_reference_name_phone_and_postcode)
{
	seed_ann();
	start();
	struct otd_appointment_view v;
	book_ok(1, "2026-03-03T08:00:00Z", "Zoë O'Brien", "07700 900001", NULL, &v);
	char ref[11];
	snprintf(ref, sizeof(ref), "%s", v.a.reference);
	otd_appointment_view_cleanup(&v);
	book_ok(2, "2026-03-03T12:00:00Z", "Cy Twain", NULL, "cy@example.org", &v);
	otd_appointment_view_cleanup(&v);
	book_ok(3, "2026-03-04T10:00:00Z", "Zed 100%", "07700 900003", NULL, &v);
	int64_t third = v.a.id;
	otd_appointment_view_cleanup(&v);
	struct otd_error err;
	ck_assert_int_eq(app_cancel(&app, &cli, third, false, "Van broke down", &v, &err), OTD_OK);
	ck_assert_str_eq(v.a.cancelled_by, "organisation");
	otd_appointment_view_cleanup(&v);

	struct otd_appointment_filter f = {.query = ref};
	ASSERT_SEARCH(f, 0, "Zoë O'Brien Ann");
	/* The reference without its prefix is not a reference to the store. */
	f.query = "07700 900001"; /* a phone as typed matches as stored */
	ASSERT_SEARCH(f, 0, "Zoë O'Brien Ann");
	f.query = "+447700900003";
	ASSERT_SEARCH(f, 0, "Zed 100% Ann");
	f.query = "z";
	ASSERT_SEARCH(f, 0, "Zoë O'Brien Ann;Zed 100% Ann");
	f.query = "zed 100%";
	ASSERT_SEARCH(f, 0, "Zed 100% Ann");
	f.query = "zed 1000";
	ASSERT_SEARCH(f, 0, "");
	f.query = "ab1 9zz";
	ASSERT_SEARCH(f, 0, "Cy Twain Ann");
	f.query = "CY@EXAMPLE.ORG";
	ASSERT_SEARCH(f, 0, "Cy Twain Ann");
	f = (struct otd_appointment_filter){.local_date = "2026-03-03"};
	ASSERT_SEARCH(f, 0, "Zoë O'Brien Ann;Cy Twain Ann");
	f = (struct otd_appointment_filter){.status = "cancelled"};
	ASSERT_SEARCH(f, 0, "Zed 100% Ann");
	f = (struct otd_appointment_filter){.visitor_id = 1, .status = "booked"};
	ASSERT_SEARCH(f, 0, "Zoë O'Brien Ann;Cy Twain Ann");
	/* Pages: next is the last id given when more remain. */
	f = (struct otd_appointment_filter){.limit = 2};
	ASSERT_SEARCH(f, 2, "Zoë O'Brien Ann;Cy Twain Ann");
	f.after_id = 2;
	ASSERT_SEARCH(f, 0, "Zed 100% Ann");
	/* By reference for the dispatcher: any case, with or without "OTD-". */
	int64_t id = 0;
	char lower[11];
	for(int i = 0; i < 10; i++)
		lower[i] = (char)(ref[i] >= 'A' && ref[i] <= 'Z' ? ref[i] - 'A' + 'a' : ref[i]);
	lower[10] = '\0';
	otd_error_clear(&err);
	ck_assert_int_eq(app_appointment_by_reference(&app, lower + 4, &id, &err), OTD_OK);
	ck_assert_int_eq(id, 1);
	ck_assert_int_eq(app_appointment_by_reference(&app, "OTD-ZZZZZZ", &id, &err),
	                 OTD_ENOTFOUND);
	ck_assert_int_eq(app_appointment_by_reference(&app, "OTD-0O1I00", &id, &err),
	                 OTD_ENOTFOUND);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("booking");
	TCase *tc = tcase_create("booking");
	/* Fork mode: each test opens SQLite and starts its threads itself. */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, slots_respect_the_booking_rules);
	tcase_add_test(tc, visits_per_day_are_capped);
	tcase_add_test(tc, hold_and_book_write_the_booking_its_link_and_messages);
	tcase_add_test(tc, a_confirmation_rendered_early_is_not_sent_when_its_facts_changed);
	tcase_add_test(tc, an_idempotency_key_replays_the_first_booking_with_a_new_link);
	tcase_add_test(tc, holds_refuse_windows_the_offer_would_not_show);
	tcase_add_test(tc, a_booking_replaces_its_day_in_the_cache);
	tcase_add_test(tc, the_day_a_booking_leaves_in_the_cache_is_the_stored_one);
	tcase_add_test(tc, sixteen_threads_book_a_window_that_fits_exactly_ten);
	tcase_add_test(tc, reschedule_moves_the_promise_and_the_invite_sequence);
	tcase_add_test(tc, cancel_sends_a_calendar_cancel_with_the_same_uid);
	tcase_add_test(tc, a_cancelled_place_is_offered_to_the_waitlist);
	tcase_add_test(tc, a_lapsed_waitlist_offer_leaves_the_customer_waiting);
	tcase_add_test(tc, cancelling_a_booking_frees_the_offer_held_for_it);
	tcase_add_test(tc, a_new_link_goes_only_to_the_contact_on_file);
	tcase_add_test(tc, dispatchers_search_by_reference_name_phone_and_postcode);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
