/* onthedot: the words of customer messages, pure.
 *
 * Personal and human (DESIGN.md, Messaging): the customer's name as they
 * gave it, the visitor's first name and role, a named person signing with
 * a number a human answers; all times in the organisation's zone with the
 * day named. The HTML part escapes every value; the text and SMS parts
 * are plain. (The messaging issue moves the words into template files.) */
#ifndef ONTHEDOT_MESSAGE_H
#define ONTHEDOT_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onthedot/tz.h"

/* A window for people: "Tuesday 3 March, 10:00 to 11:00", or brief for
 * SMS: "Tue 3 Mar, 10:00-11:00". */
void otd_window_text(const struct otd_tz *tz, int64_t start, int64_t end, bool brief, char *out,
                     size_t size);

enum otd_message_kind {
	OTD_MSG_BOOKED,
	OTD_MSG_RESCHEDULED,
	OTD_MSG_CANCELLED,
	OTD_MSG_WAITLIST_OFFER,
	OTD_MSG_NEW_LINK,
};

struct otd_message_context {
	const struct otd_tz *tz;
	const char *organisation;
	const char *signature; /* a named person */
	const char *phone;     /* "" when none */
	const char *customer_name;
	const char *visit_type;  /* "Boiler repair" */
	const char *visitor_first_name;
	const char *visitor_role; /* "Gas engineer" */
	const char *address;      /* one line */
	int64_t start, end;       /* the window */
	int64_t old_start, old_end; /* rescheduled: the previous window */
	int64_t offer_until;        /* waitlist offers: the hold's expiry */
	bool by_customer;           /* cancelled: at the customer's request */
	const char *reason;         /* cancelled by us: why, or NULL */
	const char *link;           /* the manage link (or the offer's link) */
};

struct otd_message {
	char *template; /* "booking_confirmation", ... (static) */
	char *subject;
	char *text;
	char *html;
	char *sms;
};

/* Renders kind into out (heap strings; free with otd_message_cleanup). */
void otd_message_render(enum otd_message_kind kind, const struct otd_message_context *ctx,
                        struct otd_message *out);

void otd_message_cleanup(struct otd_message *m);

/* Appends s to b escaped for HTML text and attribute values. */
struct otd_buf;
void otd_html_escape(struct otd_buf *b, const char *s);

#endif
