/* onthedot: the words of customer messages, pure.
 *
 * Personal and human (DESIGN.md, Messaging): the customer's name as they
 * gave it, the visitor's first name and role, a named person signing with
 * a number a human answers; all times in the organisation's zone with the
 * day named. The words live in template files, one per message kind
 * (contrib/templates/NAME.tmpl, embedded into the binary; an organisation
 * may override any of them, see src/app/messages.c). Core parses and
 * renders them (onthedot/template.h) but never reads a file: the caller
 * hands it the texts. The HTML part escapes every value; the text and SMS
 * parts are plain. */
#ifndef ONTHEDOT_MESSAGE_H
#define ONTHEDOT_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onthedot/status.h"
#include "onthedot/tz.h"

/* A window for people: "Tuesday 3 March, 10:00 to 11:00", or brief for
 * SMS: "Tue 3 Mar, 10:00-11:00", in tz. Cut to fit size (NUL-terminated). */
void otd_window_text(const struct otd_tz *tz, int64_t start, int64_t end, bool brief, char *out,
                     size_t size);

/* The kinds of message; each has its template NAME.tmpl (the name is
 * otd_message_template_name). New kinds go at the end. */
enum otd_message_kind {
	OTD_MSG_BOOKED,         /* "booking_confirmation" */
	OTD_MSG_RESCHEDULED,    /* "rescheduled": the new and the old window */
	OTD_MSG_CANCELLED,      /* "cancelled": by the customer, or by us (reason) */
	OTD_MSG_WAITLIST_OFFER, /* "waitlist_offer": an earlier window, held */
	OTD_MSG_NEW_LINK,       /* "new_link": old links stop working */
	OTD_MSG_REMINDER,       /* "reminder": the day before */
	OTD_MSG_ON_THE_WAY,     /* "on_the_way": travelling, the expected band */
	OTD_MSG_AT_RISK,        /* "apology": late; the new band, held windows */
	OTD_MSG_UPDATE,         /* "update": the expected band moved 15 minutes or more */
	OTD_MSG_BACK_ON_TIME,   /* "back_on_time": the window will be kept after all */
	OTD_MSG_CANNOT_ATTEND,  /* "cannot_attend": the visitor cannot come; held windows */
	OTD_MSG_BROKEN,         /* "promise_broken": the window was missed; compensation */
	OTD_MSG_FEEDBACK,       /* "feedback_request": after the visit, 1 to 5 and a comment */
	OTD_MSG_DISRUPTION,     /* "disruption": area-wide, the visit will not go ahead */
	OTD_MSG_REASSIGNED,     /* "visitor_changed": same window, another visitor */
	OTD_MSG_PERSONAL,       /* "personal": a dispatcher's own words about the visit */
};

#define OTD_MSG_KIND_COUNT ((size_t)OTD_MSG_PERSONAL + 1)

/* Characters of a personal message: it must fit the text message with
 * the greeting and the link (4 UCS-2 segments at most). */
#define OTD_PERSONAL_NOTE_MAX 140

/* Windows an apology or a cannot-attend message offers ("2" and "3"). */
#define OTD_MESSAGE_MAX_OFFERS 2

/* The template name of kind ("apology"; its file is "apology.tmpl"), a
 * static string; NULL when kind is not a kind. */
const char *otd_message_template_name(enum otd_message_kind kind);

/* The variables kind's template may use, as a static array of *n static
 * names; (NULL, 0) when kind is not a kind. */
const char *const *otd_message_variables(enum otd_message_kind kind, size_t *n);

/* A parsed, checked template for every kind; immutable once made, so any
 * number of threads may render with one. */
struct otd_message_set;

/* Parses the n template files texts[i] (lens[i] bytes; lens may be NULL
 * for NUL-terminated texts) named names[i] ("apology.tmpl", the file name
 * without a directory) into a new set the caller frees with
 * otd_message_set_free; it copies what it needs. Every kind must appear
 * exactly once, with the sections [subject], [text], [html] and [sms],
 * each using only the kind's variables (otd_message_variables). Fails with
 * OTD_EINVAL, *out NULL and err's message naming the file and, when the
 * fault is on a line, the line ("apology.tmpl line 7: unknown variable
 * {{nmae}}"): a template error of otd_template_parse (its codes); a name
 * that is no kind's "NAME.tmpl" or given twice (template_name); a missing
 * section (template_section); a kind with no template (template_missing). */
enum otd_status otd_message_set_parse(const char *const *names, const char *const *texts,
                                      const size_t *lens, size_t n, struct otd_message_set **out,
                                      struct otd_error *err);

/* The built-in set (the embedded contrib/templates), parsed on first use,
 * once, whichever thread asks first; never freed. NULL only if the
 * built-in templates do not parse, a build defect the unit tests catch;
 * err (may be NULL) then says why. */
const struct otd_message_set *otd_message_set_default(struct otd_error *err);

/* Frees set; NULL is allowed. Never pass the default set. */
void otd_message_set_free(struct otd_message_set *set);

/* What a message is about. Strings may be NULL where "or NULL" is said;
 * times are UTC seconds, 0 meaning "none" where said. */
struct otd_message_context {
	const struct otd_tz *tz; /* the organisation's zone: every time is shown in it */
	const char *organisation;
	const char *signature; /* a named person */
	const char *phone;     /* a direct number; "" or NULL when none */
	const char *customer_name;
	const char *visit_type; /* "Boiler repair" */
	const char *visitor_first_name;
	const char *visitor_role;   /* "Gas engineer" */
	const char *address;        /* one line */
	int64_t start, end;         /* the window */
	int64_t old_start, old_end; /* rescheduled: the previous window; waitlist: the booked one */
	int64_t offer_until; /* offers (waitlist, apology, cannot attend): the holds' expiry */
	bool by_customer;    /* cancelled: at the customer's request */
	const char *reason;  /* cancelled by us: why, or NULL */
	const char *link;    /* the manage link (or the offer's, or the booking page) */
	const char *privacy; /* the privacy notice's URL; "" or NULL: none */

	const struct otd_message_set *set;     /* the templates; NULL = the built-in ones */
	int64_t expected_early, expected_late; /* the expected arrival band; 0 = unknown */
	size_t n_offers; /* windows held for the customer: 0 to OTD_MESSAGE_MAX_OFFERS */
	struct {
		int64_t start, end;
	} offers[OTD_MESSAGE_MAX_OFFERS]; /* offers[0] is "2", offers[1] is "3" */
	const char *reason_text;          /* apology, cannot attend, broken: why, or NULL */
	bool replies_enabled;             /* the customer may answer the SMS with 1, 2 or 3 */
	const char *compensation;         /* broken: what is owed, "£40.00"; "" or NULL for none */
	const char *pay_by;               /* broken: when it is paid by, "Friday 13 March" */
	const char *disruption_note;      /* disruption: the dispatcher's words, or NULL */
	const char *note;                 /* personal: the dispatcher's words */
};

struct otd_message {
	char *template; /* "booking_confirmation", ... (static) */
	char *subject;
	char *text;
	char *html;
	char *sms;
	int sms_segments; /* parts the SMS goes as (otd_sms_info); 0 if not UTF-8 */
	bool sms_gsm7;    /* the SMS fits GSM-7; otherwise it goes as UCS-2 */
};

/* Renders kind with ctx->set (or the built-in set) into out: heap strings
 * the caller frees with otd_message_cleanup, never NULL; subject and SMS
 * are one line, text and HTML end with a newline. Cannot fail: should the
 * built-in set be broken (see otd_message_set_default) the parts are
 * empty. */
void otd_message_render(enum otd_message_kind kind, const struct otd_message_context *ctx,
                        struct otd_message *out);

/* Frees the parts of m and zeroes it. */
void otd_message_cleanup(struct otd_message *m);

/* Appends s to b escaped for HTML text and attribute values. */
struct otd_buf;
void otd_html_escape(struct otd_buf *b, const char *s);

#endif
