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
#include "onthedot/message.h"
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
	ck_assert_str_eq(m.sms, "Wrenfield Water: your boiler repair is booked for Tue 3 Mar, "
	                        "10:00-11:00. Ann (gas engineer) will come. Manage: " LINK);
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
	ck_assert_str_eq(m.sms, "Wrenfield Water: your MOT check is booked for Tue 1 Sep, "
	                        "09:00-11:00. Ann (DVSA examiner) will come. Manage: " LINK);
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
	ck_assert_str_eq(m.sms, "Wrenfield Water: your boiler repair has moved to Tue 14 Apr, "
	                        "09:00-10:00 (was Tue 3 Mar, 10:00-11:00). Manage: " LINK);
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
	ck_assert_str_eq(m.sms, "Wrenfield Water: your boiler repair on Tue 3 Mar, 10:00-11:00 is "
	                        "cancelled, as you asked.");
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
	ck_assert_str_eq(m.sms,
	                 "Wrenfield Water: we are sorry, we have had to cancel your boiler "
	                 "repair on Tue 3 Mar, 10:00-11:00. Please call us on 01632 960123.");
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
	ck_assert_str_eq(m.sms, "Wrenfield Water: we are sorry, we have had to cancel your boiler "
	                        "repair on Tue 3 Mar, 10:00-11:00. Please call us.");
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
	ck_assert_str_eq(m.sms, "Wrenfield Water: an earlier time is free for your boiler repair: "
	                        "Tue 3 Mar, 10:00-11:00, held until 12:30 on Monday 2 March. Take "
	                        "it: " LINK);
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
	                 "Wrenfield Water: your new link for your boiler repair on Tue 3 Mar, "
	                 "10:00-11:00: " LINK);
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
	    strstr(m.html, "The reason: &lt;script&gt;alert(1)&lt;/script&gt;</p>\n"));
	ck_assert_ptr_nonnull(strstr(m.text, "The reason: <script>alert(1)</script>\n\n"));
	otd_message_cleanup(&m);
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

int main(void)
{
	Suite *s = suite_create("message");
	TCase *tc = tcase_create("message");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, booked_names_the_window_the_visitor_and_who_signs);
	tcase_add_test(tc, rescheduled_says_the_new_and_the_old_window);
	tcase_add_test(tc, cancelled_by_the_customer_or_by_us_with_a_reason);
	tcase_add_test(tc, waitlist_offer_names_the_window_and_how_long_it_is_held);
	tcase_add_test(tc, new_link_says_old_links_stop_working);
	tcase_add_test(tc, hostile_values_are_escaped_in_html_and_verbatim_elsewhere);
	tcase_add_test(tc, html_escape_covers_text_and_attribute_characters);
	tcase_add_test(tc, windows_around_the_spring_change);
	tcase_add_test(tc, windows_around_the_autumn_change);
	tcase_add_test(tc, window_text_is_cut_to_the_buffer);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
