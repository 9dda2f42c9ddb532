/* Customer messages: the variables each kind's template may use, the set
 * of parsed templates, and rendering (the words are in contrib/templates). */
#include "onthedot/message.h"

#include <assert.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/asset.h"
#include "onthedot/mem.h"
#include "onthedot/sms.h"
#include "onthedot/template.h"

static const char *const day_names[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                        "Friday", "Saturday", "Sunday"};
static const char *const month_names[] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};

void otd_window_text(const struct otd_tz *tz, int64_t start, int64_t end, bool brief, char *out,
                     size_t size)
{
	struct otd_local s, e;
	otd_tz_to_local(tz, start, &s);
	otd_tz_to_local(tz, end, &e);
	if(brief)
		snprintf(out, size, "%.3s %d %.3s, %02d:%02d-%02d:%02d", day_names[s.weekday],
		         s.c.day, month_names[s.c.month - 1], s.c.hour, s.c.minute, e.c.hour,
		         e.c.minute);
	else
		snprintf(out, size, "%s %d %s, %02d:%02d to %02d:%02d", day_names[s.weekday],
		         s.c.day, month_names[s.c.month - 1], s.c.hour, s.c.minute, e.c.hour,
		         e.c.minute);
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

/* ---- the variables ------------------------------------------------------ */

/* Every variable a template can name. A template may use those common to
 * all kinds and those its kind adds (kinds[].vars). */
enum var {
	V_ORGANISATION,
	V_SIGNATURE,
	V_PHONE,
	V_CUSTOMER_NAME,
	V_VISIT_TYPE,
	V_VISITOR_FIRST_NAME,
	V_VISITOR_ROLE,
	V_ADDRESS,
	V_WINDOW,
	V_WINDOW_BRIEF,
	V_DATE,
	V_DATE_BRIEF,
	V_LINK,
	V_PRIVACY,
	V_COMMON_END, /* the variables above are common to every kind */
	V_OLD_WINDOW = V_COMMON_END,
	V_OLD_WINDOW_BRIEF,
	V_BY_CUSTOMER,
	V_REASON,
	V_OFFER_UNTIL,
	V_OFFER_UNTIL_BRIEF,
	V_OFFER_UNTIL_TIME,
	V_EXPECTED,
	V_EXPECTED_BRIEF,
	V_OFFERS,
	V_OFFER2,
	V_OFFER2_BRIEF,
	V_OFFER3,
	V_OFFER3_BRIEF,
	V_REPLIES,
	V_COMPENSATION,
	V_PAY_BY,
	V_DISRUPTION_NOTE,
	V_NOTE,
	V_COUNT
};

static const char *const var_names[V_COUNT] = {
    [V_ORGANISATION] = "organisation",
    [V_SIGNATURE] = "signature",
    [V_PHONE] = "phone",
    [V_CUSTOMER_NAME] = "customer_name",
    [V_VISIT_TYPE] = "visit_type",
    [V_VISITOR_FIRST_NAME] = "visitor_first_name",
    [V_VISITOR_ROLE] = "visitor_role",
    [V_ADDRESS] = "address",
    [V_WINDOW] = "window",
    [V_WINDOW_BRIEF] = "window_brief",
    [V_DATE] = "date",
    [V_DATE_BRIEF] = "date_brief",
    [V_LINK] = "link",
    [V_PRIVACY] = "privacy",
    [V_OLD_WINDOW] = "old_window",
    [V_OLD_WINDOW_BRIEF] = "old_window_brief",
    [V_BY_CUSTOMER] = "by_customer",
    [V_REASON] = "reason",
    [V_OFFER_UNTIL] = "offer_until",
    [V_OFFER_UNTIL_BRIEF] = "offer_until_brief",
    [V_OFFER_UNTIL_TIME] = "offer_until_time",
    [V_EXPECTED] = "expected",
    [V_EXPECTED_BRIEF] = "expected_brief",
    [V_OFFERS] = "offers",
    [V_OFFER2] = "offer2",
    [V_OFFER2_BRIEF] = "offer2_brief",
    [V_OFFER3] = "offer3",
    [V_OFFER3_BRIEF] = "offer3_brief",
    [V_REPLIES] = "replies",
    [V_COMPENSATION] = "compensation",
    [V_PAY_BY] = "pay_by",
    [V_DISRUPTION_NOTE] = "disruption_note",
    [V_NOTE] = "note",
};

#define BIT(v) (UINT64_C(1) << (v))
#define OFFER_VARS                                                                                 \
	(BIT(V_OFFERS) | BIT(V_OFFER2) | BIT(V_OFFER2_BRIEF) | BIT(V_OFFER3) |                     \
	 BIT(V_OFFER3_BRIEF) | BIT(V_OFFER_UNTIL) | BIT(V_OFFER_UNTIL_BRIEF) |                     \
	 BIT(V_OFFER_UNTIL_TIME) | BIT(V_REPLIES))
#define EXPECTED_VARS (BIT(V_EXPECTED) | BIT(V_EXPECTED_BRIEF))

/* Each kind: its template's name and the variables it adds. */
static const struct {
	const char *name;
	uint64_t vars;
} kinds[OTD_MSG_KIND_COUNT] = {
    [OTD_MSG_BOOKED] = {"booking_confirmation", 0},
    [OTD_MSG_RESCHEDULED] = {"rescheduled", BIT(V_OLD_WINDOW) | BIT(V_OLD_WINDOW_BRIEF)},
    [OTD_MSG_CANCELLED] = {"cancelled", BIT(V_BY_CUSTOMER) | BIT(V_REASON)},
    [OTD_MSG_WAITLIST_OFFER] = {"waitlist_offer",
                                BIT(V_OLD_WINDOW) | BIT(V_OLD_WINDOW_BRIEF) | BIT(V_OFFER_UNTIL) |
                                    BIT(V_OFFER_UNTIL_BRIEF) | BIT(V_OFFER_UNTIL_TIME)},
    [OTD_MSG_NEW_LINK] = {"new_link", 0},
    [OTD_MSG_REMINDER] = {"reminder", 0},
    [OTD_MSG_ON_THE_WAY] = {"on_the_way", EXPECTED_VARS},
    [OTD_MSG_AT_RISK] = {"apology", EXPECTED_VARS | BIT(V_REASON) | OFFER_VARS},
    [OTD_MSG_UPDATE] = {"update", EXPECTED_VARS | BIT(V_REASON)},
    [OTD_MSG_BACK_ON_TIME] = {"back_on_time", EXPECTED_VARS},
    [OTD_MSG_CANNOT_ATTEND] = {"cannot_attend", BIT(V_REASON) | OFFER_VARS},
    [OTD_MSG_BROKEN] = {"promise_broken", BIT(V_REASON) | BIT(V_COMPENSATION) | BIT(V_PAY_BY)},
    [OTD_MSG_FEEDBACK] = {"feedback_request", 0},
    [OTD_MSG_DISRUPTION] = {"disruption", BIT(V_DISRUPTION_NOTE)},
    [OTD_MSG_REASSIGNED] = {"visitor_changed", BIT(V_REASON)},
    [OTD_MSG_PERSONAL] = {"personal", BIT(V_NOTE)},
};

static bool valid_kind(enum otd_message_kind kind)
{
	return (size_t)kind < OTD_MSG_KIND_COUNT;
}

const char *otd_message_template_name(enum otd_message_kind kind)
{
	return valid_kind(kind) ? kinds[kind].name : NULL;
}

/* The variable names of each kind, made once from kinds[].vars. */
static struct {
	const char *names[V_COUNT];
	size_t n;
} kind_vars[OTD_MSG_KIND_COUNT];
static pthread_once_t kind_vars_once = PTHREAD_ONCE_INIT;

static void kind_vars_init(void)
{
	for(size_t k = 0; k < OTD_MSG_KIND_COUNT; k++)
		for(int v = 0; v < V_COUNT; v++)
			if(v < V_COMMON_END || (kinds[k].vars & BIT(v)))
				kind_vars[k].names[kind_vars[k].n++] = var_names[v];
}

const char *const *otd_message_variables(enum otd_message_kind kind, size_t *n)
{
	*n = 0;
	if(!valid_kind(kind))
		return NULL;
	pthread_once(&kind_vars_once, kind_vars_init);
	*n = kind_vars[kind].n;
	return kind_vars[kind].names;
}

/* ---- the set -------------------------------------------------------------- */

struct otd_message_set {
	struct otd_template *t[OTD_MSG_KIND_COUNT];
};

static const char *const sections[] = {"subject", "text", "html", "sms"};

#define SUFFIX ".tmpl"
#define NAME_ECHO 80

/* The kind whose file is name ("apology.tmpl"), or -1. */
static int kind_of_file(const char *name)
{
	size_t n = strlen(name), s = strlen(SUFFIX);
	if(n <= s || strcmp(name + n - s, SUFFIX) != 0)
		return -1;
	for(size_t k = 0; k < OTD_MSG_KIND_COUNT; k++)
		if(strlen(kinds[k].name) == n - s && memcmp(kinds[k].name, name, n - s) == 0)
			return (int)k;
	return -1;
}

enum otd_status otd_message_set_parse(const char *const *names, const char *const *texts,
                                      const size_t *lens, size_t n, struct otd_message_set **out,
                                      struct otd_error *err)
{
	struct otd_message_set *set = xcalloc(1, sizeof(*set));
	enum otd_status st = OTD_OK;
	*out = NULL;
	for(size_t i = 0; i < n && st == OTD_OK; i++) {
		const char *name = names[i] ? names[i] : "";
		int k = kind_of_file(name);
		if(k < 0) {
			st = otd_error_set(err, OTD_EINVAL, "template_name", NULL,
			                   "%.*s: no message has this template (a template is "
			                   "NAME.tmpl, one of the names in contrib/templates)",
			                   NAME_ECHO, name);
			break;
		}
		if(set->t[k]) {
			st = otd_error_set(err, OTD_EINVAL, "template_name", NULL,
			                   "%s: given twice", name);
			break;
		}
		size_t nv;
		const char *const *vars = otd_message_variables((enum otd_message_kind)k, &nv);
		size_t len = lens ? lens[i] : strlen(texts[i]);
		st = otd_template_parse(name, texts[i], len, vars, nv, &set->t[k], err);
		for(size_t s = 0; st == OTD_OK && s < sizeof(sections) / sizeof(sections[0]); s++)
			if(!otd_template_has(set->t[k], sections[s]))
				st = otd_error_set(
				    err, OTD_EINVAL, "template_section", NULL,
				    "%s: no [%s] section (every message has [subject], "
				    "[text], [html] and [sms])",
				    name, sections[s]);
	}
	for(size_t k = 0; st == OTD_OK && k < OTD_MSG_KIND_COUNT; k++)
		if(!set->t[k])
			st = otd_error_set(err, OTD_EINVAL, "template_missing", NULL,
			                   "%s" SUFFIX
			                   ": missing (every message needs its template)",
			                   kinds[k].name);
	if(st) {
		otd_message_set_free(set);
		return st;
	}
	*out = set;
	return OTD_OK;
}

void otd_message_set_free(struct otd_message_set *set)
{
	if(!set)
		return;
	for(size_t k = 0; k < OTD_MSG_KIND_COUNT; k++)
		otd_template_free(set->t[k]);
	free(set);
}

/* The built-in set: parsed from the embedded files on first use. */
static struct otd_message_set *default_set;
static struct otd_error default_err;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void default_init(void)
{
	size_t n = otd_templates_count;
	const char **names = xcalloc(n + 1, sizeof(*names));
	const char **texts = xcalloc(n + 1, sizeof(*texts));
	size_t *lens = xcalloc(n + 1, sizeof(*lens));
	for(size_t i = 0; i < n; i++) {
		names[i] = otd_templates[i].name;
		texts[i] = (const char *)otd_templates[i].data;
		lens[i] = otd_templates[i].len;
	}
	otd_error_clear(&default_err);
	otd_message_set_parse(names, texts, lens, n, &default_set, &default_err);
	free(names);
	free(texts);
	free(lens);
}

const struct otd_message_set *otd_message_set_default(struct otd_error *err)
{
	pthread_once(&default_once, default_init);
	if(!default_set && err)
		*err = default_err;
	return default_set;
}

/* ---- rendering ------------------------------------------------------------ */

/* The visit type in running text: "boiler repair" (first letter lowered
 * unless the word looks like an acronym). */
static void lower_first(char *out, size_t size, const char *s)
{
	snprintf(out, size, "%s", s ? s : "");
	if(out[0] && !(out[1] && isupper((unsigned char)out[1])))
		out[0] = (char)tolower((unsigned char)out[0]);
}

/* "Tuesday 3 March", or brief "Tue 3 Mar". */
static void date_text(const struct otd_tz *tz, int64_t t, bool brief, char *out, size_t size)
{
	struct otd_local l;
	otd_tz_to_local(tz, t, &l);
	if(brief)
		snprintf(out, size, "%.3s %d %.3s", day_names[l.weekday], l.c.day,
		         month_names[l.c.month - 1]);
	else
		snprintf(out, size, "%s %d %s", day_names[l.weekday], l.c.day,
		         month_names[l.c.month - 1]);
}

static void clock_text(const struct otd_tz *tz, int64_t t, char *out, size_t size)
{
	struct otd_local l;
	otd_tz_to_local(tz, t, &l);
	snprintf(out, size, "%02d:%02d", l.c.hour, l.c.minute);
}

/* The texts the variables point into, one per formatted value. */
struct texts {
	char visit_type[220], role[160];
	char window[96], window_brief[64], date[48], date_brief[24];
	char old_window[96], old_window_brief[64];
	char until[96], until_brief[64], until_time[8];
	char expected[32], expected_brief[24];
	char offer[OTD_MESSAGE_MAX_OFFERS][96], offer_brief[OTD_MESSAGE_MAX_OFFERS][64];
	char *reason; /* heap: the reason, ending as a sentence does */
};

static const char *nonempty(const char *s)
{
	return s && s[0] ? s : NULL;
}

/* Fills values[] (by enum var) for c; unset ones stay NULL. */
static void variables(const struct otd_message_context *c, struct texts *x, const char **values)
{
	const struct otd_tz *tz = c->tz;
	memset(values, 0, V_COUNT * sizeof(*values));
	lower_first(x->visit_type, sizeof(x->visit_type), c->visit_type);
	lower_first(x->role, sizeof(x->role), c->visitor_role);
	otd_window_text(tz, c->start, c->end, false, x->window, sizeof(x->window));
	otd_window_text(tz, c->start, c->end, true, x->window_brief, sizeof(x->window_brief));
	date_text(tz, c->start, false, x->date, sizeof(x->date));
	date_text(tz, c->start, true, x->date_brief, sizeof(x->date_brief));
	values[V_ORGANISATION] = c->organisation;
	values[V_SIGNATURE] = c->signature;
	values[V_PHONE] = nonempty(c->phone);
	values[V_CUSTOMER_NAME] = c->customer_name;
	values[V_VISIT_TYPE] = x->visit_type;
	values[V_VISITOR_FIRST_NAME] = c->visitor_first_name;
	values[V_VISITOR_ROLE] = x->role;
	values[V_ADDRESS] = c->address;
	values[V_WINDOW] = x->window;
	values[V_WINDOW_BRIEF] = x->window_brief;
	values[V_DATE] = x->date;
	values[V_DATE_BRIEF] = x->date_brief;
	values[V_LINK] = c->link;
	values[V_PRIVACY] = nonempty(c->privacy);

	if(c->old_start) {
		otd_window_text(tz, c->old_start, c->old_end, false, x->old_window,
		                sizeof(x->old_window));
		otd_window_text(tz, c->old_start, c->old_end, true, x->old_window_brief,
		                sizeof(x->old_window_brief));
		values[V_OLD_WINDOW] = x->old_window;
		values[V_OLD_WINDOW_BRIEF] = x->old_window_brief;
	}
	values[V_BY_CUSTOMER] = c->by_customer ? "yes" : NULL;
	/* Templates follow the reason with more words: make it a sentence. */
	const char *reason = nonempty(c->reason_text) ? c->reason_text : nonempty(c->reason);
	if(reason) {
		size_t n = strlen(reason);
		bool ends = strchr(".!?", reason[n - 1]) != NULL;
		x->reason = xasprintf("%s%s", reason, ends ? "" : ".");
		values[V_REASON] = x->reason;
	}
	if(c->offer_until) {
		char date[48];
		clock_text(tz, c->offer_until, x->until_time, sizeof(x->until_time));
		date_text(tz, c->offer_until, false, date, sizeof(date));
		snprintf(x->until, sizeof(x->until), "%s on %s", x->until_time, date);
		date_text(tz, c->offer_until, true, date, sizeof(date));
		snprintf(x->until_brief, sizeof(x->until_brief), "%s %s", x->until_time, date);
		values[V_OFFER_UNTIL] = x->until;
		values[V_OFFER_UNTIL_BRIEF] = x->until_brief;
		values[V_OFFER_UNTIL_TIME] = x->until_time;
	}
	if(c->expected_early && c->expected_late) {
		char a[8], b[8];
		clock_text(tz, c->expected_early, a, sizeof(a));
		clock_text(tz, c->expected_late, b, sizeof(b));
		if(strcmp(a, b) == 0) {
			snprintf(x->expected, sizeof(x->expected), "%s", a);
			snprintf(x->expected_brief, sizeof(x->expected_brief), "%s", a);
		} else {
			snprintf(x->expected, sizeof(x->expected), "%s to %s", a, b);
			snprintf(x->expected_brief, sizeof(x->expected_brief), "%s-%s", a, b);
		}
		values[V_EXPECTED] = x->expected;
		values[V_EXPECTED_BRIEF] = x->expected_brief;
	}
	size_t n = c->n_offers < OTD_MESSAGE_MAX_OFFERS ? c->n_offers : OTD_MESSAGE_MAX_OFFERS;
	for(size_t i = 0; i < n; i++) {
		otd_window_text(tz, c->offers[i].start, c->offers[i].end, false, x->offer[i],
		                sizeof(x->offer[i]));
		otd_window_text(tz, c->offers[i].start, c->offers[i].end, true, x->offer_brief[i],
		                sizeof(x->offer_brief[i]));
		values[V_OFFER2 + 2 * i] = x->offer[i];
		values[V_OFFER2_BRIEF + 2 * i] = x->offer_brief[i];
	}
	values[V_OFFERS] = n > 0 ? "yes" : NULL;
	/* "Reply 2" means nothing without a window to take. */
	values[V_REPLIES] = c->replies_enabled && n > 0 ? "yes" : NULL;
	values[V_COMPENSATION] = nonempty(c->compensation);
	values[V_PAY_BY] = nonempty(c->pay_by);
	values[V_DISRUPTION_NOTE] = nonempty(c->disruption_note);
	values[V_NOTE] = nonempty(c->note);
}

/* The section rendered, never NULL; text and HTML end with a newline. */
static char *part(const struct otd_template *t, const char *section, const char *const *values)
{
	char *s = t ? otd_template_render(t, section, var_names, values, V_COUNT) : NULL;
	if(!s)
		return xstrdup("");
	if(s[0] && (strcmp(section, "text") == 0 || strcmp(section, "html") == 0)) {
		char *with = xasprintf("%s\n", s);
		free(s);
		s = with;
	}
	return s;
}

void otd_message_render(enum otd_message_kind kind, const struct otd_message_context *c,
                        struct otd_message *out)
{
	memset(out, 0, sizeof(*out));
	assert(valid_kind(kind));
	const struct otd_message_set *set = c->set ? c->set : otd_message_set_default(NULL);
	assert(set != NULL); /* the built-in templates parse (test_message) */
	const struct otd_template *t = set && valid_kind(kind) ? set->t[kind] : NULL;
	out->template = valid_kind(kind) ? (char *)kinds[kind].name : "";

	struct texts x = {.reason = NULL};
	const char *values[V_COUNT];
	variables(c, &x, values);
	out->subject = part(t, "subject", values);
	out->text = part(t, "text", values);
	out->html = part(t, "html", values);
	out->sms = part(t, "sms", values);
	free(x.reason);
	struct otd_sms_info info;
	if(otd_sms_info(out->sms, &info, NULL) == OTD_OK) {
		out->sms_segments = info.segments;
		out->sms_gsm7 = info.gsm7;
	}
}

void otd_message_cleanup(struct otd_message *m)
{
	free(m->subject);
	free(m->text);
	free(m->html);
	free(m->sms);
	memset(m, 0, sizeof(*m));
}
