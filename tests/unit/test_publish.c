/* Publishing to the other nodes (src/app/publish.c, src/store/notify.c):
 * the NOTIFY payload's round trip, the reload form of an event too long
 * for PostgreSQL, what decode refuses, and that a SQLite store is not
 * shared (notify and listen do nothing). */
#include <stdlib.h>
#include <string.h>

#include "app/publish.h"
#include "store/notify.h"
#include "store/store.h"
#include "testutil.h"

static const char NODE[] = "0123456789abcdef0123456789abcdef";

START_TEST(round_trip_keeps_every_field)
{
	const char *staff = "{\"change\":\"booked\",\"reference\":\"Ab-12\",\"p_late\":0.1,"
	                    "\"note\":\"caf\\u00e9 \\\"x\\\"\"}";
	struct otd_bus_event ev = {.type = "appointment",
	                           .appointment_id = 12,
	                           .visitor_id = 3,
	                           .staff_json = staff,
	                           .customer_json = "{\"status\":\"booked\"}"};
	char *p = bus_payload_encode(NODE, &ev, STORE_NOTIFY_MAX);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_null(strstr(p, "\"reload\""));
	struct bus_payload d;
	ck_assert(bus_payload_decode(p, &d));
	ck_assert_str_eq(d.node, NODE);
	ck_assert(!d.reload);
	ck_assert_str_eq(d.ev.type, "appointment");
	ck_assert_int_eq(d.ev.appointment_id, 12);
	ck_assert_int_eq(d.ev.visitor_id, 3);
	ck_assert_str_eq(d.ev.staff_json, staff); /* the very bytes */
	ck_assert_str_eq(d.ev.customer_json, "{\"status\":\"booked\"}");
	bus_payload_free(&d);
	free(p);

	/* No customer data: null, and none after decoding. */
	struct otd_bus_event v = {.type = "visitor", .visitor_id = 9, .staff_json = "{}"};
	p = bus_payload_encode(NODE, &v, STORE_NOTIFY_MAX);
	ck_assert_ptr_nonnull(strstr(p, "\"customer\":null"));
	ck_assert(bus_payload_decode(p, &d));
	ck_assert_str_eq(d.ev.type, "visitor");
	ck_assert_int_eq(d.ev.appointment_id, 0);
	ck_assert_ptr_null(d.ev.customer_json);
	bus_payload_free(&d);
	free(p);
}
END_TEST

START_TEST(too_long_goes_as_reload_and_comes_back_as_reset)
{
	size_t n = 9000;
	char *big = malloc(n + 16);
	memcpy(big, "{\"x\":\"", 6);
	memset(big + 6, 'a', n);
	memcpy(big + 6 + n, "\"}", 3);
	struct otd_bus_event ev = {.type = "appointment",
	                           .appointment_id = 5,
	                           .visitor_id = 7,
	                           .staff_json = big,
	                           .customer_json = "{}"};
	char *p = bus_payload_encode(NODE, &ev, STORE_NOTIFY_MAX);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_le(strlen(p), STORE_NOTIFY_MAX);
	ck_assert_ptr_nonnull(strstr(p, "\"reload\":true"));
	struct bus_payload d;
	ck_assert(bus_payload_decode(p, &d));
	ck_assert(d.reload);
	ck_assert_str_eq(d.type, "appointment");
	ck_assert_str_eq(d.ev.type, "reset"); /* the pages fetch everything again */
	ck_assert_int_eq(d.ev.appointment_id, 5);
	ck_assert_int_eq(d.ev.visitor_id, 7);
	ck_assert_ptr_nonnull(d.ev.staff_json);
	ck_assert_ptr_nonnull(d.ev.customer_json); /* the customer's stream reloads too */
	bus_payload_free(&d);
	free(p);

	/* Just under the limit stays whole; a limit too small for anything: NULL. */
	ev.staff_json = "{\"change\":\"booked\",\"reference\":\"Ab-12-34\"}";
	ev.customer_json = NULL;
	p = bus_payload_encode(NODE, &ev, STORE_NOTIFY_MAX);
	size_t len = strlen(p);
	free(p);
	p = bus_payload_encode(NODE, &ev, len);
	ck_assert_ptr_null(strstr(p, "reload"));
	free(p);
	p = bus_payload_encode(NODE, &ev, len - 1);
	ck_assert_ptr_nonnull(strstr(p, "\"reload\":true"));
	ck_assert_ptr_nonnull(strstr(p, "\"customer\":false"));
	free(p);
	ck_assert_ptr_null(bus_payload_encode(NODE, &ev, 20));
	free(big);
}
END_TEST

START_TEST(decode_refuses_what_is_not_ours)
{
	static const char *bad[] = {
	    "",
	    "not json",
	    "[]",
	    "{\"type\":\"a\",\"appointment_id\":1,\"visitor_id\":1,\"staff\":\"{}\",\"customer\":"
	    "null}",
	    "{\"node\":\"n\",\"appointment_id\":1,\"visitor_id\":1,\"staff\":\"{}\",\"customer\":"
	    "null}",
	    "{\"node\":\"n\",\"type\":\"a\",\"visitor_id\":1,\"staff\":\"{}\",\"customer\":null}",
	    "{\"node\":\"n\",\"type\":\"a\",\"appointment_id\":\"1\",\"visitor_id\":1,\"staff\":\"{"
	    "}\","
	    "\"customer\":null}",
	    "{\"node\":\"n\",\"type\":\"a\",\"appointment_id\":1,\"visitor_id\":1,\"customer\":"
	    "null}",
	    "{\"node\":\"n\",\"type\":\"a\",\"appointment_id\":1,\"visitor_id\":1,\"staff\":{},"
	    "\"customer\":null}",
	    "{\"node\":\"n\",\"type\":\"a\",\"appointment_id\":1,\"visitor_id\":1,\"staff\":\"{}\","
	    "\"customer\":5}",
	    "{\"node\":\"n\",\"type\":\"a\",\"appointment_id\":1,\"visitor_id\":1,\"reload\":true}",
	    "{\"node\":\"n\",\"type\":\"a\",\"appointment_id\":1,\"visitor_id\":1,\"reload\":1,"
	    "\"customer\":false}",
	    "{\"node\":\"n\",\"type\":\"0123456789012345678901234567890123456789\","
	    "\"appointment_id\":1,\"visitor_id\":1,\"staff\":\"{}\",\"customer\":null}",
	    "{\"node\":\"0123456789abcdef0123456789abcdef0\",\"type\":\"a\",\"appointment_id\":1,"
	    "\"visitor_id\":1,\"staff\":\"{}\",\"customer\":null}",
	    "{\"node\":\"n\",\"node\":\"m\",\"type\":\"a\",\"appointment_id\":1,\"visitor_id\":1,"
	    "\"staff\":\"{}\",\"customer\":null}",
	};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bus_payload d;
		ck_assert_msg(!bus_payload_decode(bad[i], &d), "accepted: %s", bad[i]);
		ck_assert_ptr_null(d.staff);
		bus_payload_free(&d);
	}
	struct bus_payload d;
	ck_assert(bus_payload_decode("{\"node\":\"n\",\"type\":\"a\",\"appointment_id\":1,"
	                             "\"visitor_id\":2,\"reload\":true,\"customer\":false}",
	                             &d));
	ck_assert_ptr_null(d.ev.customer_json);
	bus_payload_free(&d);
}
END_TEST

static void never(void *arg, const char *payload)
{
	(void)arg;
	(void)payload;
	ck_abort_msg("a SQLite store has no other nodes");
}

START_TEST(sqlite_is_not_shared)
{
	char *path = testutil_migrated_db("publish");
	struct otd_store_options so = {.path = path,
	                               .read_connections = 1,
	                               .writer_queue = 8,
	                               .writer_wait_ms = 1000,
	                               .busy_timeout_ms = 1000,
	                               .group_commit_max = 8};
	struct otd_store *s = NULL;
	struct otd_error e;
	otd_error_clear(&e);
	ck_assert_int_eq(store_open(&so, &s, &e), OTD_OK);
	ck_assert(!store_is_shared(s));
	ck_assert_int_eq(store_notify(s, "{}", &e), OTD_OK);
	struct store_listen_hooks hooks = {.payload = never};
	struct store_listener *l = (struct store_listener *)&hooks;
	ck_assert_int_eq(store_listen_start(s, &hooks, &l, &e), OTD_OK);
	ck_assert_ptr_null(l);
	store_listen_stop(l);
	store_close(s);
	free(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("publish");
	TCase *tc = tcase_create("publish");
	tcase_add_test(tc, round_trip_keeps_every_field);
	tcase_add_test(tc, too_long_goes_as_reload_and_comes_back_as_reset);
	tcase_add_test(tc, decode_refuses_what_is_not_ours);
	tcase_add_test(tc, sqlite_is_not_shared);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
