/* Unit tests: the words of customer messages (core/message.c). Each kind's
 * subject, text, HTML and SMS for one fixed context, compared whole: the
 * customer's name as given, the visitor's first name and role in lower case
 * in running text, times in Europe/London with the day named (one of them
 * in summer time), the signature and the direct number; a hostile name
 * escaped in HTML and verbatim elsewhere; never "have a nice day". Then
 * otd_window_text on and around both 2026 changes of the clocks. */
#include <stdio.h>
#include <string.h>

#include "app/tzload.h"
#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "onthedot/asset.h"
#include "onthedot/message.h"
#include "onthedot/sms.h"
#include "onthedot/tz.h"
#include "testutil.h"

#define LINK "https://visits.example.org/a/AbCdEfGhIjKlMnOpQrStUv"
#define ADDR "1 High St, Flat A, Wrenfield, AB1 2CD"
#define SIGN "Priya Shah\nWrenfield Water\n01632 960123\n"
#define SIGN_HTML "<p>Priya Shah<br>Wrenfield Water<br>01632 960123</p>\n"
#define XSS "<img src=x onerror=alert(1)>"
#define XSS_HTML "&lt;img src=x onerror=alert(1)&gt;"

static struct otd_tz *london;

/* Checked fixture: libical is used in the child only. */
static void setup(void)
{
	struct otd_error e;
	otd_error_clear(&e);
	ck_assert_int_eq(
	    tzload_build("Europe/London", TZLOAD_FROM_YEAR, TZLOAD_TO_YEAR, &london, &e), OTD_OK);
}

static void teardown(void)
{
	otd_tz_free(london);
	london = NULL;
	tzload_shutdown();
}

static int64_t at(const char *s)
{
	int64_t t = 0;
	struct otd_error e;
	ck_assert_msg(otd_rfc3339_parse(s, &t, &e) == OTD_OK, "%s", s);
	return t;
}

/* The fixed context: Tuesday 3 March 2026, 10:00 to 11:00 GMT; the earlier
 * window (for reschedules and offers) Tuesday 14 April, 09:00 to 10:00 BST. */
static struct otd_message_context context(void)
{
	struct otd_message_context c = {
	    .tz = london,
	    .organisation = "Wrenfield Water",
	    .signature = "Priya Shah",
	    .phone = "01632 960123",
	    .customer_name = "Zoë O'Brien-Nguyễn",
	    .visit_type = "Boiler repair",
	    .visitor_first_name = "Ann",
	    .visitor_role = "Gas engineer",
	    .address = ADDR,
	    .start = at("2026-03-03T10:00:00Z"),
	    .end = at("2026-03-03T11:00:00Z"),
	    .link = LINK,
	};
	return c;
}

/* What every message must never say or do. */
static void assert_decent(const struct otd_message *m)
{
	const char *parts[] = {m->subject, m->text, m->html, m->sms};
	for(size_t i = 0; i < 4; i++) {
		ck_assert_ptr_nonnull(parts[i]);
		ck_assert_ptr_null(strstr(parts[i], "nice day"));
		ck_assert_ptr_null(strstr(parts[i], "Nice day"));
		ck_assert_ptr_null(strstr(parts[i], "(null)"));
	}
}

START_TEST(booked_names_the_window_the_visitor_and_who_signs)
{
	struct otd_message_context c = context();
	struct otd_message m;
	otd_message_render(OTD_MSG_BOOKED, &c, &m);
	assert_decent(&m);
	ck_assert_str_eq(m.template, "booking_confirmation");
	ck_assert_str_eq(m.subject, "Your boiler repair: Tuesday 3 March, 10:00 to 11:00");
	ck_assert_str_eq(
	    m.text, "Dear Zoë O'Brien-Nguyễn,\n\n"
	            "Your boiler repair is booked for Tuesday 3 March, 10:00 to 11:00, at " ADDR
	            ". Ann, our gas engineer, will come to you.\n\n"
	            "If anything changes on our side, we will tell you as soon as we know, not "
	            "after.\n\n"
	            "To see your visit, move it or cancel it: " LINK "\n\n" SIGN);
	ck_assert_str_eq(
	    m.html, "<p>Dear Zoë O&#39;Brien-Nguyễn,</p>\n"
	            "<p>Your boiler repair is booked for Tuesday 3 March, 10:00 to 11:00, at " ADDR
	            ". Ann, our gas engineer, will come to you.</p>\n"
	            "<p>If anything changes on our side, we will tell you as soon as we know, not "
	            "after.</p>\n"
	            "<p>To see your visit, move it or cancel it: <a href=\"" LINK "\">" LINK
	            "</a></p>\n" SIGN_HTML);
	ck_assert_str_eq(m.sms, "Zoë O'Brien-Nguyễn, your boiler repair with Wrenfield Water is "
	                        "booked for Tue 3 Mar, 10:00-11:00. Ann (gas engineer) will come. "
	                        "Manage: " LINK);
	ck_assert(!m.sms_gsm7); /* ễ */
	ck_assert_int_eq(m.sms_segments, 3);
	otd_message_cleanup(&m);
	ck_assert_ptr_null(m.text);

	/* Another customer, in summer time, a role and a visit type that are
	 * acronyms (kept as written), no direct number: no empty line for it. */
	c.customer_name = "Łukasz";
	c.visit_type = "MOT check";
	c.visitor_role = "DVSA examiner";
	c.phone = "";
	c.start = at("2026-09-01T08:00:00Z");
	c.end = at("2026-09-01T10:00:00Z");
	otd_message_render(OTD_MSG_BOOKED, &c, &m);
	assert_decent(&m);
	ck_assert_str_eq(m.subject, "Your MOT check: Tuesday 1 September, 09:00 to 11:00");
	ck_assert_int_eq(strncmp(m.text,
	                         "Dear Łukasz,\n\nYour MOT check is booked for Tuesday 1 "
	                         "September, 09:00 to 11:00, at " ADDR
	                         ". Ann, our DVSA examiner, will come to you.\n\n",
	                         strlen("Dear Łukasz,\n\nYour MOT check is booked for Tuesday 1 "
	                                "September, 09:00 to 11:00, at " ADDR
	                                ". Ann, our DVSA examiner, will come to you.\n\n")),
	                 0);
	ck_assert_ptr_nonnull(strstr(m.text, LINK "\n\nPriya Shah\nWrenfield Water\n"));
	ck_assert_str_eq(strstr(m.text, "Priya Shah"), "Priya Shah\nWrenfield Water\n");
	ck_assert_str_eq(strstr(m.html, "<p>Priya Shah"), "<p>Priya Shah<br>Wrenfield Water</p>\n");
	ck_assert_str_eq(m.sms, "Łukasz, your MOT check with Wrenfield Water is booked for Tue 1 "
	                        "Sep, 09:00-11:00. Ann (DVSA examiner) will come. Manage: " LINK);
	otd_message_cleanup(&m);
}
END_TEST

START_TEST(rescheduled_says_the_new_and_the_old_window)
{
	struct otd_message_context c = context();
	c.old_start = c.start;
	c.old_end = c.end;
	c.start = at("2026-04-14T08:00:00Z"); /* 09:00 BST */
	c.end = at("2026-04-14T09:00:00Z");
	struct otd_message m;
	otd_message_render(OTD_MSG_RESCHEDULED, &c, &m);
	assert_decent(&m);
	ck_assert_str_eq(m.template, "rescheduled");
	ck_assert_str_eq(m.subject,
	                 "Your boiler repair has moved: Tuesday 14 April, 09:00 to 10:00");
	ck_assert_str_eq(m.text,
	                 "Dear Zoë O'Brien-Nguyễn,\n\n"
	                 "Your boiler repair is now on Tuesday 14 April, 09:00 to 10:00 (it "
	                 "was Tuesday 3 March, 10:00 to 11:00), at " ADDR
	                 ". Ann, our gas engineer, will come to you.\n\n"
	                 "Your link still works: " LINK "\n\n" SIGN);
	ck_assert_str_eq(
	    m.html, "<p>Dear Zoë O&#39;Brien-Nguyễn,</p>\n"
	            "<p>Your boiler repair is now on Tuesday 14 April, 09:00 to 10:00 (it "
	            "was Tuesday 3 March, 10:00 to 11:00), at " ADDR
	            ". Ann, our gas engineer, will come to you.</p>\n"
	            "<p>Your link still works: <a href=\"" LINK "\">" LINK "</a></p>\n" SIGN_HTML);
	ck_assert_str_eq(m.sms, "Zoë O'Brien-Nguyễn, your boiler repair has moved to Tue 14 Apr, "
	                        "09:00-10:00 (was Tue 3 Mar, 10:00-11:00). Ann (gas engineer) will "
	                        "come. Manage: " LINK);
	otd_message_cleanup(&m);
}
END_TEST

START_TEST(cancelled_by_the_customer_or_by_us_with_a_reason)
{
	struct otd_message_context c = context();
	c.by_customer = true;
	c.link = "https://visits.example.org/book";
	struct otd_message m;
	otd_message_render(OTD_MSG_CANCELLED, &c, &m);
	assert_decent(&m);
	ck_assert_str_eq(m.template, "cancelled");
	ck_assert_str_eq(m.subject,
	                 "Your boiler repair on Tuesday 3 March, 10:00 to 11:00 is cancelled");
	ck_assert_str_eq(m.text,
	                 "Dear Zoë O'Brien-Nguyễn,\n\n"
	                 "Your boiler repair on Tuesday 3 March, 10:00 to 11:00 is cancelled, "
	                 "as you asked.\n\n" SIGN);
	ck_assert_str_eq(m.html, "<p>Dear Zoë O&#39;Brien-Nguyễn,</p>\n"
	                         "<p>Your boiler repair on Tuesday 3 March, 10:00 to 11:00 is "
	                         "cancelled, as you asked.</p>\n" SIGN_HTML);
	ck_assert_str_eq(m.sms, "Zoë O'Brien-Nguyễn, your boiler repair on Tue 3 Mar, 10:00-11:00 "
	                        "is cancelled, as you asked. Wrenfield Water");
	otd_message_cleanup(&m);

	/* By us: an apology, the reason escaped in HTML, and the number to call. */
	c.by_customer = false;
	c.reason = "Ann's van broke down & cannot be fixed today.";
	otd_message_render(OTD_MSG_CANCELLED, &c, &m);
	assert_decent(&m);
	ck_assert_str_eq(
	    m.text, "Dear Zoë O'Brien-Nguyễn,\n\n"
	            "We are sorry: we have had to cancel your boiler repair on Tuesday 3 March, "
	            "10:00 to 11:00. The reason: Ann's van broke down & cannot be fixed "
	            "today.\n\n"
	            "Please call us and we will find you a new time first.\n\n" SIGN);
	ck_assert_str_eq(
	    m.html, "<p>Dear Zoë O&#39;Brien-Nguyễn,</p>\n"
	            "<p>We are sorry: we have had to cancel your boiler repair on Tuesday 3 "
	            "March, 10:00 to 11:00. The reason: Ann&#39;s van broke down &amp; cannot be "
	            "fixed today.</p>\n"
	            "<p>Please call us and we will find you a new time first.</p>\n" SIGN_HTML);
	ck_assert_str_eq(m.sms, "Zoë O'Brien-Nguyễn, we are sorry: we have had to cancel your "
	                        "boiler repair on Tue 3 Mar, 10:00-11:00. Please call us on 01632 "
	                        "960123 and we will find you a new time first. Priya Shah, "
	                        "Wrenfield Water");
	otd_message_cleanup(&m);

	/* No reason given, no number configured. */
	c.reason = NULL;
	c.phone = "";
	otd_message_render(OTD_MSG_CANCELLED, &c, &m);
	assert_decent(&m);
	ck_assert_ptr_nonnull(strstr(m.text,
	                             "cancel your boiler repair on Tuesday 3 March, 10:00 to "
	                             "11:00.\n\nPlease call us"));
	ck_assert_ptr_null(strstr(m.text, "The reason"));
	ck_assert_str_eq(m.sms,
	                 "Zoë O'Brien-Nguyễn, we are sorry: we have had to cancel your "
	                 "boiler repair on Tue 3 Mar, 10:00-11:00. Please call us and we will "
	                 "find you a new time first. Priya Shah, Wrenfield Water");
	otd_message_cleanup(&m);

	/* A reason without a full stop gets one: words follow it. */
	c.reason = "Ann is ill";
	otd_message_render(OTD_MSG_CANCELLED, &c, &m);
	ck_assert_ptr_nonnull(strstr(m.text, "The reason: Ann is ill.\n\nPlease call us"));
	otd_message_cleanup(&m);
}
END_TEST

START_TEST(waitlist_offer_names_the_window_and_how_long_it_is_held)
{
	struct otd_message_context c = context();
	/* The earlier window is the one offered; the booked one stays. */
	c.old_start = at("2026-04-14T08:00:00Z");
	c.old_end = at("2026-04-14T09:00:00Z");
	c.offer_until = at("2026-03-02T12:30:00Z");
	struct otd_message m;
	otd_message_render(OTD_MSG_WAITLIST_OFFER, &c, &m);
	assert_decent(&m);
	ck_assert_str_eq(m.template, "waitlist_offer");
	ck_assert_str_eq(m.subject,
	                 "An earlier time for your boiler repair: Tuesday 3 March, 10:00 to 11:00");
	ck_assert_str_eq(m.text,
	                 "Dear Zoë O'Brien-Nguyễn,\n\n"
	                 "You asked for an earlier time. Tuesday 3 March, 10:00 to 11:00 is "
	                 "free and we are holding it for you until 12:30 on Monday 2 March.\n\n"
	                 "To take it, or see your visit: " LINK "\n\n"
	                 "If you do nothing, your visit stays on Tuesday 14 April, 09:00 to "
	                 "10:00.\n\n" SIGN);
	ck_assert_str_eq(m.html,
	                 "<p>Dear Zoë O&#39;Brien-Nguyễn,</p>\n"
	                 "<p>You asked for an earlier time. Tuesday 3 March, 10:00 to 11:00 is "
	                 "free and we are holding it for you until 12:30 on Monday 2 "
	                 "March.</p>\n"
	                 "<p>To take it, or see your visit: <a href=\"" LINK "\">" LINK "</a></p>\n"
	                 "<p>If you do nothing, your visit stays on Tuesday 14 April, 09:00 to "
	                 "10:00.</p>\n" SIGN_HTML);
	ck_assert_str_eq(m.sms,
	                 "Zoë O'Brien-Nguyễn, an earlier time is free for your boiler "
	                 "repair: Tue 3 Mar, 10:00-11:00, held for you till 12:30 Mon 2 Mar. "
	                 "Take it: " LINK);
	otd_message_cleanup(&m);

	/* Held until a summer-time instant: the hour is local. */
	c.offer_until = at("2026-04-01T11:15:00Z");
	otd_message_render(OTD_MSG_WAITLIST_OFFER, &c, &m);
	ck_assert_ptr_nonnull(strstr(m.text, "until 12:15 on Wednesday 1 April."));
	otd_message_cleanup(&m);
}
END_TEST

START_TEST(new_link_says_old_links_stop_working)
{
	struct otd_message_context c = context();
	struct otd_message m;
	otd_message_render(OTD_MSG_NEW_LINK, &c, &m);
	assert_decent(&m);
	ck_assert_str_eq(m.template, "new_link");
	ck_assert_str_eq(m.subject, "Your new link for your boiler repair");
	ck_assert_str_eq(m.text, "Dear Zoë O'Brien-Nguyễn,\n\n"
	                         "Here is your new link for your boiler repair on Tuesday 3 March, "
	                         "10:00 to 11:00. Links we sent before no longer work.\n\n"
	                         "Your visit: " LINK "\n\n" SIGN);
	ck_assert_str_eq(m.html,
	                 "<p>Dear Zoë O&#39;Brien-Nguyễn,</p>\n"
	                 "<p>Here is your new link for your boiler repair on Tuesday 3 March, "
	                 "10:00 to 11:00. Links we sent before no longer work.</p>\n"
	                 "<p>Your visit: <a href=\"" LINK "\">" LINK "</a></p>\n" SIGN_HTML);
	ck_assert_str_eq(m.sms,
	                 "Zoë O'Brien-Nguyễn, here is your new link for your boiler repair "
	                 "on Tue 3 Mar, 10:00-11:00 (links we sent before no longer work): " LINK);
	otd_message_cleanup(&m);
}
END_TEST

START_TEST(hostile_values_are_escaped_in_html_and_verbatim_elsewhere)
{
	struct otd_message_context c = context();
	c.customer_name = XSS;
	c.visitor_first_name = XSS;
	c.visit_type = "Meter <b>swap</b>";
	c.address = "\"Rose & Crown\", 2 Mill Lane, AB1 2CD";
	c.signature = "Dee <script>";
	c.old_start = at("2026-04-14T08:00:00Z");
	c.old_end = at("2026-04-14T09:00:00Z");
	c.offer_until = at("2026-03-02T12:30:00Z");
	c.reason = "<script>alert(1)</script>";
	c.link = "https://visits.example.org/a/x\"onmouseover=\"alert(1)";
	static const enum otd_message_kind kinds[] = {OTD_MSG_BOOKED, OTD_MSG_RESCHEDULED,
	                                              OTD_MSG_CANCELLED, OTD_MSG_WAITLIST_OFFER,
	                                              OTD_MSG_NEW_LINK};
	for(size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct otd_message m;
		otd_message_render(kinds[k], &c, &m);
		assert_decent(&m);
		/* Never raw in HTML: no tag or attribute from a value survives. */
		ck_assert_msg(strstr(m.html, "<img") == NULL, "kind %zu: %s", k, m.html);
		ck_assert_msg(strstr(m.html, "<b>") == NULL, "kind %zu", k);
		ck_assert_msg(strstr(m.html, "<script") == NULL, "kind %zu", k);
		ck_assert_msg(strstr(m.html, "\"onmouseover") == NULL, "kind %zu", k);
		ck_assert_msg(strstr(m.html, "\"Rose") == NULL, "kind %zu", k);
		ck_assert_int_eq(strncmp(m.html, "<p>Dear " XSS_HTML ",</p>\n",
		                         strlen("<p>Dear " XSS_HTML ",</p>\n")),
		                 0);
		ck_assert_ptr_nonnull(
		    strstr(m.html, "<p>Dee &lt;script&gt;<br>Wrenfield Water<br>"));
		/* Verbatim in the plain parts: the text greets by the name as given. */
		ck_assert_int_eq(strncmp(m.text, "Dear " XSS ",\n\n", strlen("Dear " XSS ",\n\n")),
		                 0);
		ck_assert_ptr_nonnull(strstr(m.subject, "meter <b>swap</b>"));
		ck_assert_ptr_nonnull(strstr(m.sms, "meter <b>swap</b>"));
		ck_assert_ptr_nonnull(strstr(m.text, "Dee <script>\nWrenfield Water\n"));
		otd_message_cleanup(&m);
	}
	/* The places each value appears in the HTML, escaped exactly. */
	struct otd_message m;
	otd_message_render(OTD_MSG_BOOKED, &c, &m);
	ck_assert_ptr_nonnull(strstr(m.html, ", at &quot;Rose &amp; Crown&quot;, 2 Mill Lane, AB1 "
	                                     "2CD. " XSS_HTML ", our gas engineer, will come to "
	                                     "you.</p>\n"));
	ck_assert_ptr_nonnull(strstr(m.html, "<a href=\"https://visits.example.org/a/"
	                                     "x&quot;onmouseover=&quot;alert(1)\">"));
	ck_assert_ptr_nonnull(strstr(m.text, ", at \"Rose & Crown\", 2 Mill Lane, AB1 2CD. " XSS
	                                     ", our gas engineer, will come to you.\n\n"));
	/* The visitor's name reaches the SMS as given. */
	ck_assert_ptr_nonnull(strstr(m.sms, ". " XSS " (gas engineer) will come."));
	otd_message_cleanup(&m);
	otd_message_render(OTD_MSG_CANCELLED, &c, &m);
	ck_assert_ptr_nonnull(
	    strstr(m.html, "The reason: &lt;script&gt;alert(1)&lt;/script&gt;.</p>\n"));
	ck_assert_ptr_nonnull(strstr(m.text, "The reason: <script>alert(1)</script>.\n\n"));
	otd_message_cleanup(&m);
}
END_TEST

/* ---- every kind, from the templates ---------------------------------------- */

#define LONG_LINK "https://visits.example.org/a/AbCdEfGhIjKlMnOpQrStUvWxYz01234"
#define LONG_NAME "Zoë Alexandra O'Brien-Nguyễn Fitzwilliam" /* 40 characters */

static const enum otd_message_kind all_kinds[] = {
    OTD_MSG_BOOKED,   OTD_MSG_RESCHEDULED,  OTD_MSG_CANCELLED,     OTD_MSG_WAITLIST_OFFER,
    OTD_MSG_NEW_LINK, OTD_MSG_REMINDER,     OTD_MSG_ON_THE_WAY,    OTD_MSG_AT_RISK,
    OTD_MSG_UPDATE,   OTD_MSG_BACK_ON_TIME, OTD_MSG_CANNOT_ATTEND, OTD_MSG_BROKEN,
    OTD_MSG_FEEDBACK, OTD_MSG_DISRUPTION,   OTD_MSG_REASSIGNED,    OTD_MSG_PERSONAL};
#define N_KINDS (sizeof(all_kinds) / sizeof(all_kinds[0]))

/* Everything any kind may say, with long realistic values: the visit on
 * Tuesday 3 March, running 40 minutes late, two windows held for two hours
 * and a half. */
static struct otd_message_context full_context(void)
{
	struct otd_message_context c = context();
	c.organisation = "Wrenfield Water Services";
	c.signature = "Priya Shah-Bhattacharya";
	c.customer_name = LONG_NAME;
	c.visit_type = "Annual gas safety inspection";
	c.visitor_first_name = "Alexandra";
	c.visitor_role = "Gas safety engineer";
	c.address = "Flat 12, Rosemary Court, 1 High Street, Wrenfield, AB1 2CD";
	c.link = LONG_LINK;
	c.old_start = at("2026-03-10T10:00:00Z");
	c.old_end = at("2026-03-10T11:00:00Z");
	c.offer_until = at("2026-03-03T12:30:00Z");
	c.reason = "Ann's van broke down";
	c.expected_early = at("2026-03-03T11:40:00Z");
	c.expected_late = at("2026-03-03T12:10:00Z");
	c.n_offers = 2;
	c.offers[0].start = at("2026-03-04T10:00:00Z");
	c.offers[0].end = at("2026-03-04T11:00:00Z");
	c.offers[1].start = at("2026-03-05T14:00:00Z");
	c.offers[1].end = at("2026-03-05T15:00:00Z");
	c.reason_text = "the visit before yours is taking longer";
	c.replies_enabled = true;
	c.compensation = "£40.00";
	c.pay_by = "Friday 13 March";
	c.disruption_note = "Flooding has closed the roads around Wrenfield.";
	/* A personal message as long as it may be (OTD_PERSONAL_NOTE_MAX). */
	c.note = "Alexandra is bringing the replacement part, so please leave the side gate "
	         "unlocked and the dog indoors; ring us if that is a problem today.";
	return c;
}

START_TEST(every_kind_renders_every_section)
{
	ck_assert_uint_eq(N_KINDS, OTD_MSG_KIND_COUNT);
	struct otd_message_context c = full_context();
	for(size_t k = 0; k < N_KINDS; k++) {
		struct otd_message m;
		otd_message_render(all_kinds[k], &c, &m);
		assert_decent(&m);
		const char *name = otd_message_template_name(all_kinds[k]);
		ck_assert_str_eq(m.template, name);
		ck_assert_msg(m.subject[0] && !strchr(m.subject, '\n'), "%s: %s", name, m.subject);
		ck_assert_msg(strncmp(m.text, "Dear " LONG_NAME ",\n\n",
		                      strlen("Dear " LONG_NAME ",\n\n")) == 0,
		              "%s: %s", name, m.text);
		/* Signed by the named person, the organisation, the direct number. */
		ck_assert_msg(strstr(m.text, "\n\nPriya Shah-Bhattacharya\nWrenfield Water "
		                             "Services\n01632 960123\n") != NULL,
		              "%s: %s", name, m.text);
		ck_assert_msg(strncmp(m.html, "<p>Dear ", 8) == 0, "%s", name);
		ck_assert_msg(strstr(m.html, "<p>Priya Shah-Bhattacharya<br>Wrenfield Water "
		                             "Services<br>01632 960123</p>\n") != NULL,
		              "%s: %s", name, m.html);
		/* Every SMS greets the customer by name, on one line. */
		ck_assert_msg(strncmp(m.sms, LONG_NAME ", ", strlen(LONG_NAME ", ")) == 0, "%s: %s",
		              name, m.sms);
		ck_assert_ptr_null(strchr(m.sms, '\n'));
		/* Times in the organisation's zone with the day named (on the way:
		 * today, the expected band says when). */
		ck_assert_msg(all_kinds[k] == OTD_MSG_ON_THE_WAY ||
		                  strstr(m.text, "Tuesday 3 March") != NULL,
		              "%s: %s", name, m.text);
		otd_message_cleanup(&m);
	}
	/* The names are the files' and the variables differ by kind. */
	ck_assert_ptr_null(otd_message_template_name((enum otd_message_kind)99));
	size_t n;
	ck_assert_ptr_null(otd_message_variables((enum otd_message_kind)99, &n));
	ck_assert_uint_eq(n, 0);
	const char *const *v = otd_message_variables(OTD_MSG_AT_RISK, &n);
	bool offer2 = false, name = false;
	for(size_t i = 0; i < n; i++) {
		offer2 = offer2 || strcmp(v[i], "offer2_brief") == 0;
		name = name || strcmp(v[i], "customer_name") == 0;
	}
	ck_assert(offer2 && name);
	v = otd_message_variables(OTD_MSG_BOOKED, &n);
	for(size_t i = 0; i < n; i++)
		ck_assert_str_ne(v[i], "offer2_brief");
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_ptr_nonnull(otd_message_set_default(&err));
}
END_TEST

/* Each SMS within 4 UCS-2 segments (a name with ễ) or 3 GSM-7 segments,
 * whatever the values; the counts are those otd_sms_info gives. */
static void assert_sms_fits(const struct otd_message_context *c, bool ucs2, const char *what)
{
	for(size_t k = 0; k < N_KINDS; k++) {
		for(int by = 0; by < 2; by++) {
			struct otd_message_context x = *c;
			x.by_customer = by;
			struct otd_message m;
			otd_message_render(all_kinds[k], &x, &m);
			struct otd_sms_info info;
			ck_assert_int_eq(otd_sms_info(m.sms, &info, NULL), OTD_OK);
			ck_assert_int_eq(m.sms_segments, info.segments);
			ck_assert(m.sms_gsm7 == info.gsm7);
			ck_assert_msg(m.sms_gsm7 == !ucs2, "%s %s: %s", what, m.template, m.sms);
			ck_assert_msg(m.sms_segments <= (ucs2 ? 4 : 3),
			              "%s %s: %d segments, %d units: %s", what, m.template,
			              m.sms_segments, info.units, m.sms);
			otd_message_cleanup(&m);
		}
	}
}

START_TEST(sms_stays_within_its_segments_with_long_values)
{
	struct otd_message_context c = full_context();
	ck_assert_uint_eq(strlen(LONG_LINK), 60);
	assert_sms_fits(&c, true, "two offers");
	c.replies_enabled = false;
	assert_sms_fits(&c, true, "no replies");
	c.n_offers = 1;
	assert_sms_fits(&c, true, "one offer");
	c.n_offers = 0;
	c.expected_early = c.expected_late = 0;
	assert_sms_fits(&c, true, "no offer");
	/* A name of 40 GSM-7 characters: GSM-7, 3 segments at most. */
	c = full_context();
	c.customer_name = "Alexandra Catherine O'Brien-Whitfield Jr";
	ck_assert_uint_eq(strlen(c.customer_name), 40);
	assert_sms_fits(&c, false, "gsm-7");
	/* The longest, whole: the apology with two offers and replies. */
	c = full_context();
	struct otd_message m;
	otd_message_render(OTD_MSG_AT_RISK, &c, &m);
	ck_assert_str_eq(m.sms,
	                 LONG_NAME ", we're sorry: Alexandra is late, due 11:40-12:10. "
	                           "Reply 1 to keep your time, 2 for Wed 4 Mar, 10:00-11:00, "
	                           "3 for Thu 5 Mar, 14:00-15:00 (held till 12:30), or "
	                           "tap " LONG_LINK);
	ck_assert_int_eq(m.sms_segments, 4);
	otd_message_cleanup(&m);
}
END_TEST

START_TEST(apology_with_none_one_or_two_offers_and_replies_or_not)
{
	struct otd_message_context c = context();
	c.expected_early = at("2026-03-03T11:40:00Z");
	c.expected_late = at("2026-03-03T12:10:00Z");
	c.reason_text = "the visit before yours is taking longer";
	c.offer_until = at("2026-03-03T12:30:00Z");
	c.offers[0].start = at("2026-03-04T10:00:00Z");
	c.offers[0].end = at("2026-03-04T11:00:00Z");
	c.offers[1].start = at("2026-03-05T14:00:00Z");
	c.offers[1].end = at("2026-03-05T15:00:00Z");
	struct otd_message m;

	/* No offer, the band unknown: the apology and the link only. */
	c.n_offers = 0;
	c.replies_enabled = true;
	int64_t early = c.expected_early;
	c.expected_early = 0;
	otd_message_render(OTD_MSG_AT_RISK, &c, &m);
	assert_decent(&m);
	ck_assert_str_eq(m.template, "apology");
	ck_assert_str_eq(m.subject, "We are sorry: Ann is running late for your boiler repair");
	ck_assert_str_eq(m.sms, "Zoë O'Brien-Nguyễn, we're sorry: Ann is late. Your visit: " LINK);
	ck_assert_str_eq(m.text,
	                 "Dear Zoë O'Brien-Nguyễn,\n\n"
	                 "We are sorry. Ann, our gas engineer, is running late and may not reach "
	                 "you within your window of Tuesday 3 March, 10:00 to 11:00. The reason: "
	                 "the visit before yours is taking longer.\n\n"
	                 "To choose in one tap, or to see your visit: " LINK "\n\n"
	                 "If you keep your time and we still miss it, we will put it right as our "
	                 "guarantee says.\n\n" SIGN);
	ck_assert_ptr_null(strstr(m.html, "<ul>"));
	ck_assert_ptr_null(strstr(m.html, "Reply"));
	otd_message_cleanup(&m);

	/* One offer, replies on: "2" only. */
	c.expected_early = early;
	c.n_offers = 1;
	otd_message_render(OTD_MSG_AT_RISK, &c, &m);
	assert_decent(&m);
	ck_assert_str_eq(m.sms,
	                 "Zoë O'Brien-Nguyễn, we're sorry: Ann is late, due 11:40-12:10. "
	                 "Reply 1 to keep your time, 2 for Wed 4 Mar, 10:00-11:00 (held till "
	                 "12:30), or tap " LINK);
	ck_assert_ptr_nonnull(strstr(m.text,
	                             "Ann is now expected 11:40 to 12:10.\n\n"
	                             "If that no longer suits you, we are holding this time "
	                             "for you until 12:30 on Tuesday 3 March:\n\n"
	                             "2: Wednesday 4 March, 10:00 to 11:00\n\n"
	                             "Reply to our text message with 1 to keep your time, "
	                             "or with 2 to take that one.\n\n"));
	ck_assert_ptr_null(strstr(m.text, "3:"));
	ck_assert_ptr_nonnull(strstr(m.html, "<ul>\n<li>2: Wednesday 4 March, 10:00 to 11:00</li>\n"
	                                     "</ul>\n<p>Reply to our text message with 1"));
	otd_message_cleanup(&m);

	/* Two offers, replies on: "2 or 3". */
	c.n_offers = 2;
	otd_message_render(OTD_MSG_AT_RISK, &c, &m);
	ck_assert_str_eq(m.sms,
	                 "Zoë O'Brien-Nguyễn, we're sorry: Ann is late, due 11:40-12:10. "
	                 "Reply 1 to keep your time, 2 for Wed 4 Mar, 10:00-11:00, 3 for Thu 5 "
	                 "Mar, 14:00-15:00 (held till 12:30), or tap " LINK);
	ck_assert_ptr_nonnull(strstr(m.text,
	                             "holding these times for you until 12:30 on Tuesday 3 "
	                             "March:\n\n2: Wednesday 4 March, 10:00 to 11:00\n"
	                             "3: Thursday 5 March, 14:00 to 15:00\n\n"
	                             "Reply to our text message with 1 to keep your time, or "
	                             "with 2 or 3 to take that one.\n\n"));
	ck_assert_ptr_nonnull(strstr(m.html, "<li>3: Thursday 5 March, 14:00 to 15:00</li>"));
	otd_message_cleanup(&m);

	/* Two offers, no replies (no inbound gateway): no "reply" anywhere. */
	c.replies_enabled = false;
	otd_message_render(OTD_MSG_AT_RISK, &c, &m);
	ck_assert_str_eq(m.sms,
	                 "Zoë O'Brien-Nguyễn, we're sorry: Ann is late, due 11:40-12:10. "
	                 "We're holding Wed 4 Mar, 10:00-11:00 and Thu 5 Mar, 14:00-15:00 for "
	                 "you till 12:30: tap to choose " LINK);
	ck_assert_ptr_null(strstr(m.text, "Reply"));
	ck_assert_ptr_null(strstr(m.html, "Reply"));
	ck_assert_ptr_nonnull(strstr(m.text, "3: Thursday 5 March, 14:00 to 15:00\n\nTo choose"));
	otd_message_cleanup(&m);
}
END_TEST

START_TEST(the_other_new_kinds_say_what_they_are_for)
{
	struct otd_message_context c = context();
	c.expected_early = at("2026-03-03T10:20:00Z");
	c.expected_late = at("2026-03-03T10:35:00Z");
	struct otd_message m;

	otd_message_render(OTD_MSG_REMINDER, &c, &m);
	assert_decent(&m);
	ck_assert_str_eq(m.sms, "Zoë O'Brien-Nguyễn, a reminder: Ann (gas engineer) comes for your "
	                        "boiler repair on Tue 3 Mar, 10:00-11:00. To move it: " LINK);
	ck_assert_ptr_nonnull(strstr(m.text, "A reminder: Ann, our gas engineer, will come to " ADDR
	                                     " for your boiler repair on Tuesday 3 March, 10:00 to "
	                                     "11:00.\n\n"));
	otd_message_cleanup(&m);

	otd_message_render(OTD_MSG_ON_THE_WAY, &c, &m);
	assert_decent(&m);
	ck_assert_str_eq(m.template, "on_the_way");
	ck_assert_str_eq(m.subject, "Ann is on the way: expected 10:20 to 10:35");
	ck_assert_str_eq(m.sms, "Zoë O'Brien-Nguyễn, Ann (gas engineer) is on the way to you and "
	                        "expects to arrive 10:20-10:35. Follow: " LINK);
	otd_message_cleanup(&m);

	c.reason_text = "heavy traffic on the ring road";
	otd_message_render(OTD_MSG_UPDATE, &c, &m);
	assert_decent(&m);
	ck_assert_str_eq(m.subject, "Ann is now expected 10:20 to 10:35");
	ck_assert_ptr_nonnull(strstr(m.text,
	                             "Ann, our gas engineer, is now expected 10:20 to 10:35. "
	                             "The reason: heavy traffic on the ring road. Your window "
	                             "is Tuesday 3 March, 10:00 to 11:00.\n\n"));
	ck_assert_str_eq(m.sms,
	                 "Zoë O'Brien-Nguyễn, an update: Ann (gas engineer) now expects to "
	                 "arrive 10:20-10:35 (your window: Tue 3 Mar, 10:00-11:00). See: " LINK);
	otd_message_cleanup(&m);

	otd_message_render(OTD_MSG_BACK_ON_TIME, &c, &m);
	assert_decent(&m);
	ck_assert_str_eq(m.sms,
	                 "Zoë O'Brien-Nguyễn, good news: Ann is back on time for your "
	                 "window, Tue 3 Mar, 10:00-11:00 (expected 10:20-10:35). Thank you for "
	                 "bearing with us. " LINK);
	otd_message_cleanup(&m);

	/* The visitor cannot come: no offer, so a number to call and the link. */
	c.reason_text = "Ann is ill";
	otd_message_render(OTD_MSG_CANNOT_ATTEND, &c, &m);
	assert_decent(&m);
	ck_assert_str_eq(m.template, "cannot_attend");
	ck_assert_str_eq(m.sms, "Zoë O'Brien-Nguyễn, we're sorry: Ann can't come on Tue 3 Mar. "
	                        "Call us on 01632 960123 or choose a new time: " LINK);
	ck_assert_ptr_nonnull(strstr(m.text,
	                             "cannot come for your boiler repair on Tuesday 3 March, "
	                             "10:00 to 11:00. The reason: Ann is ill.\n\n"));
	otd_message_cleanup(&m);

	/* Promise broken, compensation due; then none due and no number. */
	c.compensation = "£40.00";
	c.pay_by = "Friday 13 March";
	c.reason_text = NULL;
	otd_message_render(OTD_MSG_BROKEN, &c, &m);
	assert_decent(&m);
	ck_assert_str_eq(m.template, "promise_broken");
	ck_assert_str_eq(m.sms,
	                 "Zoë O'Brien-Nguyễn, we're sorry: we missed your window, Tue 3 Mar, "
	                 "10:00-11:00. We owe you £40.00 and will pay it by Friday 13 March "
	                 "without you asking. Questions: 01632 960123. " LINK);
	ck_assert_ptr_nonnull(strstr(m.text,
	                             "We owe you £40.00 for it, and we will pay it by Friday "
	                             "13 March without you having to ask.\n\n"));
	ck_assert_ptr_nonnull(strstr(m.html, "<p>We owe you £40.00 for it"));
	otd_message_cleanup(&m);
	c.compensation = "";
	c.phone = "";
	otd_message_render(OTD_MSG_BROKEN, &c, &m);
	ck_assert_str_eq(m.sms,
	                 "Zoë O'Brien-Nguyễn, we're sorry: we missed your window, Tue 3 Mar, "
	                 "10:00-11:00. " LINK);
	ck_assert_ptr_null(strstr(m.text, "owe"));
	otd_message_cleanup(&m);
	c.phone = "01632 960123";

	otd_message_render(OTD_MSG_FEEDBACK, &c, &m);
	assert_decent(&m);
	ck_assert_str_eq(m.template, "feedback_request");
	ck_assert_str_eq(m.sms,
	                 "Zoë O'Brien-Nguyễn, thank you for having Ann on Tue 3 Mar. How did "
	                 "we do, from 1 to 5, and any comment? " LINK);
	ck_assert_ptr_nonnull(strstr(m.text, "from 1 to 5"));
	otd_message_cleanup(&m);

	c.disruption_note = "Flooding has closed the roads around Wrenfield.";
	otd_message_render(OTD_MSG_DISRUPTION, &c, &m);
	assert_decent(&m);
	ck_assert_str_eq(m.subject,
	                 "Your boiler repair on Tuesday 3 March will not go ahead as planned");
	ck_assert_str_eq(m.sms,
	                 "Zoë O'Brien-Nguyễn, we're sorry: your visit on Tue 3 Mar will not go "
	                 "ahead as planned. Flooding has closed the roads around Wrenfield. We "
	                 "will be in touch, or choose a new time: " LINK);
	otd_message_cleanup(&m);
}
END_TEST

START_TEST(a_hostile_name_is_escaped_in_html_of_every_kind)
{
	struct otd_message_context c = full_context();
	c.customer_name = XSS;
	c.reason_text = "<script>x</script>";
	c.disruption_note = "<b>flood</b>";
	for(size_t k = 0; k < N_KINDS; k++) {
		struct otd_message m;
		otd_message_render(all_kinds[k], &c, &m);
		ck_assert_msg(strstr(m.html, "<img") == NULL, "%s", m.template);
		ck_assert_msg(strstr(m.html, "<script") == NULL, "%s", m.template);
		ck_assert_msg(strstr(m.html, "<b>") == NULL, "%s", m.template);
		ck_assert_int_eq(strncmp(m.html, "<p>Dear " XSS_HTML ",</p>\n",
		                         strlen("<p>Dear " XSS_HTML ",</p>\n")),
		                 0);
		/* As typed in the plain parts. */
		ck_assert_int_eq(strncmp(m.text, "Dear " XSS ",\n\n", strlen("Dear " XSS ",\n\n")),
		                 0);
		ck_assert_int_eq(strncmp(m.sms, XSS ", ", strlen(XSS ", ")), 0);
		otd_message_cleanup(&m);
	}
}
END_TEST

/* ---- sets of templates ------------------------------------------------------- */

/* The built-in files, with name replaced by text when name is not NULL
 * (and left out when text is NULL). Returns the count. */
static size_t builtin_files(const char **names, const char **texts, size_t *lens, const char *name,
                            const char *text)
{
	size_t n = 0;
	for(size_t i = 0; i < otd_templates_count; i++) {
		bool replaced = name && strcmp(otd_templates[i].name, name) == 0;
		if(replaced && !text)
			continue;
		names[n] = otd_templates[i].name;
		texts[n] = replaced ? text : (const char *)otd_templates[i].data;
		lens[n] = replaced ? strlen(text) : otd_templates[i].len;
		n++;
	}
	return n;
}

#define PLAIN_REMINDER                                                                             \
	"# An organisation's own reminder.\n"                                                      \
	"[subject]\nSee you {{date}}\n"                                                            \
	"[text]\nHello {{customer_name}}, {{visitor_first_name}} comes {{window}}.\n"              \
	"[html]\n<p>Hello {{customer_name}}</p>\n"                                                 \
	"[sms]\nHello {{customer_name}}, {{window_brief}}. {{link}}\n"

START_TEST(an_override_replaces_one_kind_only)
{
	ck_assert_uint_eq(otd_templates_count, OTD_MSG_KIND_COUNT);
	const char *names[32], *texts[32];
	size_t lens[32];
	size_t n = builtin_files(names, texts, lens, "reminder.tmpl", PLAIN_REMINDER);
	struct otd_message_set *set = NULL;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(otd_message_set_parse(names, texts, lens, n, &set, &err) == OTD_OK, "%s",
	              err.message);
	struct otd_message_context c = context();
	c.set = set;
	struct otd_message m;
	otd_message_render(OTD_MSG_REMINDER, &c, &m);
	ck_assert_str_eq(m.template, "reminder");
	ck_assert_str_eq(m.subject, "See you Tuesday 3 March");
	ck_assert_str_eq(m.text, "Hello Zoë O'Brien-Nguyễn, Ann comes Tuesday 3 March, 10:00 to "
	                         "11:00.\n");
	ck_assert_str_eq(m.html, "<p>Hello Zoë O&#39;Brien-Nguyễn</p>\n");
	ck_assert_str_eq(m.sms, "Hello Zoë O'Brien-Nguyễn, Tue 3 Mar, 10:00-11:00. " LINK);
	ck_assert_int_eq(m.sms_segments, 2);
	otd_message_cleanup(&m);
	/* The others keep the built-in words. */
	otd_message_render(OTD_MSG_BOOKED, &c, &m);
	struct otd_message d;
	c.set = NULL;
	otd_message_render(OTD_MSG_BOOKED, &c, &d);
	ck_assert_str_eq(m.text, d.text);
	ck_assert_str_eq(m.sms, d.sms);
	otd_message_cleanup(&m);
	otd_message_cleanup(&d);
	otd_message_set_free(set);
	otd_message_set_free(NULL);
}
END_TEST

/* Parses the built-in set with name replaced by text; expects failure with
 * code and the message want. */
static void expect_set_error(const char *name, const char *text, const char *code, const char *want)
{
	const char *names[32], *texts[32];
	size_t lens[32];
	size_t n = builtin_files(names, texts, lens, name, text);
	struct otd_message_set *set = (struct otd_message_set *)&n; /* must become NULL */
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(otd_message_set_parse(names, texts, lens, n, &set, &err), OTD_EINVAL);
	ck_assert_ptr_null(set);
	ck_assert_str_eq(err.code, code);
	ck_assert_str_eq(err.message, want);
}

START_TEST(an_invalid_template_names_its_file_and_line)
{
	/* A misspelt variable, and one the kind does not have. */
	expect_set_error(
	    "reminder.tmpl",
	    "[subject]\nSee you\n[text]\nHello {{custmer_name}}\n[html]\nx\n[sms]\nx\n",
	    "template_variable", "reminder.tmpl line 4: unknown variable {{custmer_name}}");
	expect_set_error(
	    "booking_confirmation.tmpl",
	    "# c\n[subject]\nx\n[text]\nx\n[html]\nx\n[sms]\n{{#offers}}2{{/offers}}\n",
	    "template_variable", "booking_confirmation.tmpl line 9: unknown variable {{#offers}}");
	/* A block left open. */
	expect_set_error("apology.tmpl", "[subject]\nx\n[text]\n{{#offer3}}\n[html]\nx\n[sms]\nx\n",
	                 "template_syntax",
	                 "apology.tmpl line 4: {{#offer3}} is not closed in [text]");
	/* Every section is needed. */
	expect_set_error("apology.tmpl", "[subject]\nx\n[text]\nx\n[html]\nx\n", "template_section",
	                 "apology.tmpl: no [sms] section (every message has [subject], [text], "
	                 "[html] and [sms])");
	/* Every kind is needed. */
	expect_set_error("disruption.tmpl", NULL, "template_missing",
	                 "disruption.tmpl: missing (every message needs its template)");
	/* A name no kind has, and a kind given twice. */
	const char *names[] = {"remindr.tmpl"}, *texts[] = {PLAIN_REMINDER};
	struct otd_message_set *set = NULL;
	struct otd_error err;
	ck_assert_int_eq(otd_message_set_parse(names, texts, NULL, 1, &set, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "template_name");
	ck_assert_int_eq(strncmp(err.message, "remindr.tmpl: no message has this template", 42), 0);
	const char *twice[] = {"reminder.tmpl", "reminder.tmpl"},
	           *twice_texts[] = {PLAIN_REMINDER, PLAIN_REMINDER};
	ck_assert_int_eq(otd_message_set_parse(twice, twice_texts, NULL, 2, &set, &err),
	                 OTD_EINVAL);
	ck_assert_str_eq(err.message, "reminder.tmpl: given twice");
	ck_assert_ptr_null(set);
}
END_TEST

START_TEST(html_escape_covers_text_and_attribute_characters)
{
	struct otd_buf b;
	otd_buf_init(&b, 0);
	otd_html_escape(&b, "a&b<c>d\"e'f Zoë");
	ck_assert_str_eq(b.data, "a&amp;b&lt;c&gt;d&quot;e&#39;f Zoë");
	otd_buf_cleanup(&b);
	otd_buf_init(&b, 0);
	otd_html_escape(&b, "");
	ck_assert_uint_eq(b.len, 0);
	otd_buf_cleanup(&b);
}
END_TEST

/* ---- windows around the changes of the clocks ----------------------------- */

static const char *window(const char *from, const char *to, bool brief)
{
	static char out[2][96];
	static int k;
	k ^= 1;
	otd_window_text(london, at(from), at(to), brief, out[k], sizeof(out[k]));
	return out[k];
}

START_TEST(windows_around_the_spring_change)
{
	/* Saturday, the day before: GMT. */
	ck_assert_str_eq(window("2026-03-28T10:00:00Z", "2026-03-28T11:00:00Z", false),
	                 "Saturday 28 March, 10:00 to 11:00");
	ck_assert_str_eq(window("2026-03-28T10:00:00Z", "2026-03-28T11:00:00Z", true),
	                 "Sat 28 Mar, 10:00-11:00");
	/* Sunday 29 March: at 01:00 GMT the clocks go to 02:00 BST. A window
	 * across the jump reads two wall-clock hours for one real hour. */
	ck_assert_str_eq(window("2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z", false),
	                 "Sunday 29 March, 00:30 to 02:30");
	ck_assert_str_eq(window("2026-03-29T00:00:00Z", "2026-03-29T00:59:59Z", true),
	                 "Sun 29 Mar, 00:00-00:59");
	ck_assert_str_eq(window("2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z", true),
	                 "Sun 29 Mar, 02:00-03:00");
	/* The rest of that day and the Monday after: BST. */
	ck_assert_str_eq(window("2026-03-29T09:00:00Z", "2026-03-29T10:00:00Z", false),
	                 "Sunday 29 March, 10:00 to 11:00");
	ck_assert_str_eq(window("2026-03-30T08:00:00Z", "2026-03-30T10:00:00Z", false),
	                 "Monday 30 March, 09:00 to 11:00");
	ck_assert_str_eq(window("2026-03-30T08:00:00Z", "2026-03-30T10:00:00Z", true),
	                 "Mon 30 Mar, 09:00-11:00");
	/* A BST window that starts on the local day before its UTC date. */
	ck_assert_str_eq(window("2026-03-30T23:30:00Z", "2026-03-31T00:00:00Z", false),
	                 "Tuesday 31 March, 00:30 to 01:00");
}
END_TEST

START_TEST(windows_around_the_autumn_change)
{
	/* Saturday 24 October: BST. */
	ck_assert_str_eq(window("2026-10-24T09:00:00Z", "2026-10-24T10:00:00Z", false),
	                 "Saturday 24 October, 10:00 to 11:00");
	ck_assert_str_eq(window("2026-10-24T09:00:00Z", "2026-10-24T10:00:00Z", true),
	                 "Sat 24 Oct, 10:00-11:00");
	/* Sunday 25 October: at 01:00 GMT (02:00 BST) the clocks go back to
	 * 01:00. From local midnight to 02:00 GMT is three real hours. */
	ck_assert_str_eq(window("2026-10-24T23:00:00Z", "2026-10-25T02:00:00Z", false),
	                 "Sunday 25 October, 00:00 to 02:00");
	ck_assert_str_eq(window("2026-10-25T00:59:00Z", "2026-10-25T01:00:00Z", true),
	                 "Sun 25 Oct, 01:59-01:00");
	/* An hour inside the repeated hour reads the same wall time twice. */
	ck_assert_str_eq(window("2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z", true),
	                 "Sun 25 Oct, 01:30-01:30");
	/* After the change: GMT, the wall clock equals UTC. */
	ck_assert_str_eq(window("2026-10-25T10:00:00Z", "2026-10-25T11:00:00Z", false),
	                 "Sunday 25 October, 10:00 to 11:00");
	ck_assert_str_eq(window("2026-10-26T10:00:00Z", "2026-10-26T12:00:00Z", true),
	                 "Mon 26 Oct, 10:00-12:00");
}
END_TEST

START_TEST(window_text_is_cut_to_the_buffer)
{
	char small[12];
	otd_window_text(london, at("2026-03-03T10:00:00Z"), at("2026-03-03T11:00:00Z"), false,
	                small, sizeof(small));
	ck_assert_str_eq(small, "Tuesday 3 M");
	/* Every month and weekday name, in full and brief. */
	static const char *const want[] = {
	    "Thursday 1 January, 10:00 to 11:00",  "Sunday 1 February, 10:00 to 11:00",
	    "Sunday 1 March, 10:00 to 11:00",      "Wednesday 1 April, 10:00 to 11:00",
	    "Friday 1 May, 10:00 to 11:00",        "Monday 1 June, 10:00 to 11:00",
	    "Wednesday 1 July, 10:00 to 11:00",    "Saturday 1 August, 10:00 to 11:00",
	    "Tuesday 1 September, 10:00 to 11:00", "Thursday 1 October, 10:00 to 11:00",
	    "Sunday 1 November, 10:00 to 11:00",   "Tuesday 1 December, 10:00 to 11:00"};
	static const char *const brief[] = {"Thu 1 Jan", "Sun 1 Feb", "Sun 1 Mar", "Wed 1 Apr",
	                                    "Fri 1 May", "Mon 1 Jun", "Wed 1 Jul", "Sat 1 Aug",
	                                    "Tue 1 Sep", "Thu 1 Oct", "Sun 1 Nov", "Tue 1 Dec"};
	for(int mo = 1; mo <= 12; mo++) {
		struct otd_civil c = {2026, mo, 1, 10, 0, 0};
		int64_t start;
		otd_tz_from_local(london, &c, &start, NULL);
		char out[96];
		otd_window_text(london, start, start + 3600, false, out, sizeof(out));
		ck_assert_str_eq(out, want[mo - 1]);
		otd_window_text(london, start, start + 3600, true, out, sizeof(out));
		ck_assert_int_eq(strncmp(out, brief[mo - 1], strlen(brief[mo - 1])), 0);
		ck_assert_str_eq(out + strlen(brief[mo - 1]), ", 10:00-11:00");
	}
}
END_TEST

START_TEST(every_email_links_the_privacy_notice)
{
	struct otd_message_context c = full_context();
	c.privacy = "https://visits.example.org/privacy?a=1&b=2";
	for(size_t k = 0; k < OTD_MSG_KIND_COUNT; k++) {
		struct otd_message m;
		otd_message_render((enum otd_message_kind)k, &c, &m);
		ck_assert_msg(strstr(m.text, "How we use your details: "
		                             "https://visits.example.org/privacy?a=1&b=2\n"),
		              "%s text", m.template);
		ck_assert_msg(strstr(m.html,
		                     "<a href=\"https://visits.example.org/privacy?a=1&amp;b=2\">"
		                     "How we use your details</a>"),
		              "%s html", m.template);
		otd_message_cleanup(&m);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("message");
	TCase *tc = tcase_create("message");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, booked_names_the_window_the_visitor_and_who_signs);
	tcase_add_test(tc, every_email_links_the_privacy_notice);
	tcase_add_test(tc, rescheduled_says_the_new_and_the_old_window);
	tcase_add_test(tc, cancelled_by_the_customer_or_by_us_with_a_reason);
	tcase_add_test(tc, waitlist_offer_names_the_window_and_how_long_it_is_held);
	tcase_add_test(tc, new_link_says_old_links_stop_working);
	tcase_add_test(tc, hostile_values_are_escaped_in_html_and_verbatim_elsewhere);
	tcase_add_test(tc, every_kind_renders_every_section);
	tcase_add_test(tc, sms_stays_within_its_segments_with_long_values);
	tcase_add_test(tc, apology_with_none_one_or_two_offers_and_replies_or_not);
	tcase_add_test(tc, the_other_new_kinds_say_what_they_are_for);
	tcase_add_test(tc, a_hostile_name_is_escaped_in_html_of_every_kind);
	tcase_add_test(tc, an_override_replaces_one_kind_only);
	tcase_add_test(tc, an_invalid_template_names_its_file_and_line);
	tcase_add_test(tc, html_escape_covers_text_and_attribute_characters);
	tcase_add_test(tc, windows_around_the_spring_change);
	tcase_add_test(tc, windows_around_the_autumn_change);
	tcase_add_test(tc, window_text_is_cut_to_the_buffer);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
