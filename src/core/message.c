/* Customer messages: booking, reschedule, cancel, waitlist offer, new link. */
#include "onthedot/message.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"

static const char *const day_names[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                        "Friday", "Saturday", "Sunday"};
static const char *const month_names[] = {"January", "February", "March",     "April",
                                          "May",     "June",     "July",      "August",
                                          "September", "October", "November", "December"};

void otd_window_text(const struct otd_tz *tz, int64_t start, int64_t end, bool brief, char *out,
                     size_t size)
{
	struct otd_local s, e;
	otd_tz_to_local(tz, start, &s);
	otd_tz_to_local(tz, end, &e);
	if(brief)
		snprintf(out, size, "%.3s %d %.3s, %02d:%02d-%02d:%02d", day_names[s.weekday], s.c.day,
		         month_names[s.c.month - 1], s.c.hour, s.c.minute, e.c.hour, e.c.minute);
	else
		snprintf(out, size, "%s %d %s, %02d:%02d to %02d:%02d", day_names[s.weekday], s.c.day,
		         month_names[s.c.month - 1], s.c.hour, s.c.minute, e.c.hour, e.c.minute);
}

void otd_html_escape(struct otd_buf *b, const char *s)
{
	for(; *s; s++) {
		switch(*s) {
		case '&': otd_buf_puts(b, "&amp;"); break;
		case '<': otd_buf_puts(b, "&lt;"); break;
		case '>': otd_buf_puts(b, "&gt;"); break;
		case '"': otd_buf_puts(b, "&quot;"); break;
		case '\'': otd_buf_puts(b, "&#39;"); break;
		default: otd_buf_append(b, s, 1);
		}
	}
}

/* The visit type in running text: "boiler repair" (first letter lowered
 * unless the word looks like an acronym). */
static void lower_first(char *out, size_t size, const char *s)
{
	snprintf(out, size, "%s", s);
	if(out[0] && !(out[1] && isupper((unsigned char)out[1])))
		out[0] = (char)tolower((unsigned char)out[0]);
}

/* Appends a paragraph to text and, escaped, to html. */
struct parts {
	struct otd_buf text, html;
};

static void para(struct parts *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void para(struct parts *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	s = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	otd_buf_puts(&p->text, s);
	otd_buf_puts(&p->text, "\n\n");
	otd_buf_puts(&p->html, "<p>");
	otd_html_escape(&p->html, s);
	otd_buf_puts(&p->html, "</p>\n");
	free(s);
}

static void link_para(struct parts *p, const char *lead, const char *link)
{
	otd_buf_printf(&p->text, "%s %s\n\n", lead, link);
	otd_buf_puts(&p->html, "<p>");
	otd_html_escape(&p->html, lead);
	otd_buf_puts(&p->html, " <a href=\"");
	otd_html_escape(&p->html, link);
	otd_buf_puts(&p->html, "\">");
	otd_html_escape(&p->html, link);
	otd_buf_puts(&p->html, "</a></p>\n");
}

static void signature(struct parts *p, const struct otd_message_context *c)
{
	otd_buf_printf(&p->text, "%s\n%s\n", c->signature, c->organisation);
	otd_buf_puts(&p->html, "<p>");
	otd_html_escape(&p->html, c->signature);
	otd_buf_puts(&p->html, "<br>");
	otd_html_escape(&p->html, c->organisation);
	if(c->phone && c->phone[0]) {
		otd_buf_printf(&p->text, "%s\n", c->phone);
		otd_buf_puts(&p->html, "<br>");
		otd_html_escape(&p->html, c->phone);
	}
	otd_buf_puts(&p->html, "</p>\n");
}

void otd_message_render(enum otd_message_kind kind, const struct otd_message_context *c,
                        struct otd_message *out)
{
	memset(out, 0, sizeof(*out));
	char when[96], when_brief[64], old[96], old_brief[64], until[96], what[220];
	otd_window_text(c->tz, c->start, c->end, false, when, sizeof(when));
	otd_window_text(c->tz, c->start, c->end, true, when_brief, sizeof(when_brief));
	old[0] = old_brief[0] = until[0] = '\0';
	if(c->old_start) {
		otd_window_text(c->tz, c->old_start, c->old_end, false, old, sizeof(old));
		otd_window_text(c->tz, c->old_start, c->old_end, true, old_brief, sizeof(old_brief));
	}
	if(c->offer_until) {
		struct otd_local l;
		otd_tz_to_local(c->tz, c->offer_until, &l);
		snprintf(until, sizeof(until), "%02d:%02d on %s %d %s", l.c.hour, l.c.minute,
		         day_names[l.weekday], l.c.day, month_names[l.c.month - 1]);
	}
	lower_first(what, sizeof(what), c->visit_type);
	char role[160];
	lower_first(role, sizeof(role), c->visitor_role);
	struct parts p;
	otd_buf_init(&p.text, 0);
	otd_buf_init(&p.html, 0);
	struct otd_buf subject, sms;
	otd_buf_init(&subject, 0);
	otd_buf_init(&sms, 0);
	para(&p, "Dear %s,", c->customer_name);
	switch(kind) {
	case OTD_MSG_BOOKED:
		out->template = "booking_confirmation";
		otd_buf_printf(&subject, "Your %s: %s", what, when);
		para(&p, "Your %s is booked for %s, at %s. %s, our %s, will come to you.", what, when,
		     c->address, c->visitor_first_name, role);
		para(&p, "If anything changes on our side, we will tell you as soon as we know, "
		         "not after.");
		link_para(&p, "To see your visit, move it or cancel it:", c->link);
		otd_buf_printf(&sms, "%s: your %s is booked for %s. %s (%s) will come. Manage: %s",
		               c->organisation, what, when_brief, c->visitor_first_name, role, c->link);
		break;
	case OTD_MSG_RESCHEDULED:
		out->template = "rescheduled";
		otd_buf_printf(&subject, "Your %s has moved: %s", what, when);
		para(&p, "Your %s is now on %s (it was %s), at %s. %s, our %s, will come to you.", what,
		     when, old, c->address, c->visitor_first_name, role);
		link_para(&p, "Your link still works:", c->link);
		otd_buf_printf(&sms, "%s: your %s has moved to %s (was %s). Manage: %s",
		               c->organisation, what, when_brief, old_brief, c->link);
		break;
	case OTD_MSG_CANCELLED:
		out->template = "cancelled";
		otd_buf_printf(&subject, "Your %s on %s is cancelled", what, when);
		if(c->by_customer) {
			para(&p, "Your %s on %s is cancelled, as you asked.", what, when);
			otd_buf_printf(&sms, "%s: your %s on %s is cancelled, as you asked.",
			               c->organisation, what, when_brief);
		} else {
			para(&p, "We are sorry: we have had to cancel your %s on %s.%s%s", what, when,
			     c->reason ? " The reason: " : "", c->reason ? c->reason : "");
			para(&p, "Please call us and we will find you a new time first.");
			otd_buf_printf(&sms, "%s: we are sorry, we have had to cancel your %s on %s. "
			                     "Please call us%s%s.",
			               c->organisation, what, when_brief, c->phone[0] ? " on " : "",
			               c->phone);
		}
		break;
	case OTD_MSG_WAITLIST_OFFER:
		out->template = "waitlist_offer";
		otd_buf_printf(&subject, "An earlier time for your %s: %s", what, when);
		para(&p, "You asked for an earlier time. %s is free and we are holding it for you "
		         "until %s.",
		     when, until);
		link_para(&p, "To take it, or see your visit:", c->link);
		para(&p, "If you do nothing, your visit stays on %s.", old);
		otd_buf_printf(&sms, "%s: an earlier time is free for your %s: %s, held until %s. "
		                     "Take it: %s",
		               c->organisation, what, when_brief, until, c->link);
		break;
	case OTD_MSG_NEW_LINK:
		out->template = "new_link";
		otd_buf_printf(&subject, "Your new link for your %s", what);
		para(&p, "Here is your new link for your %s on %s. Links we sent before no longer "
		         "work.",
		     what, when);
		link_para(&p, "Your visit:", c->link);
		otd_buf_printf(&sms, "%s: your new link for your %s on %s: %s", c->organisation, what,
		               when_brief, c->link);
		break;
	}
	signature(&p, c);
	out->subject = otd_buf_steal(&subject);
	out->text = otd_buf_steal(&p.text);
	out->html = otd_buf_steal(&p.html);
	out->sms = otd_buf_steal(&sms);
}

void otd_message_cleanup(struct otd_message *m)
{
	free(m->subject);
	free(m->text);
	free(m->html);
	free(m->sms);
	memset(m, 0, sizeof(*m));
}
