/* Unit tests: guarantee rule sets (core/guarantee.c). Every embedded
 * preset parses; a table of cases per preset (kept, broken, short notice
 * with and without consent, paid in time and late) is worked through the
 * way the ledger will: the version in force at the breach, its amount,
 * notice, deadline and what is owed, with exact amounts and local
 * deadlines in Europe/London with England and Wales bank holidays. Then
 * working days around Easter 2026, notice on both sides of each threshold,
 * the England water change of 1 July 2025 at local midnight, every parse
 * error naming file and field, and money as text. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/civil.h"
#include "onthedot/guarantee.h"
#include "onthedot/mem.h"
#include "onthedot/tz.h"
#include "testutil.h"

static struct otd_tz *london;

/* England and Wales bank holidays 2025 and 2026 (GOV.UK), sorted. */
static const char holidays[][11] = {
    "2025-01-01", "2025-04-18", "2025-04-21", "2025-05-05", "2025-05-26", "2025-08-25",
    "2025-12-25", "2025-12-26", "2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04",
    "2026-05-25", "2026-08-31", "2026-12-25", "2026-12-28",
};
#define N_HOLIDAYS (sizeof(holidays) / sizeof(holidays[0]))

static void setup(void)
{
	/* Europe/London 2024-2027: the last Sundays of March and October at
	 * 01:00 UTC (zdump(8)), as in test_delivery.c with 2024 added. */
	static const int64_t at[] = {1711846800, 1729990800, 1743296400, 1761440400,
	                             1774746000, 1792890000, 1806195600, 1824944400};
	static const int32_t off[] = {3600, 0, 3600, 0, 3600, 0, 3600, 0};
	london = otd_tz_new("Europe/London", 0, at, off, 8);
	ck_assert_ptr_nonnull(london);
}

static void teardown(void)
{
	otd_tz_free(london);
	london = NULL;
}

static int64_t at(const char *s)
{
	int64_t t = 0;
	struct otd_error e;
	ck_assert_msg(otd_rfc3339_parse(s, &t, &e) == OTD_OK, "%s: %s", s, e.message);
	return t;
}

/* t as London local RFC 3339, in a static buffer (one use per statement). */
static const char *local(int64_t t)
{
	static char buf[OTD_TZ_LOCAL_SIZE];
	otd_tz_format_local(london, t, buf, sizeof(buf));
	return buf;
}

static void builtin(const char *name, struct otd_rule_set *s)
{
	struct otd_error e;
	otd_error_clear(&e);
	ck_assert_msg(otd_rule_set_builtin(name, s, &e) == OTD_OK, "%s: %s", name, e.message);
}

/* ---- presets ------------------------------------------------------------ */

START_TEST(every_preset_parses)
{
	static const char *const names[] = {"custom", "england-water", "gb-energy", "uk-telecoms"};
	ck_assert_uint_eq(otd_guarantees_count, 4);
	for(size_t i = 0; i < otd_guarantees_count; i++) {
		char want[40];
		snprintf(want, sizeof(want), "%s.json", names[i]);
		ck_assert_str_eq(otd_guarantees[i].name, want);
		struct otd_rule_set s;
		builtin(names[i], &s);
		ck_assert_str_eq(s.name, names[i]);
		ck_assert(strlen(s.title) > 0);
		ck_assert_ptr_nonnull(s.notes);
		ck_assert(strlen(s.notes) > 0);
		ck_assert_uint_ge(s.n_versions, 1);
		for(size_t j = 0; j < s.n_versions; j++) {
			const struct otd_rule_version *v = &s.versions[j];
			ck_assert_str_eq(v->currency, "GBP");
			ck_assert(strlen(v->regulation) > 0);
			if(j)
				ck_assert(strcmp(v[-1].effective_from, v->effective_from) < 0);
		}
		otd_rule_set_cleanup(&s);
		ck_assert_ptr_null(s.versions);
		ck_assert_ptr_null(s.notes);
		otd_rule_set_cleanup(&s); /* twice is harmless */
	}
}
END_TEST

START_TEST(presets_hold_the_published_numbers)
{
	struct otd_rule_set s;
	builtin("gb-energy", &s);
	ck_assert_uint_eq(s.n_versions, 1);
	const struct otd_rule_version *v = &s.versions[0];
	ck_assert_int_eq(v->missed_minor, 4000);
	ck_assert_int_eq(v->short_notice_minor, 4000);
	ck_assert_int_eq(v->notice.kind, OTD_NOTICE_WORKING_DAYS);
	ck_assert_int_eq(v->notice.amount, 1);
	ck_assert(v->notice.more_than);
	ck_assert_int_eq(v->pay_within.kind, OTD_PAY_WORKING_DAYS);
	ck_assert_int_eq(v->pay_within.amount, 10);
	ck_assert_int_eq(v->late_penalty.kind, OTD_LATE_SAME_AGAIN);
	ck_assert(strstr(v->regulation, "Electricity (Standards of Performance) Regulations 2015"));
	ck_assert(strstr(v->regulation, "Gas (Standards of Performance) Regulations 2005"));
	otd_rule_set_cleanup(&s);

	builtin("england-water", &s);
	ck_assert_uint_eq(s.n_versions, 2);
	v = &s.versions[0];
	ck_assert_int_eq(v->missed_minor, 2000);
	ck_assert_int_eq(v->short_notice_minor, 2000);
	v = &s.versions[1];
	ck_assert_str_eq(v->effective_from, "2025-07-01");
	ck_assert_int_eq(v->missed_minor, 5000);
	ck_assert_int_eq(v->short_notice_minor, 4000);
	ck_assert_int_eq(v->notice.kind, OTD_NOTICE_HOURS);
	ck_assert_int_eq(v->notice.amount, 24);
	ck_assert(!v->notice.more_than);
	ck_assert_int_eq(v->pay_within.kind, OTD_PAY_WORKING_DAYS);
	ck_assert_int_eq(v->pay_within.amount, 10);
	ck_assert_int_eq(v->late_penalty.kind, OTD_LATE_FIXED);
	ck_assert_int_eq(v->late_penalty.amount_minor, 4000);
	ck_assert(strstr(v->regulation, "(Amendment) Regulations 2025"));
	otd_rule_set_cleanup(&s);

	builtin("uk-telecoms", &s);
	v = &s.versions[s.n_versions - 1];
	ck_assert_int_eq(v->missed_minor, 3231);
	ck_assert_int_eq(v->notice.kind, OTD_NOTICE_HOURS);
	ck_assert_int_eq(v->notice.amount, 24);
	ck_assert_int_eq(v->pay_within.kind, OTD_PAY_DAYS);
	ck_assert_int_eq(v->pay_within.amount, 30);
	ck_assert_int_eq(v->late_penalty.kind, OTD_LATE_NONE);
	otd_rule_set_cleanup(&s);

	builtin("custom", &s);
	ck_assert_uint_eq(s.n_versions, 1);
	v = &s.versions[0];
	ck_assert_int_eq(v->missed_minor, 0);
	ck_assert_int_eq(v->short_notice_minor, 0);
	ck_assert_int_eq(v->late_penalty.kind, OTD_LATE_FIXED);
	ck_assert_int_eq(v->late_penalty.amount_minor, 0);
	otd_rule_set_cleanup(&s);
}
END_TEST

START_TEST(an_unknown_preset_names_the_known_ones)
{
	struct otd_rule_set s;
	struct otd_error e;
	otd_error_clear(&e);
	ck_assert_int_eq(otd_rule_set_builtin("scottish-water", &s, &e), OTD_ENOTFOUND);
	ck_assert_str_eq(e.code, "unknown_rule_set");
	ck_assert_str_eq(e.field, "name");
	ck_assert_msg(strstr(e.message, "custom, england-water, gb-energy, uk-telecoms"), "%s",
	              e.message);
	ck_assert_ptr_null(s.versions);
	ck_assert_int_eq(otd_rule_set_builtin("gb-energy.json", &s, &e), OTD_ENOTFOUND);
	ck_assert_int_eq(otd_rule_set_builtin("", &s, &e), OTD_ENOTFOUND);
	ck_assert_int_eq(otd_rule_set_builtin(NULL, &s, &e), OTD_ENOTFOUND);
}
END_TEST

/* ---- the case table ----------------------------------------------------- */

enum event {
	KEPT,    /* the visitor arrived by the window's end */
	MISSED,  /* not: the breach is at the window's end */
	CHANGED, /* we moved or cancelled it, telling the customer at `at` */
};

struct gcase {
	const char *preset;
	const char *what;
	enum event event;
	const char *window_start; /* CHANGED only */
	const char *at;           /* MISSED: the window's end; CHANGED: when told */
	bool consent;             /* CHANGED: the customer agreed */
	const char *paid_at;      /* NULL: not paid yet */
	/* expected */
	const char *version;  /* in force at the breach; NULL: no case */
	int64_t owed;         /* minor units */
	const char *deadline; /* London local */
};

/* What the ledger will do with one event (the app decides consent and
 * exemptions; here consent is given in the row). */
static void run_case(const struct gcase *c)
{
	struct otd_rule_set s;
	builtin(c->preset, &s);
	int64_t t = at(c->at);
	const struct otd_rule_version *v = otd_rule_in_force(&s, london, t);
	ck_assert_msg(v, "%s: no version in force", c->what);
	int64_t amount = 0;
	switch(c->event) {
	case KEPT: break;
	case MISSED: amount = v->missed_minor; break;
	case CHANGED:
		if(!c->consent &&
		   !otd_notice_enough(v, london, holidays, N_HOLIDAYS, t, at(c->window_start)))
			amount = v->short_notice_minor;
		break;
	}
	if(!c->version) {
		ck_assert_msg(amount == 0, "%s: want no case, got %lld", c->what,
		              (long long)amount);
		otd_rule_set_cleanup(&s);
		return;
	}
	ck_assert_msg(amount > 0, "%s: want a case, got none", c->what);
	ck_assert_str_eq(v->version, c->version);
	int64_t deadline = otd_payment_deadline(v, london, holidays, N_HOLIDAYS, t);
	ck_assert_msg(strcmp(local(deadline), c->deadline) == 0, "%s: deadline %s, want %s",
	              c->what, local(deadline), c->deadline);
	int64_t paid = c->paid_at ? at(c->paid_at) : 0;
	int64_t owed = otd_amount_owed(v, amount, deadline, paid);
	ck_assert_msg(owed == c->owed, "%s: owed %lld, want %lld", c->what, (long long)owed,
	              (long long)c->owed);
	otd_rule_set_cleanup(&s);
}

static const struct gcase cases[] = {
    /* GB energy: GBP 40; more than one working day's notice; 10 working
     * days to pay; the same again when late. */
    {"gb-energy", "energy kept", KEPT, NULL, "2026-03-10T12:00:00Z", false, NULL, NULL, 0, NULL},
    {"gb-energy", "energy broken, paid in time", MISSED, NULL, "2026-03-10T12:00:00Z", false,
     "2026-03-20T10:00:00Z", "2015-04", 4000, "2026-03-25T00:00:00+00:00"},
    {"gb-energy", "energy broken, not paid yet", MISSED, NULL, "2026-03-10T12:00:00Z", false, NULL,
     "2015-04", 4000, "2026-03-25T00:00:00+00:00"},
    {"gb-energy", "energy broken Friday before Easter, paid on the last day", MISSED, NULL,
     "2026-03-27T12:00:00Z", false, "2026-04-14T22:59:59Z", "2015-04", 4000,
     "2026-04-15T00:00:00+01:00"},
    {"gb-energy", "energy paid at the deadline instant", MISSED, NULL, "2026-03-27T12:00:00Z",
     false, "2026-04-14T23:00:00Z", "2015-04", 4000, "2026-04-15T00:00:00+01:00"},
    {"gb-energy", "energy paid late: the same again", MISSED, NULL, "2026-03-27T12:00:00Z", false,
     "2026-04-14T23:00:01Z", "2015-04", 8000, "2026-04-15T00:00:00+01:00"},
    {"gb-energy", "energy Thursday for Monday, no consent", CHANGED, "2026-03-09T09:00:00Z",
     "2026-03-05T10:00:00Z", false, NULL, "2015-04", 4000, "2026-03-20T00:00:00+00:00"},
    {"gb-energy", "energy Thursday for Monday, consent", CHANGED, "2026-03-09T09:00:00Z",
     "2026-03-05T10:00:00Z", true, NULL, NULL, 0, NULL},
    {"gb-energy", "energy Wednesday for Monday: enough", CHANGED, "2026-03-09T09:00:00Z",
     "2026-03-04T16:59:00Z", false, NULL, NULL, 0, NULL},
    {"gb-energy", "energy Friday for Monday", CHANGED, "2026-03-09T09:00:00Z",
     "2026-03-06T08:00:00Z", false, "2026-03-30T09:00:00Z", "2015-04", 8000,
     "2026-03-21T00:00:00+00:00"},
    {"gb-energy", "energy same day", CHANGED, "2026-03-09T15:00:00Z", "2026-03-09T07:00:00Z", false,
     NULL, "2015-04", 4000, "2026-03-24T00:00:00+00:00"},
    {"gb-energy", "energy over Easter: Good Friday and Easter Monday do not count", CHANGED,
     "2026-04-07T09:00:00Z", "2026-04-01T09:00:00Z", false, NULL, "2015-04", 4000,
     "2026-04-18T00:00:00+01:00"},

    /* England water: GBP 20 / 20 before 1 July 2025; GBP 50 not kept, GBP
     * 40 not made properly, 24 hours, GBP 40 late penalty from then. */
    {"england-water", "water kept", KEPT, NULL, "2025-09-02T11:00:00Z", false, NULL, NULL, 0, NULL},
    {"england-water", "water broken 30 June 2025 (23:59 BST)", MISSED, NULL, "2025-06-30T22:59:59Z",
     false, NULL, "2008", 2000, "2025-07-15T00:00:00+01:00"},
    {"england-water", "water broken 1 July 2025 (00:30 BST)", MISSED, NULL, "2025-06-30T23:30:00Z",
     false, NULL, "2025-07", 5000, "2025-07-16T00:00:00+01:00"},
    {"england-water", "water broken June, paid late: GBP 10 then", MISSED, NULL,
     "2025-06-30T10:00:00Z", false, "2025-07-15T09:00:00Z", "2008", 3000,
     "2025-07-15T00:00:00+01:00"},
    {"england-water", "water broken, paid in time", MISSED, NULL, "2025-09-02T11:00:00Z", false,
     "2025-09-16T12:00:00Z", "2025-07", 5000, "2025-09-17T00:00:00+01:00"},
    {"england-water", "water broken, paid late: GBP 40 more", MISSED, NULL, "2025-09-02T11:00:00Z",
     false, "2025-09-17T09:00:00Z", "2025-07", 9000, "2025-09-17T00:00:00+01:00"},
    {"england-water", "water 23:59:59 notice, no consent", CHANGED, "2025-09-02T09:00:00Z",
     "2025-09-01T09:00:01Z", false, NULL, "2025-07", 4000, "2025-09-16T00:00:00+01:00"},
    {"england-water", "water 23:59:59 notice, consent", CHANGED, "2025-09-02T09:00:00Z",
     "2025-09-01T09:00:01Z", true, NULL, NULL, 0, NULL},
    {"england-water", "water exactly 24 hours", CHANGED, "2025-09-02T09:00:00Z",
     "2025-09-01T09:00:00Z", false, NULL, NULL, 0, NULL},
    {"england-water", "water short notice paid late", CHANGED, "2025-09-02T09:00:00Z",
     "2025-09-01T15:00:00Z", false, "2025-09-20T09:00:00Z", "2025-07", 8000,
     "2025-09-16T00:00:00+01:00"},
    {"england-water", "water short notice before July 2025", CHANGED, "2025-06-10T09:00:00Z",
     "2025-06-09T15:00:00Z", false, NULL, "2008", 2000, "2025-06-24T00:00:00+01:00"},

    /* UK telecoms: indexed each April; 24 hours; 30 days; no penalty. */
    {"uk-telecoms", "telecoms kept", KEPT, NULL, "2026-04-10T12:00:00Z", false, NULL, NULL, 0,
     NULL},
    {"uk-telecoms", "telecoms broken April 2026", MISSED, NULL, "2026-04-10T12:00:00Z", false,
     "2026-05-01T12:00:00Z", "2026-04", 3231, "2026-05-11T00:00:00+01:00"},
    {"uk-telecoms", "telecoms paid late: nothing more", MISSED, NULL, "2026-04-10T12:00:00Z", false,
     "2026-06-01T12:00:00Z", "2026-04", 3231, "2026-05-11T00:00:00+01:00"},
    {"uk-telecoms", "telecoms broken 31 March 2026", MISSED, NULL, "2026-03-31T12:00:00Z", false,
     NULL, "2025-04", 3119, "2026-05-01T00:00:00+01:00"},
    {"uk-telecoms", "telecoms broken 1 April 2026 00:30 BST", MISSED, NULL, "2026-03-31T23:30:00Z",
     false, NULL, "2026-04", 3231, "2026-05-02T00:00:00+01:00"},
    {"uk-telecoms", "telecoms broken May 2024", MISSED, NULL, "2024-05-01T12:00:00Z", false, NULL,
     "2024-04", 3049, "2024-06-01T00:00:00+01:00"},
    {"uk-telecoms", "telecoms 23 hours, no consent", CHANGED, "2026-06-02T09:00:00Z",
     "2026-06-01T10:00:00Z", false, NULL, "2026-04", 3231, "2026-07-02T00:00:00+01:00"},
    {"uk-telecoms", "telecoms 23 hours, consent", CHANGED, "2026-06-02T09:00:00Z",
     "2026-06-01T10:00:00Z", true, NULL, NULL, 0, NULL},
    {"uk-telecoms", "telecoms 25 hours", CHANGED, "2026-06-02T09:00:00Z", "2026-06-01T08:00:00Z",
     false, NULL, NULL, 0, NULL},

    /* custom: every amount 0, so nothing is ever owed until filled in. */
    {"custom", "custom broken", MISSED, NULL, "2026-03-10T12:00:00Z", false, NULL, NULL, 0, NULL},
    {"custom", "custom short notice", CHANGED, "2026-03-10T12:00:00Z", "2026-03-10T08:00:00Z",
     false, NULL, NULL, 0, NULL},
};

START_TEST(each_preset_on_the_case_table)
{
	run_case(&cases[_i]);
}
END_TEST

START_TEST(no_version_before_the_first)
{
	struct otd_rule_set s;
	builtin("uk-telecoms", &s);
	ck_assert_ptr_null(otd_rule_in_force(&s, london, at("2024-03-31T22:59:59Z")));
	/* 2024-04-01 00:00 BST is 2024-03-31T23:00Z. */
	const struct otd_rule_version *v =
	    otd_rule_in_force(&s, london, at("2024-03-31T23:00:00Z"));
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v->version, "2024-04");
	ck_assert_ptr_eq(otd_rule_in_force(&s, london, at("2030-01-01T00:00:00Z")),
	                 &s.versions[s.n_versions - 1]);
	otd_rule_set_cleanup(&s);
}
END_TEST

START_TEST(water_amount_changes_mid_quarter_at_local_midnight)
{
	/* One quarter (April to June 2025 and July): the amount a case keeps
	 * is the one in force on the London date of its breach. */
	struct otd_rule_set s;
	builtin("england-water", &s);
	static const struct {
		const char *t;
		int64_t missed, short_notice, late;
	} rows[] = {
	    {"2025-04-01T09:00:00Z", 2000, 2000, 1000}, {"2025-06-30T09:00:00Z", 2000, 2000, 1000},
	    {"2025-06-30T22:59:59Z", 2000, 2000, 1000}, /* 23:59:59 BST, 30 June */
	    {"2025-06-30T23:00:00Z", 5000, 4000, 4000}, /* 00:00 BST, 1 July */
	    {"2025-07-01T09:00:00Z", 5000, 4000, 4000},
	};
	for(size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct otd_rule_version *v = otd_rule_in_force(&s, london, at(rows[i].t));
		ck_assert_ptr_nonnull(v);
		ck_assert_int_eq(v->missed_minor, rows[i].missed);
		ck_assert_int_eq(v->short_notice_minor, rows[i].short_notice);
		ck_assert_int_eq(v->late_penalty.amount_minor, rows[i].late);
	}
	otd_rule_set_cleanup(&s);
}
END_TEST

/* ---- working days ------------------------------------------------------- */

START_TEST(working_days_skip_weekends_and_bank_holidays)
{
	ck_assert(otd_is_working_day("2026-04-02", holidays, N_HOLIDAYS));  /* Thursday */
	ck_assert(!otd_is_working_day("2026-04-03", holidays, N_HOLIDAYS)); /* Good Friday */
	ck_assert(!otd_is_working_day("2026-04-04", holidays, N_HOLIDAYS)); /* Saturday */
	ck_assert(!otd_is_working_day("2026-04-05", holidays, N_HOLIDAYS)); /* Sunday */
	ck_assert(!otd_is_working_day("2026-04-06", holidays, N_HOLIDAYS)); /* Easter Monday */
	ck_assert(otd_is_working_day("2026-04-07", holidays, N_HOLIDAYS));
	ck_assert(otd_is_working_day("2026-04-03", NULL, 0));
	ck_assert(!otd_is_working_day("2025-01-01", holidays, N_HOLIDAYS)); /* first */
	ck_assert(!otd_is_working_day("2026-12-28", holidays, N_HOLIDAYS)); /* last */
	ck_assert(!otd_is_working_day("2026-02-30", NULL, 0));
	ck_assert(!otd_is_working_day("not a date", NULL, 0));

	/* Breach on Friday 27 March 2026: Mon 30, Tue 31, Wed 1, Thu 2, then
	 * Good Friday, the weekend (the clocks changed on the 29th) and
	 * Easter Monday, then Tue 7 .. Tue 14: ten working days end with
	 * Tuesday 14 April. */
	int64_t fri = at("2026-03-27T16:00:00Z");
	ck_assert_str_eq(local(otd_working_days_after(london, holidays, N_HOLIDAYS, fri, 10)),
	                 "2026-04-15T00:00:00+01:00");
	ck_assert_str_eq(local(otd_working_days_after(london, NULL, 0, fri, 10)),
	                 "2026-04-11T00:00:00+01:00");
	ck_assert_str_eq(local(otd_working_days_after(london, holidays, N_HOLIDAYS, fri, 4)),
	                 "2026-04-03T00:00:00+01:00");
	ck_assert_str_eq(local(otd_working_days_after(london, holidays, N_HOLIDAYS, fri, 5)),
	                 "2026-04-08T00:00:00+01:00");
	ck_assert_str_eq(local(otd_working_days_after(london, holidays, N_HOLIDAYS, fri, 0)),
	                 "2026-03-28T00:00:00+00:00");
	/* The local day counts, not the UTC one: 00:30 BST on Friday 10 April
	 * is still Thursday in UTC. */
	int64_t late_night = at("2026-04-09T23:30:00Z");
	ck_assert_str_eq(local(otd_working_days_after(london, holidays, N_HOLIDAYS, late_night, 1)),
	                 "2026-04-14T00:00:00+01:00");
	/* A breach on a Saturday: Monday is the first working day after. */
	ck_assert_str_eq(local(otd_working_days_after(london, holidays, N_HOLIDAYS,
	                                              at("2026-03-07T10:00:00Z"), 1)),
	                 "2026-03-10T00:00:00+00:00");
}
END_TEST

static struct otd_rule_version notice_rule(enum otd_notice_kind kind, int amount, bool more_than)
{
	struct otd_rule_version v;
	memset(&v, 0, sizeof(v));
	v.notice.kind = kind;
	v.notice.amount = amount;
	v.notice.more_than = more_than;
	return v;
}

/* The notice clock is the last instant otd_notice_enough holds. */
START_TEST(notice_deadline_is_the_last_instant_with_notice)
{
	const struct {
		enum otd_notice_kind kind;
		int amount;
		bool more_than;
		const char *window, *deadline;
	} clocks[] = {
	    /* More than one working day before Monday 9 March: Wednesday. */
	    {OTD_NOTICE_WORKING_DAYS, 1, true, "2026-03-09T08:00:00Z", "2026-03-04T23:59:59Z"},
	    {OTD_NOTICE_WORKING_DAYS, 1, false, "2026-03-09T08:00:00Z", "2026-03-05T23:59:59Z"},
	    /* Across the bank holiday in the fixture's list, and summer time. */
	    {OTD_NOTICE_WORKING_DAYS, 2, false, "2026-04-07T09:00:00Z", "2026-03-31T22:59:59Z"},
	    {OTD_NOTICE_HOURS, 24, false, "2026-03-09T08:00:00Z", "2026-03-08T08:00:00Z"},
	    {OTD_NOTICE_HOURS, 24, true, "2026-03-09T08:00:00Z", "2026-03-08T07:59:59Z"},
	    /* No hours at all: any time before the window starts. */
	    {OTD_NOTICE_HOURS, 0, false, "2026-03-09T08:00:00Z", "2026-03-09T07:59:59Z"},
	};
	for(size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
		struct otd_rule_version v =
		    notice_rule(clocks[i].kind, clocks[i].amount, clocks[i].more_than);
		int64_t w = at(clocks[i].window);
		int64_t d = otd_notice_deadline(&v, london, holidays, N_HOLIDAYS, w);
		ck_assert_msg(d == at(clocks[i].deadline), "case %zu: %lld", i, (long long)d);
		ck_assert(otd_notice_enough(&v, london, holidays, N_HOLIDAYS, d, w));
		ck_assert(!otd_notice_enough(&v, london, holidays, N_HOLIDAYS, d + 1, w));
	}
	struct otd_rule_version none = notice_rule(OTD_NOTICE_NONE, 0, false);
	ck_assert_int_eq(
	    otd_notice_deadline(&none, london, holidays, N_HOLIDAYS, at(clocks[0].window)), 0);
}
END_TEST

START_TEST(notice_in_working_days_counts_whole_days_between)
{
	struct otd_rule_version more = notice_rule(OTD_NOTICE_WORKING_DAYS, 1, true);
	struct otd_rule_version least = notice_rule(OTD_NOTICE_WORKING_DAYS, 1, false);
	int64_t monday = at("2026-03-09T08:00:00Z");
	/* Friday to Monday: no working day between. */
	int64_t friday = at("2026-03-06T08:00:00Z");
	ck_assert(!otd_notice_enough(&more, london, holidays, N_HOLIDAYS, friday, monday));
	ck_assert(!otd_notice_enough(&least, london, holidays, N_HOLIDAYS, friday, monday));
	/* Thursday, even at 00:00: Friday between, one day. */
	int64_t thursday = at("2026-03-05T00:00:00Z");
	ck_assert(!otd_notice_enough(&more, london, holidays, N_HOLIDAYS, thursday, monday));
	ck_assert(otd_notice_enough(&least, london, holidays, N_HOLIDAYS, thursday, monday));
	/* Wednesday, even at 23:59: Thursday and Friday, two days. */
	int64_t wednesday = at("2026-03-04T23:59:00Z");
	ck_assert(otd_notice_enough(&more, london, holidays, N_HOLIDAYS, wednesday, monday));
	/* The same day, and after the window. */
	ck_assert(!otd_notice_enough(&least, london, holidays, N_HOLIDAYS,
	                             at("2026-03-09T06:00:00Z"), monday));
	ck_assert(!otd_notice_enough(&least, london, holidays, N_HOLIDAYS,
	                             at("2026-03-10T06:00:00Z"), monday));
	/* Over Easter 2026 for Tuesday 7 April: told Wednesday 1 April leaves
	 * Thursday 2 only (Good Friday, the weekend and Easter Monday do not
	 * count); without the holidays it would be three days. */
	int64_t tue = at("2026-04-07T08:00:00Z"), wed = at("2026-04-01T08:00:00Z");
	ck_assert(!otd_notice_enough(&more, london, holidays, N_HOLIDAYS, wed, tue));
	ck_assert(otd_notice_enough(&least, london, holidays, N_HOLIDAYS, wed, tue));
	ck_assert(otd_notice_enough(&more, london, NULL, 0, wed, tue));
	/* Told Tuesday 31 March: Wednesday and Thursday, enough. */
	ck_assert(otd_notice_enough(&more, london, holidays, N_HOLIDAYS, at("2026-03-31T16:00:00Z"),
	                            tue));
	/* Local days, not UTC ones: 23:30 UTC on Wednesday 1 April is 00:30
	 * BST on Thursday 2, which leaves nothing between. */
	ck_assert(!otd_notice_enough(&least, london, holidays, N_HOLIDAYS,
	                             at("2026-04-01T23:30:00Z"), tue));
	/* A window months away ends the count early and is enough. */
	ck_assert(otd_notice_enough(&more, london, holidays, N_HOLIDAYS, wed,
	                            at("2026-12-01T09:00:00Z")));
}
END_TEST

START_TEST(notice_in_hours_is_clock_time)
{
	struct otd_rule_version h24 = notice_rule(OTD_NOTICE_HOURS, 24, false);
	struct otd_rule_version h24x = notice_rule(OTD_NOTICE_HOURS, 24, true);
	int64_t w = at("2026-06-02T09:00:00Z");
	ck_assert(otd_notice_enough(&h24, london, NULL, 0, w - 86400, w));
	ck_assert(!otd_notice_enough(&h24x, london, NULL, 0, w - 86400, w));
	ck_assert(otd_notice_enough(&h24x, london, NULL, 0, w - 86401, w));
	ck_assert(!otd_notice_enough(&h24, london, NULL, 0, w - 86399, w));
	ck_assert(!otd_notice_enough(&h24, london, NULL, 0, w + 10, w));
	/* Over the October 2025 change: 09:30 BST Saturday to 09:00 GMT
	 * Sunday reads 23.5 hours on the wall clock but is 24.5 hours. */
	ck_assert(otd_notice_enough(&h24, london, NULL, 0, at("2025-10-25T08:30:00Z"),
	                            at("2025-10-26T09:00:00Z")));
	/* Far-apart instants do not overflow. */
	ck_assert(otd_notice_enough(&h24, london, NULL, 0, INT64_MIN / 2, INT64_MAX / 2));
	struct otd_rule_version none = notice_rule(OTD_NOTICE_NONE, 0, false);
	ck_assert(otd_notice_enough(&none, london, NULL, 0, w + 3600, w));
}
END_TEST

START_TEST(payment_deadline_in_calendar_days)
{
	struct otd_rule_version v;
	memset(&v, 0, sizeof(v));
	v.pay_within.kind = OTD_PAY_DAYS;
	v.pay_within.amount = 30;
	/* 30 days after Friday 27 March 2026 (any time that day) ends with
	 * Sunday 26 April; holidays do not matter. */
	ck_assert_str_eq(local(otd_payment_deadline(&v, london, holidays, N_HOLIDAYS,
	                                            at("2026-03-27T00:00:00Z"))),
	                 "2026-04-27T00:00:00+01:00");
	ck_assert_str_eq(
	    local(otd_payment_deadline(&v, london, NULL, 0, at("2026-03-27T23:59:59Z"))),
	    "2026-04-27T00:00:00+01:00");
	v.pay_within.kind = OTD_PAY_WORKING_DAYS;
	v.pay_within.amount = 10;
	ck_assert_str_eq(local(otd_payment_deadline(&v, london, holidays, N_HOLIDAYS,
	                                            at("2026-03-27T12:00:00Z"))),
	                 "2026-04-15T00:00:00+01:00");
}
END_TEST

START_TEST(amount_owed_and_late_penalties)
{
	struct otd_rule_version v;
	memset(&v, 0, sizeof(v));
	int64_t deadline = at("2026-04-14T23:00:00Z");
	v.late_penalty.kind = OTD_LATE_SAME_AGAIN;
	ck_assert_int_eq(otd_amount_owed(&v, 4000, deadline, 0), 4000);
	ck_assert_int_eq(otd_amount_owed(&v, 4000, deadline, deadline), 4000);
	ck_assert_int_eq(otd_amount_owed(&v, 4000, deadline, deadline + 1), 8000);
	v.late_penalty.kind = OTD_LATE_FIXED;
	v.late_penalty.amount_minor = 4000;
	ck_assert_int_eq(otd_amount_owed(&v, 5000, deadline, deadline - 1), 5000);
	ck_assert_int_eq(otd_amount_owed(&v, 5000, deadline, deadline + 86400), 9000);
	v.late_penalty.kind = OTD_LATE_NONE;
	ck_assert_int_eq(otd_amount_owed(&v, 3231, deadline, deadline + 86400), 3231);
}
END_TEST

/* ---- parse errors ------------------------------------------------------- */

#define V0                                                                                         \
	"{\"version\":\"1\",\"effective_from\":\"2026-01-01\",\"regulation\":\"Reg\","             \
	"\"currency\":\"GBP\",\"missed_minor\":100,\"short_notice_minor\":0,"                      \
	"\"notice\":{\"kind\":\"hours\",\"amount\":24,\"more_than\":false},"                       \
	"\"pay_within\":{\"kind\":\"days\",\"amount\":30},\"late_penalty\":{\"kind\":\"none\"}}"
#define V1                                                                                         \
	"{\"version\":\"2\",\"effective_from\":\"2026-07-01\",\"regulation\":\"Reg\","             \
	"\"currency\":\"GBP\",\"missed_minor\":200,\"short_notice_minor\":0,"                      \
	"\"notice\":{\"kind\":\"hours\",\"amount\":24,\"more_than\":false},"                       \
	"\"pay_within\":{\"kind\":\"days\",\"amount\":30},\"late_penalty\":{\"kind\":\"none\"}}"
#define DOC_HEAD "{\"name\":\"x\",\"title\":\"X\",\"versions\":["
#define DOC DOC_HEAD V0 "," V1 "]}"

/* doc with the first occurrence of from (after skip bytes) replaced by to. */
static char *edit(const char *doc, size_t skip, const char *from, const char *to)
{
	const char *p = strstr(doc + skip, from);
	ck_assert_msg(p, "no \"%s\" in the document", from);
	return xasprintf("%.*s%s%s", (int)(p - doc), doc, to, p + strlen(from));
}

static void parse_fails(const char *json, const char *field, const char *message)
{
	struct otd_rule_set s;
	struct otd_error e;
	otd_error_clear(&e);
	ck_assert_int_eq(otd_rule_set_parse("x.json", json, strlen(json), &s, &e), OTD_EINVAL);
	ck_assert_str_eq(e.code, "bad_rule_set");
	ck_assert_msg(strcmp(e.field, field) == 0, "field %s, want %s (%s)", e.field, field,
	              e.message);
	ck_assert_msg(strstr(e.message, message), "want \"%s\" in: %s", message, e.message);
	ck_assert_msg(strncmp(e.message, "x.json: ", 8) == 0, "no file name in: %s", e.message);
	if(*field) {
		char head[200];
		snprintf(head, sizeof(head), "x.json: %s ", field);
		ck_assert_msg(strncmp(e.message, head, strlen(head)) == 0, "want \"%s\" first: %s",
		              head, e.message);
	}
	ck_assert_ptr_null(s.versions);
	ck_assert_ptr_null(s.notes);
}

/* Replaces from by to in version 0 (or 1) of DOC and expects an error. */
static void version_fails(int which, const char *from, const char *to, const char *field,
                          const char *message)
{
	size_t skip = which ? strlen(DOC_HEAD V0) : strlen(DOC_HEAD);
	char *doc = edit(DOC, skip, from, to);
	parse_fails(doc, field, message);
	free(doc);
}

START_TEST(the_test_document_parses)
{
	struct otd_rule_set s;
	struct otd_error e;
	otd_error_clear(&e);
	ck_assert_int_eq(otd_rule_set_parse("x.json", DOC, strlen(DOC), &s, &e), OTD_OK);
	ck_assert_uint_eq(s.n_versions, 2);
	ck_assert_str_eq(s.notes, "");
	ck_assert_int_eq(s.versions[1].missed_minor, 200);
	otd_rule_set_cleanup(&s);
	/* notes as one string; "none" notice without amount; fixed penalty. */
	char *a = edit(DOC, 0, "\"versions\"", "\"notes\":\"one\\ntwo\",\"versions\"");
	char *b = edit(a, 0, "{\"kind\":\"hours\",\"amount\":24,\"more_than\":false}",
	               "{\"kind\":\"none\"}");
	char *c = edit(b, 0, "{\"kind\":\"none\"}}", "{\"kind\":\"fixed\",\"amount_minor\":7}}");
	ck_assert_int_eq(otd_rule_set_parse("x.json", c, strlen(c), &s, &e), OTD_OK);
	ck_assert_str_eq(s.notes, "one\ntwo");
	ck_assert_int_eq(s.versions[0].notice.kind, OTD_NOTICE_NONE);
	ck_assert_int_eq(s.versions[0].notice.amount, 0);
	ck_assert_int_eq(s.versions[0].late_penalty.kind, OTD_LATE_FIXED);
	ck_assert_int_eq(s.versions[0].late_penalty.amount_minor, 7);
	otd_rule_set_cleanup(&s);
	free(a);
	free(b);
	free(c);
}
END_TEST

START_TEST(parse_errors_name_file_and_field)
{
	/* The document as a whole. */
	parse_fails("{\"name\":", "", "x.json: line 1");
	parse_fails("[]", "", "must hold one JSON object");
	parse_fails("{\"name\":\"x\",\"name\":\"y\",\"title\":\"X\",\"versions\":[" V0 "]}", "",
	            "duplicate");
	char *doc = edit(DOC, 0, "\"title\"", "\"colour\":\"red\",\"title\"");
	parse_fails(doc, "colour", "is not a known field (known: name, title, notes, versions)");
	free(doc);
	parse_fails("{\"title\":\"X\",\"versions\":[" V0 "]}", "name", "is missing");
	parse_fails("{\"name\":5,\"title\":\"X\",\"versions\":[" V0 "]}", "name",
	            "must be a string");
	parse_fails("{\"name\":\"GB Energy\",\"title\":\"X\",\"versions\":[" V0 "]}", "name",
	            "must use only a-z, 0-9 and '-'");
	parse_fails("{\"name\":\"\",\"title\":\"X\",\"versions\":[" V0 "]}", "name",
	            "must not be empty");
	parse_fails("{\"name\":\"x\",\"versions\":[" V0 "]}", "title", "is missing");
	parse_fails("{\"name\":\"x\",\"title\":\"a\\u0007b\",\"versions\":[" V0 "]}", "title",
	            "control characters");
	parse_fails("{\"name\":\"x\",\"title\":\"X\",\"notes\":5,\"versions\":[" V0 "]}", "notes",
	            "must be a string or an array of strings");
	parse_fails("{\"name\":\"x\",\"title\":\"X\",\"notes\":[\"a\",1],\"versions\":[" V0 "]}",
	            "notes[1]", "must be a string");
	parse_fails("{\"name\":\"x\",\"title\":\"X\"}", "versions", "is missing");
	parse_fails("{\"name\":\"x\",\"title\":\"X\",\"versions\":{}}", "versions",
	            "must be an array");
	parse_fails("{\"name\":\"x\",\"title\":\"X\",\"versions\":[]}", "versions",
	            "must hold 1 to 64 versions");
	parse_fails("{\"name\":\"x\",\"title\":\"X\",\"versions\":[5]}", "versions[0]",
	            "must be an object");

	/* One version's fields. */
	version_fails(0, "\"version\":\"1\",", "\"version\":\"1\",\"colour\":1,",
	              "versions[0].colour", "is not a known field");
	version_fails(0, "\"version\":\"1\",", "", "versions[0].version", "is missing");
	version_fails(0, "\"version\":\"1\"", "\"version\":1", "versions[0].version",
	              "must be a string");
	version_fails(0, "2026-01-01", "2026-02-30", "versions[0].effective_from",
	              "must be a real date YYYY-MM-DD (\"2026-02-30\")");
	version_fails(0, "2026-01-01", "1 January 2026", "versions[0].effective_from",
	              "must be a real date");
	version_fails(0, "\"effective_from\":\"2026-01-01\",", "", "versions[0].effective_from",
	              "is missing");
	version_fails(0, "\"regulation\":\"Reg\",", "", "versions[0].regulation", "is missing");
	version_fails(1, "\"GBP\"", "\"gbp\"", "versions[1].currency",
	              "must be three capital letters");
	version_fails(1, "\"GBP\"", "\"POUND\"", "versions[1].currency", "is 5 bytes; at most 3");
	version_fails(0, "\"missed_minor\":100,", "", "versions[0].missed_minor", "is missing");
	version_fails(0, "\"missed_minor\":100", "\"missed_minor\":-1", "versions[0].missed_minor",
	              "must not be negative");
	version_fails(0, "\"missed_minor\":100", "\"missed_minor\":40.00",
	              "versions[0].missed_minor",
	              "must be a whole number (amounts are minor units");
	version_fails(0, "\"missed_minor\":100", "\"missed_minor\":\"4000\"",
	              "versions[0].missed_minor", "must be a whole number");
	version_fails(0, "\"missed_minor\":100", "\"missed_minor\":100000000001",
	              "versions[0].missed_minor", "must be 0 to 100000000000");
	version_fails(1, "\"short_notice_minor\":0", "\"short_notice_minor\":-5",
	              "versions[1].short_notice_minor", "must not be negative");

	/* notice */
	version_fails(0, "\"notice\":{\"kind\":\"hours\",\"amount\":24,\"more_than\":false},", "",
	              "versions[0].notice", "is missing");
	version_fails(0, "\"notice\":{\"kind\":\"hours\",\"amount\":24,\"more_than\":false}",
	              "\"notice\":24", "versions[0].notice", "must be an object");
	version_fails(0, "\"kind\":\"hours\"", "\"kind\":\"days\"", "versions[0].notice.kind",
	              "must be \"hours\", \"working_days\" or \"none\"");
	version_fails(0, "\"kind\":\"hours\",", "", "versions[0].notice.kind", "is missing");
	version_fails(0, "\"amount\":24", "\"amount\":0", "versions[0].notice.amount",
	              "must be 1 to 8760");
	version_fails(0, "\"amount\":24", "\"amount\":-24", "versions[0].notice.amount",
	              "must not be negative");
	version_fails(0, "\"amount\":24,", "", "versions[0].notice.amount", "is missing");
	version_fails(0, "\"more_than\":false", "\"more_than\":\"no\"",
	              "versions[0].notice.more_than", "must be true or false");
	version_fails(0, "\"more_than\":false", "\"more_than\":false,\"within\":1",
	              "versions[0].notice.within", "is not a known field");
	version_fails(0, "{\"kind\":\"hours\",\"amount\":24,\"more_than\":false}",
	              "{\"kind\":\"none\",\"more_than\":true}", "versions[0].notice.more_than",
	              "cannot be true when kind is \"none\"");
	version_fails(0, "{\"kind\":\"hours\",\"amount\":24,\"more_than\":false}",
	              "{\"kind\":\"none\",\"amount\":3}", "versions[0].notice.amount",
	              "must be 0 or left out");
	version_fails(0, "{\"kind\":\"hours\",\"amount\":24,",
	              "{\"kind\":\"working_days\",\"amount\":261,", "versions[0].notice.amount",
	              "must be 1 to 260");

	/* pay_within, with the message DESIGN's issue quotes. */
	version_fails(1, "{\"kind\":\"days\",\"amount\":30}", "{\"kind\":\"weeks\",\"amount\":4}",
	              "versions[1].pay_within.kind",
	              "x.json: versions[1].pay_within.kind must be \"days\" or \"working_days\"");
	version_fails(1, "{\"kind\":\"days\",\"amount\":30}", "{\"kind\":7,\"amount\":4}",
	              "versions[1].pay_within.kind", "must be \"days\" or \"working_days\"");
	version_fails(0, "\"amount\":30", "\"amount\":0", "versions[0].pay_within.amount",
	              "must be 1 to 366");
	version_fails(0, "\"amount\":30", "\"amount\":400", "versions[0].pay_within.amount",
	              "must be 1 to 366");
	version_fails(0, "\"pay_within\":{\"kind\":\"days\",\"amount\":30},", "",
	              "versions[0].pay_within", "is missing");

	/* late_penalty */
	version_fails(0, "{\"kind\":\"none\"}", "{\"kind\":\"double\"}",
	              "versions[0].late_penalty.kind",
	              "must be \"none\", \"same_again\" or \"fixed\"");
	version_fails(0, "{\"kind\":\"none\"}", "{\"kind\":\"fixed\"}",
	              "versions[0].late_penalty.amount_minor", "is missing");
	version_fails(0, "{\"kind\":\"none\"}", "{\"kind\":\"fixed\",\"amount_minor\":-1}",
	              "versions[0].late_penalty.amount_minor", "must not be negative");
	version_fails(0, "{\"kind\":\"none\"}", "{\"kind\":\"same_again\",\"amount_minor\":5}",
	              "versions[0].late_penalty.amount_minor", "is only for kind \"fixed\"");
	version_fails(0, "{\"kind\":\"none\"}", "{\"kind\":\"none\",\"kind\":\"fixed\"}", "",
	              "duplicate");

	/* Order and labels across versions. */
	version_fails(1, "2026-07-01", "2026-01-01", "versions[1].effective_from",
	              "2026-01-01 must be later than versions[0].effective_from 2026-01-01");
	version_fails(1, "2026-07-01", "2025-12-31", "versions[1].effective_from",
	              "(versions go oldest first)");
	version_fails(1, "\"version\":\"2\"", "\"version\":\"1\"", "versions[1].version",
	              "\"1\" is already versions[0].version");
}
END_TEST

START_TEST(a_rule_set_too_big_is_refused)
{
	size_t len = OTD_RULE_SET_MAX_BYTES + 1;
	char *big = xmalloc(len + 1);
	memset(big, ' ', len);
	big[len] = '\0';
	struct otd_rule_set s;
	struct otd_error e;
	otd_error_clear(&e);
	ck_assert_int_eq(otd_rule_set_parse("big.json", big, len, &s, &e), OTD_ETOOBIG);
	ck_assert_str_eq(e.code, "rule_set_too_big");
	ck_assert(strncmp(e.message, "big.json: ", 10) == 0);
	free(big);
}
END_TEST

/* ---- money -------------------------------------------------------------- */

START_TEST(money_as_text)
{
	char buf[OTD_MONEY_TEXT_SIZE];
	otd_money_text("GBP", 4000, buf, sizeof(buf));
	ck_assert_str_eq(buf, "\xC2\xA3"
	                      "40.00");
	otd_money_text("GBP", 3231, buf, sizeof(buf));
	ck_assert_str_eq(buf, "\xC2\xA3"
	                      "32.31");
	otd_money_text("GBP", 5, buf, sizeof(buf));
	ck_assert_str_eq(buf, "\xC2\xA3"
	                      "0.05");
	otd_money_text("GBP", 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "\xC2\xA3"
	                      "0.00");
	otd_money_text("GBP", -500, buf, sizeof(buf));
	ck_assert_str_eq(buf, "-\xC2\xA3"
	                      "5.00");
	otd_money_text("EUR", 1250, buf, sizeof(buf));
	ck_assert_str_eq(buf, "\xE2\x82\xAC"
	                      "12.50");
	otd_money_text("USD", 310, buf, sizeof(buf));
	ck_assert_str_eq(buf, "USD 3.10");
	otd_money_text("USD", INT64_MIN, buf, sizeof(buf));
	ck_assert_str_eq(buf, "-USD 92233720368547758.08");
	otd_money_text("EUR", INT64_MAX, buf, sizeof(buf));
	ck_assert_str_eq(buf, "\xE2\x82\xAC"
	                      "92233720368547758.07");
	/* Too small a buffer: "" rather than a wrong amount. */
	char small[6];
	otd_money_text("GBP", 4000, small, sizeof(small));
	ck_assert_str_eq(small, "");
	otd_money_text("GBP", 4000, small, 0); /* writes nothing */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("guarantee");
	TCase *tc = tcase_create("guarantee");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, every_preset_parses);
	tcase_add_test(tc, presets_hold_the_published_numbers);
	tcase_add_test(tc, an_unknown_preset_names_the_known_ones);
	tcase_add_loop_test(tc, each_preset_on_the_case_table, 0,
	                    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, no_version_before_the_first);
	tcase_add_test(tc, water_amount_changes_mid_quarter_at_local_midnight);
	tcase_add_test(tc, working_days_skip_weekends_and_bank_holidays);
	tcase_add_test(tc, notice_in_working_days_counts_whole_days_between);
	tcase_add_test(tc, notice_in_hours_is_clock_time);
	tcase_add_test(tc, payment_deadline_in_calendar_days);
	tcase_add_test(tc, amount_owed_and_late_penalties);
	tcase_add_test(tc, the_test_document_parses);
	tcase_add_test(tc, parse_errors_name_file_and_field);
	tcase_add_test(tc, a_rule_set_too_big_is_refused);
	tcase_add_test(tc, money_as_text);
	tcase_add_test(tc, notice_deadline_is_the_last_instant_with_notice);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
