/* The live-change bus (src/app/bus.c): ids, the ring, the three filters,
 * replay from Last-Event-ID and the reset when that is too old (or from
 * before a restart), parking and wake-ups (by a matching publish, by the
 * heartbeat deadline, by close), the caps, and a threaded smoke test. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/bus.h"
#include "testutil.h"

/* A fake connection: counts park and wake calls. */
struct fake {
	int parks, wakes;
	bool suspended;
};

static void fake_park(void *arg)
{
	struct fake *f = arg;
	ck_assert(!f->suspended); /* never parked twice without a wake */
	f->suspended = true;
	f->parks++;
}

static void fake_wake(void *arg)
{
	struct fake *f = arg;
	ck_assert(f->suspended); /* MHD: resuming what is not suspended is undefined */
	f->suspended = false;
	f->wakes++;
}

static struct otd_bus_sub *sub(struct otd_bus *b, enum otd_bus_scope scope, int64_t id,
                               struct fake *f, const uint64_t *last_id, uint64_t *start)
{
	struct otd_bus_sub_options o = {.scope = scope,
	                                .id = id,
	                                .owner = "user:1",
	                                .park = fake_park,
	                                .wake = fake_wake,
	                                .arg = f};
	if(last_id) {
		o.has_last_id = true;
		o.last_id = *last_id;
	}
	struct otd_bus_sub *s = NULL;
	uint64_t st = 0;
	ck_assert_int_eq(bus_subscribe(b, &o, &s, &st), OTD_OK);
	if(start)
		*start = st;
	return s;
}

static uint64_t pub(struct otd_bus *b, int64_t appointment, int64_t visitor, const char *staff,
                    const char *customer)
{
	struct otd_bus_event ev = {.type = "appointment",
	                           .appointment_id = appointment,
	                           .visitor_id = visitor,
	                           .staff_json = staff,
	                           .customer_json = customer};
	return bus_publish(b, &ev);
}

/* The next message's data (NULL when not an event); frees it. */
static enum otd_bus_next next(struct otd_bus_sub *s, int64_t park_until, uint64_t *id, char *data,
                              size_t size)
{
	struct otd_bus_message m;
	enum otd_bus_next r = bus_next(s, park_until, &m);
	if(id)
		*id = m.id;
	if(data)
		snprintf(data, size, "%s", m.data ? m.data : "");
	free(m.data);
	return r;
}

START_TEST(ids_count_from_one_and_null_bus_is_a_no_op)
{
	ck_assert_uint_eq(pub(NULL, 1, 1, "{}", "{}"), 0);
	struct otd_bus *b = bus_new(4); /* raised to 16 */
	ck_assert_uint_eq(bus_latest_id(b), 0);
	for(uint64_t i = 1; i <= 40; i++)
		ck_assert_uint_eq(pub(b, 1, 1, "{}", NULL), i);
	ck_assert_uint_eq(bus_latest_id(b), 40);
	bus_free(b);
	bus_free(NULL);
}
END_TEST

START_TEST(filters_staff_visitor_customer)
{
	struct otd_bus *b = bus_new(64);
	struct fake fs = {0}, fv = {0}, fc = {0};
	struct otd_bus_sub *staff = sub(b, OTD_BUS_STAFF, 0, &fs, NULL, NULL);
	struct otd_bus_sub *vis = sub(b, OTD_BUS_VISITOR, 7, &fv, NULL, NULL);
	struct otd_bus_sub *cust = sub(b, OTD_BUS_CUSTOMER, 100, &fc, NULL, NULL);
	pub(b, 100, 7, "{\"s\":1}", "{\"c\":1}"); /* 1: everyone */
	pub(b, 101, 8, "{\"s\":2}", "{\"c\":2}"); /* 2: staff only */
	pub(b, 100, 8, "{\"s\":3}", "{\"c\":3}"); /* 3: staff, customer 100 */
	pub(b, 102, 7, "{\"s\":4}", NULL);        /* 4: staff, visitor 7 */
	pub(b, 100, 7, NULL, "{\"c\":5}");        /* 5: customer only */
	char d[64];
	uint64_t id;
	const char *want_staff[] = {"{\"s\":1}", "{\"s\":2}", "{\"s\":3}", "{\"s\":4}"};
	for(int i = 0; i < 4; i++) {
		ck_assert_int_eq(next(staff, 0, &id, d, sizeof(d)), OTD_BUS_EVENT);
		ck_assert_str_eq(d, want_staff[i]);
	}
	ck_assert_int_eq(next(staff, 0, NULL, NULL, 0), OTD_BUS_NONE);
	ck_assert_int_eq(next(vis, 0, &id, d, sizeof(d)), OTD_BUS_EVENT);
	ck_assert_uint_eq(id, 1);
	ck_assert_str_eq(d, "{\"s\":1}");
	ck_assert_int_eq(next(vis, 0, &id, d, sizeof(d)), OTD_BUS_EVENT);
	ck_assert_uint_eq(id, 4);
	ck_assert_int_eq(next(vis, 0, NULL, NULL, 0), OTD_BUS_NONE);
	uint64_t want_ids[] = {1, 3, 5};
	const char *want_c[] = {"{\"c\":1}", "{\"c\":3}", "{\"c\":5}"};
	for(int i = 0; i < 3; i++) {
		ck_assert_int_eq(next(cust, 0, &id, d, sizeof(d)), OTD_BUS_EVENT);
		ck_assert_uint_eq(id, want_ids[i]);
		ck_assert_str_eq(d, want_c[i]); /* never the staff data */
	}
	ck_assert_int_eq(next(cust, 0, NULL, NULL, 0), OTD_BUS_NONE);
	ck_assert_int_eq(fs.parks + fv.parks + fc.parks, 0); /* park_until 0: no parking */
	bus_unsubscribe(staff);
	bus_unsubscribe(vis);
	bus_unsubscribe(cust);
	bus_free(b);
}
END_TEST

START_TEST(replay_from_last_event_id_and_reset_when_too_old)
{
	struct otd_bus *b = bus_new(16);
	for(int i = 0; i < 10; i++)
		pub(b, 1, 1, "{}", NULL);
	struct fake f = {0};
	uint64_t last = 7, start, id;
	struct otd_bus_sub *s = sub(b, OTD_BUS_STAFF, 0, &f, &last, &start);
	ck_assert_uint_eq(start, 7);
	for(uint64_t want = 8; want <= 10; want++) {
		ck_assert_int_eq(next(s, 0, &id, NULL, 0), OTD_BUS_EVENT);
		ck_assert_uint_eq(id, want);
	}
	ck_assert_int_eq(next(s, 0, NULL, NULL, 0), OTD_BUS_NONE);
	bus_unsubscribe(s);
	/* Without Last-Event-ID: from now on. */
	s = sub(b, OTD_BUS_STAFF, 0, &f, NULL, &start);
	ck_assert_uint_eq(start, 10);
	ck_assert_int_eq(next(s, 0, NULL, NULL, 0), OTD_BUS_NONE);
	bus_unsubscribe(s);
	/* 30 events: the ring holds 15..30; last_id 14 still replays all. */
	for(int i = 0; i < 20; i++)
		pub(b, 1, 1, "{}", NULL);
	last = 14;
	s = sub(b, OTD_BUS_STAFF, 0, &f, &last, NULL);
	ck_assert_int_eq(next(s, 0, &id, NULL, 0), OTD_BUS_EVENT);
	ck_assert_uint_eq(id, 15);
	bus_unsubscribe(s);
	/* last_id 13: event 14 is gone, so reset, then carry on from 30. */
	last = 13;
	s = sub(b, OTD_BUS_STAFF, 0, &f, &last, &start);
	ck_assert_uint_eq(start, 30);
	ck_assert_int_eq(next(s, 0, &id, NULL, 0), OTD_BUS_RESET);
	ck_assert_uint_eq(id, 30);
	ck_assert_int_eq(next(s, 0, NULL, NULL, 0), OTD_BUS_NONE);
	pub(b, 1, 1, "{}", NULL);
	ck_assert_int_eq(next(s, 0, &id, NULL, 0), OTD_BUS_EVENT);
	ck_assert_uint_eq(id, 31);
	bus_unsubscribe(s);
	/* An id from before a restart (beyond the latest): reset. */
	last = 1000;
	s = sub(b, OTD_BUS_STAFF, 0, &f, &last, NULL);
	ck_assert_int_eq(next(s, 0, NULL, NULL, 0), OTD_BUS_RESET);
	bus_unsubscribe(s);
	/* last_id == latest: nothing missed. */
	last = 31;
	s = sub(b, OTD_BUS_STAFF, 0, &f, &last, NULL);
	ck_assert_int_eq(next(s, 0, NULL, NULL, 0), OTD_BUS_NONE);
	bus_unsubscribe(s);
	bus_free(b);
}
END_TEST

START_TEST(a_slow_reader_that_falls_off_the_ring_gets_reset)
{
	struct otd_bus *b = bus_new(16);
	struct fake f = {0};
	struct otd_bus_sub *s = sub(b, OTD_BUS_STAFF, 0, &f, NULL, NULL);
	pub(b, 1, 1, "{}", NULL);
	uint64_t id;
	ck_assert_int_eq(next(s, 0, &id, NULL, 0), OTD_BUS_EVENT);
	for(int i = 0; i < 40; i++) /* not parked: its cursor stays at 1 */
		pub(b, 1, 1, "{}", NULL);
	ck_assert_int_eq(next(s, 0, &id, NULL, 0), OTD_BUS_RESET);
	ck_assert_uint_eq(id, 41);
	ck_assert_int_eq(next(s, 0, NULL, NULL, 0), OTD_BUS_NONE);
	bus_unsubscribe(s);
	bus_free(b);
}
END_TEST

START_TEST(park_and_wake)
{
	struct otd_bus *b = bus_new(16);
	struct fake fc = {0}, fs = {0};
	struct otd_bus_sub *cust = sub(b, OTD_BUS_CUSTOMER, 5, &fc, NULL, NULL);
	struct otd_bus_sub *staff = sub(b, OTD_BUS_STAFF, 0, &fs, NULL, NULL);
	ck_assert_int_eq(next(cust, 1000, NULL, NULL, 0), OTD_BUS_NONE);
	ck_assert_int_eq(next(staff, 2000, NULL, NULL, 0), OTD_BUS_NONE);
	ck_assert(fc.suspended && fs.suspended);
	size_t parked;
	ck_assert_uint_eq(bus_open_count(b, &parked), 2);
	ck_assert_uint_eq(parked, 2);
	/* 40 events of other appointments: the customer stays parked and is not
	 * reset later (a parked cursor follows what does not concern it). */
	for(int i = 0; i < 40; i++)
		pub(b, 6, 1, "{}", "{}");
	ck_assert(fc.suspended);
	ck_assert_int_eq(fc.wakes, 0);
	ck_assert_int_eq(fs.wakes, 1); /* the first publish woke staff, once */
	ck_assert(!fs.suspended);
	uint64_t id;
	ck_assert_int_eq(next(staff, 0, NULL, NULL, 0), OTD_BUS_RESET); /* it fell 40 behind */
	/* A matching one wakes the customer; it gets it, and no reset. */
	uint64_t mine = pub(b, 5, 1, "{}", "{\"status\":\"booked\"}");
	ck_assert_int_eq(fc.wakes, 1);
	char d[64];
	ck_assert_int_eq(next(cust, 1000, &id, d, sizeof(d)), OTD_BUS_EVENT);
	ck_assert_uint_eq(id, mine);
	ck_assert_str_eq(d, "{\"status\":\"booked\"}");
	ck_assert_int_eq(next(staff, 0, &id, NULL, 0), OTD_BUS_EVENT);
	ck_assert_uint_eq(id, mine);
	/* Heartbeats: due ones only. */
	ck_assert_int_eq(next(cust, 1000, NULL, NULL, 0), OTD_BUS_NONE);
	ck_assert_int_eq(next(staff, 2000, NULL, NULL, 0), OTD_BUS_NONE);
	ck_assert_uint_eq(bus_wake_due(b, 999), 0);
	ck_assert_uint_eq(bus_wake_due(b, 1000), 1);
	ck_assert(!fc.suspended && fs.suspended);
	ck_assert_uint_eq(bus_wake_due(b, 5000), 1);
	ck_assert(!fs.suspended);
	ck_assert_uint_eq(bus_wake_due(b, 5000), 0); /* nobody parked: no double resume */
	/* Close: parked ones are woken, everyone is told, nobody parks again,
	 * nobody new gets in. */
	ck_assert_int_eq(next(cust, 1000, NULL, NULL, 0), OTD_BUS_NONE);
	bus_close(b);
	ck_assert(!fc.suspended);
	ck_assert_int_eq(next(cust, 1000, NULL, NULL, 0), OTD_BUS_CLOSED);
	ck_assert_int_eq(next(staff, 1000, NULL, NULL, 0), OTD_BUS_CLOSED);
	ck_assert(!fc.suspended && !fs.suspended);
	struct otd_bus_sub_options o = {
	    .scope = OTD_BUS_STAFF, .park = fake_park, .wake = fake_wake, .arg = &fs};
	struct otd_bus_sub *late;
	uint64_t start;
	ck_assert_int_eq(bus_subscribe(b, &o, &late, &start), OTD_EBUSY);
	ck_assert_ptr_null(late);
	bus_unsubscribe(cust);
	bus_unsubscribe(staff);
	ck_assert_uint_eq(bus_open_count(b, NULL), 0);
	bus_free(b);
}
END_TEST

START_TEST(caps_per_owner_and_in_total)
{
	struct otd_bus *b = bus_new(16);
	struct fake f = {0};
	struct otd_bus_sub *s[6];
	struct otd_bus_sub_options o = {.scope = OTD_BUS_STAFF,
	                                .owner = "user:1",
	                                .max_per_owner = 4,
	                                .max_total = 5,
	                                .park = fake_park,
	                                .wake = fake_wake,
	                                .arg = &f};
	uint64_t start;
	for(int i = 0; i < 4; i++)
		ck_assert_int_eq(bus_subscribe(b, &o, &s[i], &start), OTD_OK);
	ck_assert_int_eq(bus_subscribe(b, &o, &s[4], &start), OTD_ERATE);
	o.owner = "link:9";
	ck_assert_int_eq(bus_subscribe(b, &o, &s[4], &start), OTD_OK);
	o.owner = "user:2";
	ck_assert_int_eq(bus_subscribe(b, &o, &s[5], &start), OTD_EBUSY);
	bus_unsubscribe(s[0]);
	o.owner = "user:1";
	ck_assert_int_eq(bus_subscribe(b, &o, &s[0], &start), OTD_OK);
	for(int i = 0; i < 5; i++)
		bus_unsubscribe(s[i]);
	bus_free(b);
}
END_TEST

/* Threads: publishers race readers that park and are woken; every reader
 * must get every event exactly once, in order, and never be left parked
 * with news waiting (a lost wake-up). */
struct reader {
	struct otd_bus *b;
	struct otd_bus_sub *s;
	pthread_mutex_t m;
	pthread_cond_t c;
	bool suspended;
	uint64_t got, last;
	uint64_t want;
	bool ordered;
};

static void rd_park(void *arg)
{
	struct reader *r = arg;
	pthread_mutex_lock(&r->m);
	r->suspended = true;
	pthread_mutex_unlock(&r->m);
}

static void rd_wake(void *arg)
{
	struct reader *r = arg;
	pthread_mutex_lock(&r->m);
	r->suspended = false;
	pthread_cond_signal(&r->c);
	pthread_mutex_unlock(&r->m);
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	while(r->got < r->want) {
		struct otd_bus_message m;
		enum otd_bus_next n = bus_next(r->s, 1, &m);
		if(n == OTD_BUS_EVENT) {
			if(m.id <= r->last)
				r->ordered = false;
			r->last = m.id;
			r->got++;
			free(m.data);
			continue;
		}
		ck_assert_int_eq(n, OTD_BUS_NONE);
		pthread_mutex_lock(&r->m);
		while(r->suspended)
			pthread_cond_wait(&r->c, &r->m);
		pthread_mutex_unlock(&r->m);
	}
	return NULL;
}

struct publisher {
	struct otd_bus *b;
	int n;
};

static void *publisher_main(void *arg)
{
	struct publisher *p = arg;
	for(int i = 0; i < p->n; i++)
		pub(p->b, 1, 1, "{\"x\":1}", NULL);
	return NULL;
}

START_TEST(threads_smoke)
{
	enum { READERS = 4, PUBLISHERS = 4, EACH = 2000 };
	struct otd_bus *b = bus_new(1u << 16); /* large enough that nobody is reset */
	struct reader r[READERS];
	pthread_t rt[READERS], pt[PUBLISHERS];
	for(int i = 0; i < READERS; i++) {
		r[i] = (struct reader){.b = b, .want = PUBLISHERS * EACH, .ordered = true};
		pthread_mutex_init(&r[i].m, NULL);
		pthread_cond_init(&r[i].c, NULL);
		struct otd_bus_sub_options o = {
		    .scope = OTD_BUS_STAFF, .park = rd_park, .wake = rd_wake, .arg = &r[i]};
		uint64_t start;
		ck_assert_int_eq(bus_subscribe(b, &o, &r[i].s, &start), OTD_OK);
		ck_assert_int_eq(pthread_create(&rt[i], NULL, reader_main, &r[i]), 0);
	}
	struct publisher p = {b, EACH};
	for(int i = 0; i < PUBLISHERS; i++)
		ck_assert_int_eq(pthread_create(&pt[i], NULL, publisher_main, &p), 0);
	for(int i = 0; i < PUBLISHERS; i++)
		pthread_join(pt[i], NULL);
	for(int i = 0; i < READERS; i++) {
		pthread_join(rt[i], NULL);
		ck_assert_uint_eq(r[i].got, PUBLISHERS * EACH);
		ck_assert(r[i].ordered);
		ck_assert_uint_eq(r[i].last, PUBLISHERS * EACH);
		bus_unsubscribe(r[i].s);
		pthread_mutex_destroy(&r[i].m);
		pthread_cond_destroy(&r[i].c);
	}
	ck_assert_uint_eq(bus_latest_id(b), PUBLISHERS * EACH);
	bus_free(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bus");
	TCase *tc = tcase_create("bus");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, ids_count_from_one_and_null_bus_is_a_no_op);
	tcase_add_test(tc, filters_staff_visitor_customer);
	tcase_add_test(tc, replay_from_last_event_id_and_reset_when_too_old);
	tcase_add_test(tc, a_slow_reader_that_falls_off_the_ring_gets_reset);
	tcase_add_test(tc, park_and_wake);
	tcase_add_test(tc, caps_per_owner_and_in_total);
	tcase_add_test(tc, threads_smoke);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
