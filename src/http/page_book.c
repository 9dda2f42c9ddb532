/* The booking pages (issue 6, journey 1), server-rendered and usable with
 * plain forms; /static/site.js adds the address autocomplete and the hold
 * countdown.
 *   GET  /book             find the address, pick the visit type; then the
 *                          windows offered, by day
 *   POST /book/hold        hold the chosen window, then the details form
 *   POST /book/confirm     book; on success 303 to the manage page
 *   GET  /book/unlisted    "my address isn't listed"
 *   POST /book/unlisted    ... sent to the dispatcher's inbox */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/addresses.h"
#include "app/booking.h"
#include "app/catalog.h"
#include "app/config.h"
#include "app/customer.h"
#include "app/limits.h"
#include "app/planning.h"
#include "app/trust.h"
#include "http/decode.h"
#include "http/handlers.h"
#include "http/html.h"
#include "onthedot/civil.h"
#include "onthedot/message.h"
#include "onthedot/tz.h"
#include "onthedot/validate.h"

#define BOOK_DAYS 14
#define SEARCH_MAX 20

/* ---- shared pieces ----------------------------------------------------------- */

static int64_t parse_id(const char *s)
{
	int64_t v = 0;
	return s && id_decode(s, &v) == OTD_OK ? v : 0;
}

/* The active visit types (heap array; free with types_free). */
static struct otd_visit_type *types_load(struct otd_app *app, size_t *n)
{
	struct otd_visit_type *items = NULL;
	int64_t next = 0;
	*n = 0;
	if(app_visit_type_list(app, 0, 200, 1, &items, n, &next, NULL) != OTD_OK)
		*n = 0;
	return items;
}

static void types_free(struct otd_visit_type *t, size_t n)
{
	for(size_t i = 0; i < n; i++)
		otd_visit_type_cleanup(&t[i]);
	free(t);
}

static const struct otd_visit_type *type_find(const struct otd_visit_type *t, size_t n, int64_t id)
{
	for(size_t i = 0; i < n; i++)
		if(t[i].id == id)
			return &t[i];
	return NULL;
}

/* "2 hours", "90 minutes" */
static void width_text(int minutes, char *out, size_t size)
{
	if(minutes % 60 == 0)
		snprintf(out, size, "%d hour%s", minutes / 60, minutes == 60 ? "" : "s");
	else
		snprintf(out, size, "%d minutes", minutes);
}

static void hidden(struct otd_buf *b, const char *name, const char *value)
{
	otd_buf_printf(b, "<input type=\"hidden\" name=\"%s\" value=\"", name);
	html_esc(b, value);
	otd_buf_puts(b, "\">\n");
}

static void hidden_id(struct otd_buf *b, const char *name, int64_t v)
{
	otd_buf_printf(b, "<input type=\"hidden\" name=\"%s\" value=\"%lld\">\n", name,
	               (long long)v);
}

/* ---- step 1: the address and the visit type --------------------------------- */

static void type_select(struct otd_buf *b, const struct otd_visit_type *types, size_t n,
                        int64_t chosen, const struct html_field_error *errs, size_t n_errs)
{
	otd_buf_puts(
	    b, "<div class=\"field\"><label for=\"visit_type\">What is the visit for?</label>\n");
	html_field_error(b, errs, n_errs, "visit_type");
	otd_buf_puts(b, "<select id=\"visit_type\" name=\"visit_type\" required");
	html_aria_error(b, errs, n_errs, "visit_type", NULL);
	otd_buf_puts(b, ">\n");
	if(!chosen)
		otd_buf_puts(b, "<option value=\"\">Choose one</option>\n");
	for(size_t i = 0; i < n; i++) {
		char w[32];
		html_width_adjective(types[i].window_min, w, sizeof(w));
		otd_buf_printf(b, "<option value=\"%lld\"%s>", (long long)types[i].id,
		               types[i].id == chosen ? " selected" : "");
		html_esc(b, types[i].name);
		otd_buf_printf(b, " (we come within a %s window)</option>\n", w);
	}
	otd_buf_puts(b, "</select></div>\n");
}

static void render_search(struct otd_req *req, int status, const char *q, int64_t visit_type,
                          const struct otd_visit_type *types, size_t n_types,
                          const struct html_field_error *errs, size_t n_errs,
                          const struct otd_address_hits *hits, bool searched)
{
	struct otd_buf b;
	otd_buf_init(&b, 0);
	html_begin(&b, req->app, "Book a visit");
	otd_buf_puts(&b,
	             "<h1>Book a visit</h1>\n<p>Tell us where, and we show you the times we "
	             "can promise. We come within the window we give you, or we tell you before "
	             "it starts and put it right.</p>\n");
	html_error_summary(&b, errs, n_errs);
	otd_buf_puts(&b, "<form method=\"get\" action=\"/book\" class=\"address-search\" "
	                 "novalidate>\n");
	type_select(&b, types, n_types, visit_type, errs, n_errs);
	otd_buf_puts(&b,
	             "<div class=\"field\"><label for=\"q\">Your address</label>\n"
	             "<p class=\"hint\" id=\"q-hint\">Start with the postcode or the first line, "
	             "for example SW1A 1AA or 10 Downing Street.</p>\n");
	html_field_error(&b, errs, n_errs, "q");
	otd_buf_puts(&b, "<div class=\"combo\"><input id=\"q\" name=\"q\" type=\"text\" "
	                 "autocomplete=\"off\" spellcheck=\"false\" maxlength=\"100\" "
	                 "data-autocomplete=\"/api/v1/addresses\" value=\"");
	html_esc(&b, q ? q : "");
	otd_buf_puts(&b, "\"");
	html_aria_error(&b, errs, n_errs, "q", "q-hint");
	otd_buf_puts(&b,
	             "></div></div>\n<button type=\"submit\">Find my address</button>\n</form>\n");
	size_t n_hits = hits ? hits->n : 0;
	if(searched) {
		if(n_hits) {
			otd_buf_printf(
			    &b,
			    "<form method=\"get\" action=\"/book\" class=\"address-results\">"
			    "\n<input type=\"hidden\" name=\"visit_type\" value=\"%lld\">\n"
			    "<fieldset><legend>Choose your address (%zu found)</legend>\n",
			    (long long)visit_type, n_hits);
			for(size_t i = 0; i < n_hits; i++) {
				otd_buf_printf(
				    &b,
				    "<div class=\"choice\"><input type=\"radio\" name=\"address\" "
				    "id=\"address-%lld\" value=\"%lld\"%s><label "
				    "for=\"address-%lld\">",
				    (long long)hits->items[i].id, (long long)hits->items[i].id,
				    i ? "" : " checked", (long long)hits->items[i].id);
				html_address(&b, hits->items[i].line1, hits->items[i].line2,
				             hits->items[i].town, hits->items[i].postcode);
				otd_buf_puts(&b, "</label></div>\n");
			}
			otd_buf_puts(
			    &b, "</fieldset>\n<button type=\"submit\">Show the times</button>\n"
			        "</form>\n");
		} else {
			otd_buf_puts(
			    &b, "<p class=\"notice\" role=\"status\">We found no address "
			        "starting like that. Check the postcode, or try the first line "
			        "of the address.</p>\n");
		}
	}
	if(visit_type)
		otd_buf_printf(&b,
		               "<p><a href=\"/book/unlisted?visit_type=%lld\">My address isn't "
		               "listed</a></p>\n",
		               (long long)visit_type);
	else
		otd_buf_puts(&b, "<p><a href=\"/book/unlisted\">My address isn't listed</a></p>\n");
	html_end(&b, req->app);
	html_reply(req, status, &b);
}

/* ---- step 2: the windows ------------------------------------------------------- */

struct windows_notice {
	const char *text;                   /* a message above the list, or NULL */
	const struct otd_offer_window *alt; /* the nearest windows instead of a taken one */
	size_t n_alt;
};

static void kept_sentence(struct otd_buf *b, struct otd_app *app, int width_min)
{
	char w[32];
	html_width_adjective(width_min, w, sizeof(w));
	int percent = -1;
	int64_t due = 0;
	if(app_trust_kept_rate(app, width_min, &percent, &due, NULL) != OTD_OK)
		return;
	if(percent >= 0 && due >= 5)
		otd_buf_printf(
		    b,
		    "<p class=\"kept\">In the last 30 days we arrived within %d%% of our "
		    "%s windows (%lld visits). <a href=\"/trust\">Our public record</a>."
		    "</p>\n",
		    percent, w, (long long)due);
	else
		otd_buf_printf(
		    b,
		    "<p class=\"kept\">We have had too few %s visits in the last 30 days "
		    "to say how often we kept them. <a href=\"/trust\">Our public "
		    "record</a>.</p>\n",
		    w);
}

static void render_windows(struct otd_req *req, int status, const struct otd_address *addr,
                           const struct otd_visit_type *type, const struct windows_notice *note)
{
	struct otd_app *app = req->app;
	struct otd_slot_query q = {.address_id = addr->id, .visit_type_id = type->id};
	html_days_ahead(app, BOOK_DAYS, q.from, q.to);
	struct otd_slot_result r = {0};
	struct otd_error err = {0};
	enum otd_status st = app_slots(app, &q, &r, &err);

	struct otd_buf b;
	otd_buf_init(&b, 0);
	html_begin(&b, app, "Choose a time");
	otd_buf_puts(&b, "<h1>Choose a time</h1>\n<p class=\"summary\">");
	html_esc(&b, type->name);
	otd_buf_puts(&b, " at ");
	html_address(&b, addr->line1, addr->line2, addr->town, addr->postcode);
	otd_buf_printf(&b, ". <a href=\"/book?visit_type=%lld\">Change</a></p>\n",
	               (long long)type->id);
	if(note && note->text) {
		otd_buf_puts(&b, "<div class=\"notice\" role=\"alert\"><p>");
		html_esc(&b, note->text);
		otd_buf_puts(&b, "</p>");
		if(note->n_alt) {
			otd_buf_printf(&b, "<form method=\"post\" action=\"/book/hold\">\n");
			hidden_id(&b, "address", addr->id);
			hidden_id(&b, "visit_type", type->id);
			otd_buf_puts(
			    &b,
			    "<p>The nearest times we can still promise:</p><ul class=\"windows\">");
			char last[11] = "";
			for(size_t i = 0; i < note->n_alt; i++) {
				char date[11], dt[48];
				planner_local_date(app->planner, note->alt[i].start, date);
				html_day_text(date, dt, sizeof(dt));
				if(strcmp(date, last) != 0) /* each day named once */
					otd_buf_printf(&b, "<li class=\"alt-day\">%s</li>", dt);
				memcpy(last, date, sizeof(last));
				html_window_button(&b, app, &note->alt[i], dt);
			}
			otd_buf_puts(&b, "</ul></form>");
		}
		otd_buf_puts(&b, "</div>\n");
	}
	char w[32];
	width_text(r.width_minutes ? r.width_minutes : type->window_min, w, sizeof(w));
	otd_buf_printf(&b,
	               "<p>Each window is %s wide: we arrive at some moment inside it. Windows "
	               "marked <span class=\"badge\">greener</span> fit next to another visit "
	               "nearby, so less driving.</p>\n",
	               w);
	kept_sentence(&b, app, r.width_minutes ? r.width_minutes : type->window_min);
	if(st != OTD_OK) {
		otd_buf_puts(&b, "<p class=\"notice\" role=\"alert\">");
		html_esc(&b, err.message);
		otd_buf_puts(&b, "</p>\n");
	} else if(r.n_days == 0) {
		otd_buf_printf(
		    &b,
		    "<p class=\"notice\" role=\"status\">We have no free windows at this "
		    "address in the next %d days. ",
		    BOOK_DAYS);
		if(app->cfg->messages.phone && app->cfg->messages.phone[0]) {
			otd_buf_puts(&b, "Call us on ");
			html_esc(&b, app->cfg->messages.phone);
			otd_buf_puts(&b, ", or <a href=\"/book\">look again</a> later");
		} else {
			otd_buf_puts(&b, "<a href=\"/book\">Look again</a> later");
		}
		otd_buf_puts(&b, ": windows free up when people move their visits.</p>\n");
	} else {
		otd_buf_puts(&b, "<form method=\"post\" action=\"/book/hold\" class=\"days\">\n");
		hidden_id(&b, "address", addr->id);
		hidden_id(&b, "visit_type", type->id);
		html_window_days(&b, app, &r);
		otd_buf_puts(&b, "</form>\n");
	}
	otd_slot_result_cleanup(&r);
	html_end(&b, app);
	html_reply(req, status, &b);
}

/* ---- step 3: the details --------------------------------------------------- */

struct details {
	const char *hold, *name, *phone, *email, *access_needs, *notes;
	bool sms, email_me;
	int64_t address, visit_type, window_start, window_end, expires_at;
	const char *notice; /* a message above the form, or NULL */
};

static void text_field(struct otd_buf *b, const char *name, const char *label, const char *type,
                       const char *autocomplete, const char *value, const char *hint,
                       const struct html_field_error *errs, size_t n_errs)
{
	otd_buf_printf(b, "<div class=\"field\"><label for=\"%s\">%s</label>\n", name, label);
	char hint_id[40] = "";
	if(hint) {
		snprintf(hint_id, sizeof(hint_id), "%s-hint", name);
		otd_buf_printf(b, "<p class=\"hint\" id=\"%s\">%s</p>\n", hint_id, hint);
	}
	html_field_error(b, errs, n_errs, name);
	if(strcmp(type, "textarea") == 0) {
		otd_buf_printf(b, "<textarea id=\"%s\" name=\"%s\" rows=\"3\" maxlength=\"900\"",
		               name, name);
		html_aria_error(b, errs, n_errs, name, hint ? hint_id : NULL);
		otd_buf_puts(b, ">");
		html_esc(b, value ? value : "");
		otd_buf_puts(b, "</textarea></div>\n");
		return;
	}
	otd_buf_printf(b, "<input id=\"%s\" name=\"%s\" type=\"%s\" autocomplete=\"%s\" value=\"",
	               name, name, type, autocomplete);
	html_esc(b, value ? value : "");
	otd_buf_puts(b, "\"");
	html_aria_error(b, errs, n_errs, name, hint ? hint_id : NULL);
	otd_buf_puts(b, "></div>\n");
}

static void render_details(struct otd_req *req, int status, const struct details *d,
                           const struct html_field_error *errs, size_t n_errs)
{
	struct otd_app *app = req->app;
	struct otd_buf b;
	otd_buf_init(&b, 0);
	html_begin(&b, app, "Your details");
	char when[96], until[6], utc[32];
	otd_window_text(app->tz, d->window_start, d->window_end, false, when, sizeof(when));
	html_time_text(app, d->expires_at, until);
	otd_rfc3339_format(d->expires_at, utc, sizeof(utc));
	otd_buf_puts(&b, "<h1>Your details</h1>\n<p class=\"held\">We are holding <strong>");
	html_esc(&b, when);
	/* The seconds left, not the instant: the phone's own clock may be wrong. */
	int64_t left = d->expires_at - otd_clock_now(app->clock);
	otd_buf_printf(&b,
	               "</strong> for you until %s <span class=\"countdown\" data-seconds=\"%lld\" "
	               "aria-live=\"off\"></span>.</p>\n",
	               until, (long long)(left > 0 ? left : 0));
	if(d->notice) {
		otd_buf_puts(&b, "<p class=\"notice\" role=\"alert\">");
		html_esc(&b, d->notice);
		otd_buf_puts(&b, "</p>\n");
	}
	html_error_summary(&b, errs, n_errs);
	otd_buf_puts(&b, "<form method=\"post\" action=\"/book/confirm\" novalidate>\n");
	hidden(&b, "hold", d->hold);
	hidden_id(&b, "address", d->address);
	hidden_id(&b, "visit_type", d->visit_type);
	char ws[32];
	otd_rfc3339_format(d->window_start, ws, sizeof(ws));
	hidden(&b, "window_start", ws);
	otd_rfc3339_format(d->window_end, ws, sizeof(ws));
	hidden(&b, "window_end", ws);
	hidden(&b, "expires", utc);
	text_field(&b, "name", "Your name", "text", "name", d->name, NULL, errs, n_errs);
	text_field(&b, "phone", "Mobile phone number", "tel", "tel", d->phone,
	           "For text messages about your visit. Leave it empty if you prefer email.", errs,
	           n_errs);
	text_field(&b, "email", "Email address", "email", "email", d->email,
	           "We send the booking and a calendar invitation here.", errs, n_errs);
	otd_buf_puts(&b, "<fieldset class=\"field\"><legend>How should we tell you about your "
	                 "visit?</legend>\n");
	html_field_error(&b, errs, n_errs, "contact");
	otd_buf_printf(&b,
	               "<div class=\"choice\"><input type=\"checkbox\" id=\"contact\" name=\"sms\" "
	               "value=\"1\"%s><label for=\"contact\">By text message</label></div>\n"
	               "<div class=\"choice\"><input type=\"checkbox\" id=\"email_me\" "
	               "name=\"email_me\" value=\"1\"%s><label for=\"email_me\">By "
	               "email</label></div>\n</fieldset>\n",
	               d->sms ? " checked" : "", d->email_me ? " checked" : "");
	text_field(
	    &b, "access_needs", "Access needs (optional)", "textarea", "off", d->access_needs,
	    "For example: a wheelchair user lives here, please knock loudly, a dog.", errs, n_errs);
	text_field(&b, "notes", "Anything else we should know (optional)", "textarea", "off",
	           d->notes, "For example: where to park, or which door to use.", errs, n_errs);
	otd_buf_puts(&b, "<p class=\"hint\">We use these details only for this visit. <a "
	                 "href=\"/privacy\">How we use your details</a>.</p>\n"
	                 "<button type=\"submit\">Book this visit</button>\n</form>\n");
	html_end(&b, app);
	html_reply(req, status, &b);
}

/* ---- the handlers ------------------------------------------------------------- */

enum otd_status h_page_book(struct otd_req *req)
{
	struct otd_app *app = req->app;
	size_t n_types;
	struct otd_visit_type *types = types_load(app, &n_types);
	int64_t visit_type = parse_id(req_query(req, "visit_type"));
	int64_t address = parse_id(req_query(req, "address"));
	const char *q = req_query(req, "q");
	struct html_field_error errs[4];
	size_t n_errs = 0;
	const struct otd_visit_type *type = type_find(types, n_types, visit_type);
	if(n_types == 1 && !type)
		type = &types[0], visit_type = type->id;

	if(address && type) {
		struct otd_address a;
		if(app_address_get(app, address, &a, NULL) == OTD_OK) {
			bool retired = a.retired;
			if(retired)
				; /* no longer offered: search again */
			else if(req_throttle(req, app->limits->slots, "searches for times") !=
			        OTD_OK)
				html_reply_message(req, 429, "Please wait a moment",
				                   req->err.message);
			else
				render_windows(req, 200, &a, type, NULL);
			otd_address_cleanup(&a);
			if(!retired) {
				types_free(types, n_types);
				return OTD_OK;
			}
		}
		html_add_error(errs, &n_errs, 4, "q",
		               "We could not find that address; search for it again.");
	}
	if((address || q) && !type)
		html_add_error(errs, &n_errs, 4, "visit_type", "Choose what the visit is for.");
	struct otd_address_hits hits = {0};
	bool searched = false;
	if(q && !address) {
		size_t len = strlen(q);
		if(len == 0 || len > 100) {
			html_add_error(
			    errs, &n_errs, 4, "q",
			    len ? "That is too long for an address search; give the postcode or "
			          "the first line."
			        : "Enter your postcode or the first line of your address.");
		} else if(req_throttle(req, app->limits->addresses, "address searches") != OTD_OK) {
			html_add_error(errs, &n_errs, 4, "q", req->err.message);
			memset(&req->err, 0, sizeof(req->err));
		} else {
			searched = true;
			if(app_address_search(app, q, SEARCH_MAX, &hits, NULL) != OTD_OK)
				hits.n = 0;
		}
	}
	render_search(req, n_errs ? 400 : 200, q, visit_type, types, n_types, errs, n_errs, &hits,
	              searched);
	app_address_hits_release(&hits);
	types_free(types, n_types);
	return OTD_OK;
}

/* Re-shows the windows of address and visit type with note (a taken
 * window, an expired hold), or the search page when they are gone. */
static enum otd_status back_to_windows(struct otd_req *req, int status, int64_t address,
                                       int64_t visit_type, int64_t wanted, const char *text)
{
	struct otd_app *app = req->app;
	struct otd_address a;
	struct otd_visit_type t;
	if(app_address_get(app, address, &a, NULL) != OTD_OK) {
		html_reply_message(req, 400, "Please start again",
		                   "We could not find that address; search for it again.");
		return OTD_OK;
	}
	if(app_visit_type_get(app, visit_type, &t, NULL) != OTD_OK) {
		otd_address_cleanup(&a);
		html_reply_message(req, 400, "Please start again",
		                   "Choose what the visit is for again.");
		return OTD_OK;
	}
	struct otd_offer_window alt[3];
	size_t n_alt = wanted ? app_nearest_windows(app, address, visit_type, wanted, alt, 3) : 0;
	struct windows_notice note = {.text = text, .alt = alt, .n_alt = n_alt};
	render_windows(req, status, &a, &t, &note);
	otd_address_cleanup(&a);
	otd_visit_type_cleanup(&t);
	return OTD_OK;
}

enum otd_status h_page_hold(struct otd_req *req)
{
	struct form f;
	if(!html_post_form(req, &f))
		return OTD_OK;
	struct otd_error err = {0};
	struct otd_hold_request hr = {.address_id = parse_id(form_get(&f, "address")),
	                              .visit_type_id = parse_id(form_get(&f, "visit_type"))};
	const char *ws = form_get(&f, "window_start");
	enum otd_status st = OTD_EINVAL;
	if(!hr.address_id || !hr.visit_type_id || !ws ||
	   otd_rfc3339_parse(ws, &hr.window_start, NULL) != OTD_OK) {
		html_reply_message(
		    req, 400, "Please choose a time again",
		    "The form did not say which time you chose. Go back and choose one.");
		form_cleanup(&f);
		return OTD_OK;
	}
	char key[96];
	req_client_key(req, key, sizeof(key));
	hr.client_key = key;
	struct otd_hold_result out;
	st = app_hold_create(req->app, &req->principal, &hr, &out, &err);
	if(st == OTD_OK) {
		struct details d = {.hold = out.token,
		                    .address = hr.address_id,
		                    .visit_type = hr.visit_type_id,
		                    .window_start = out.hold.window_start,
		                    .window_end = out.hold.window_end,
		                    .expires_at = out.hold.expires_at};
		render_details(req, 200, &d, NULL, 0);
	} else if(st == OTD_ECONFLICT) {
		back_to_windows(req, 409, hr.address_id, hr.visit_type_id, hr.window_start,
		                "Sorry, someone took that time a moment ago.");
	} else if(st == OTD_ERATE) {
		html_reply_message(req, 429, "Please wait a moment", err.message);
	} else if(st == OTD_EINVAL) {
		back_to_windows(req, 400, hr.address_id, hr.visit_type_id, hr.window_start,
		                "That time is no longer offered; please choose another.");
	} else {
		html_reply_message(req, st == OTD_EBUSY ? 503 : 500, "Please try again",
		                   "We could not hold that time just now. Please try again in a "
		                   "moment.");
	}
	form_cleanup(&f);
	return OTD_OK;
}

/* Holds d's window again after its hold ran out: true with d pointing at
 * the new hold (kept in out), false when the time has gone meanwhile. */
static bool rehold(struct otd_req *req, struct details *d, struct otd_hold_result *out)
{
	char key[96];
	req_client_key(req, key, sizeof(key));
	struct otd_hold_request hr = {.address_id = d->address,
	                              .visit_type_id = d->visit_type,
	                              .window_start = d->window_start,
	                              .client_key = key};
	struct otd_error err = {0};
	if(app_hold_create(req->app, &req->principal, &hr, out, &err) != OTD_OK)
		return false;
	d->hold = out->token;
	d->window_end = out->hold.window_end;
	d->expires_at = out->hold.expires_at;
	return true;
}

/* The access needs and notes, as the one access_notes text the booking
 * keeps (heap). */
static char *notes_join(const char *needs, const char *notes)
{
	bool a = needs && needs[0], b = notes && notes[0];
	if(a && b)
		return xasprintf("Access needs: %s\nNotes: %s", needs, notes);
	if(a)
		return xasprintf("Access needs: %s", needs);
	if(b)
		return xasprintf("Notes: %s", notes);
	return xstrdup("");
}

enum otd_status h_page_confirm(struct otd_req *req)
{
	struct otd_app *app = req->app;
	struct form f;
	if(!html_post_form(req, &f))
		return OTD_OK;
	struct otd_error err = {0};
	struct details d = {.hold = form_get(&f, "hold"),
	                    .name = form_get(&f, "name"),
	                    .phone = form_get(&f, "phone"),
	                    .email = form_get(&f, "email"),
	                    .access_needs = form_get(&f, "access_needs"),
	                    .notes = form_get(&f, "notes"),
	                    .sms = form_get(&f, "sms") != NULL,
	                    .email_me = form_get(&f, "email_me") != NULL,
	                    .address = parse_id(form_get(&f, "address")),
	                    .visit_type = parse_id(form_get(&f, "visit_type"))};
	const char *ws = form_get(&f, "window_start"), *we = form_get(&f, "window_end"),
	           *ex = form_get(&f, "expires");
	if(!d.hold || !d.address || !d.visit_type || !ws ||
	   otd_rfc3339_parse(ws, &d.window_start, NULL) != OTD_OK || !we ||
	   otd_rfc3339_parse(we, &d.window_end, NULL) != OTD_OK || d.window_end <= d.window_start ||
	   !ex || otd_rfc3339_parse(ex, &d.expires_at, NULL) != OTD_OK) {
		html_reply_message(req, 400, "Please choose a time again",
		                   "The form lost the time you chose. Please start again.");
		form_cleanup(&f);
		return OTD_OK;
	}
	/* Every field is checked so all that needs fixing is shown at once. */
	struct html_field_error errs[8];
	size_t n = 0;
	struct otd_error e = {0};
	char norm[256];
	if(otd_text_validate(d.name ? d.name : "", 1, 200, false, "name", &e) != OTD_OK)
		html_add_error(errs, &n, 8, "name",
		               d.name && d.name[0]
		                   ? "Your name is too long or has characters we cannot use."
		                   : "Enter your name.");
	bool phone = d.phone && d.phone[0], email = d.email && d.email[0];
	if(phone && otd_phone_normalise(d.phone, app->cfg->messages.country_code, norm,
	                                sizeof(norm), "phone", &e) != OTD_OK)
		html_add_error(errs, &n, 8, "phone",
		               "Enter a phone number like 07700 900123, with 10 or 11 digits.");
	if(email && otd_email_normalise(d.email, norm, sizeof(norm), "email", &e) != OTD_OK)
		html_add_error(errs, &n, 8, "email",
		               "Enter an email address like name@example.com.");
	if(!phone && !email)
		html_add_error(errs, &n, 8, "phone",
		               "Give a mobile number or an email address (or both).");
	if(!d.sms && !d.email_me)
		html_add_error(errs, &n, 8, "contact", "Choose text message, email or both.");
	if(d.sms && !phone)
		html_add_error(errs, &n, 8, "phone",
		               "To be told by text message, give a mobile number.");
	if(d.email_me && !email)
		html_add_error(errs, &n, 8, "email", "To be told by email, give an email address.");
	if(d.access_needs &&
	   otd_text_validate(d.access_needs, 0, 900, true, "access_needs", &e) != OTD_OK)
		html_add_error(errs, &n, 8, "access_needs",
		               "Keep access needs under 900 characters, in plain text.");
	if(d.notes && otd_text_validate(d.notes, 0, 900, true, "notes", &e) != OTD_OK)
		html_add_error(errs, &n, 8, "notes",
		               "Keep notes under 900 characters, in plain text.");
	if(n) {
		render_details(req, 400, &d, errs, n);
		form_cleanup(&f);
		return OTD_OK;
	}
	char *notes = notes_join(d.access_needs, d.notes);
	/* The hold token is the Idempotency-Key: a phone sending the form twice
	 * (or again with a field changed, after a lost answer) gets the first
	 * booking back, never a second one. A hold books once whatever the
	 * fields, so the "request" hashed is the hold alone. */
	struct otd_idem idem = {.scope = "page:book", .key = d.hold};
	crypto_generichash(idem.hash, sizeof(idem.hash), (const unsigned char *)d.hold,
	                   strlen(d.hold), NULL, 0);
	struct otd_booking_request br = {.hold_token = d.hold,
	                                 .name = d.name,
	                                 .phone = d.phone,
	                                 .email = d.email,
	                                 .access_notes = notes,
	                                 .consent_sms = d.sms,
	                                 .consent_email = d.email_me,
	                                 .idem = &idem};
	struct otd_hold_result again;
	enum otd_status st = OTD_OK;
	if(d.sms && req->principal.kind == OTD_PRINCIPAL_NONE)
		st = req_throttle(req, app->limits->sms, "bookings asking for text messages");
	struct otd_appointment_view v = {0};
	if(st == OTD_OK)
		st = app_book(app, &req->principal, &br, &v, &err);
	else
		err = req->err, memset(&req->err, 0, sizeof(req->err));
	free(notes);
	if(st == OTD_OK) {
		char loc[80];
		snprintf(loc, sizeof(loc), "/a/%s?booked=1", v.link_token);
		req_add_header(req, "Location", loc);
		struct otd_buf b;
		otd_buf_init(&b, 0);
		otd_buf_printf(&b,
		               "<!doctype html><title>Booked</title><p><a href=\"%s\">Your "
		               "booking</a></p>",
		               loc);
		html_reply(req, 303, &b);
	} else if(st == OTD_ECONFLICT && strcmp(err.code, "already_booked") == 0) {
		html_add_error(errs, &n, 8, "name", err.message);
		render_details(req, 409, &d, errs, n);
	} else if(st == OTD_ECONFLICT && strcmp(err.code, "hold_expired") == 0 &&
	          rehold(req, &d, &again)) {
		/* What they typed is kept: the time is held again if it is free. */
		d.notice =
		    "We held that time for a while, but the hold ran out, so we have held it "
		    "again for you. Check your details and send the form.";
		render_details(req, 409, &d, NULL, 0);
	} else if(st == OTD_ECONFLICT) {
		back_to_windows(req, 409, d.address, d.visit_type, d.window_start,
		                strcmp(err.code, "hold_expired") == 0
		                    ? "We held that time for you for a while, but the hold ran out "
		                      "and someone else has taken it since."
		                    : "Sorry, that time can no longer be kept.");
	} else if(st == OTD_EINVAL || st == OTD_ERATE) {
		/* The only limits here are on text messages: they concern the phone. */
		const char *field = err.field[0] ? err.field : st == OTD_ERATE ? "phone" : "name";
		if(strcmp(field, "access_notes") == 0)
			field = "access_needs";
		if(strcmp(field, "phone") && strcmp(field, "email") && strcmp(field, "name") &&
		   strcmp(field, "access_needs"))
			field = "name";
		html_add_error(errs, &n, 8, field, err.message);
		render_details(req, st == OTD_ERATE ? 429 : 400, &d, errs, n);
	} else {
		html_reply_message(req, st == OTD_EBUSY ? 503 : 500, "Please try again",
		                   "We could not finish the booking just now; nothing was booked. "
		                   "Please send the form again in a moment.");
	}
	otd_appointment_view_cleanup(&v);
	form_cleanup(&f);
	return OTD_OK;
}

/* ---- my address isn't listed ------------------------------------------------ */

static void render_unlisted(struct otd_req *req, int status, int64_t visit_type,
                            const struct form *f, const struct html_field_error *errs,
                            size_t n_errs)
{
	struct otd_app *app = req->app;
	size_t n_types;
	struct otd_visit_type *types = types_load(app, &n_types);
	struct otd_buf b;
	otd_buf_init(&b, 0);
	html_begin(&b, app, "My address isn't listed");
	otd_buf_puts(&b,
	             "<h1>My address isn't listed</h1>\n<p>Tell us the address and how to reach "
	             "you. Someone from our office will find it on the map and call or write to "
	             "you to book, usually the next working day.</p>\n");
	html_error_summary(&b, errs, n_errs);
	otd_buf_puts(&b, "<form method=\"post\" action=\"/book/unlisted\" novalidate>\n");
	type_select(&b, types, n_types, visit_type, errs, n_errs);
	text_field(&b, "address", "The full address", "textarea", "street-address",
	           f ? form_get(f, "address") : NULL,
	           "House number or name, street, town, postcode.", errs, n_errs);
	text_field(&b, "name", "Your name", "text", "name", f ? form_get(f, "name") : NULL, NULL,
	           errs, n_errs);
	text_field(&b, "phone", "Phone number", "tel", "tel", f ? form_get(f, "phone") : NULL, NULL,
	           errs, n_errs);
	text_field(&b, "email", "Email address", "email", "email", f ? form_get(f, "email") : NULL,
	           "Give a phone number, an email address or both.", errs, n_errs);
	otd_buf_puts(&b, "<button type=\"submit\">Send to our office</button>\n</form>\n");
	types_free(types, n_types);
	html_end(&b, app);
	html_reply(req, status, &b);
}

enum otd_status h_page_unlisted(struct otd_req *req)
{
	render_unlisted(req, 200, parse_id(req_query(req, "visit_type")), NULL, NULL, 0);
	return OTD_OK;
}

enum otd_status h_page_unlisted_send(struct otd_req *req)
{
	struct form f;
	if(!html_post_form(req, &f))
		return OTD_OK;
	struct otd_error err = {0};
	struct html_field_error errs[2];
	size_t n = 0;
	int64_t visit_type = parse_id(form_get(&f, "visit_type"));
	if(req_throttle(req, req->app->limits->resend, "requests") != OTD_OK) {
		html_reply_message(req, 429, "Please wait a moment", req->err.message);
		form_cleanup(&f);
		return OTD_OK;
	}
	struct otd_address_request r = {.address = form_get(&f, "address"),
	                                .name = form_get(&f, "name"),
	                                .phone = form_get(&f, "phone"),
	                                .email = form_get(&f, "email"),
	                                .visit_type_id = visit_type};
	enum otd_status st = app_address_request(req->app, &r, &err);
	if(st == OTD_OK) {
		html_reply_message(
		    req, 200, "Thank you",
		    "We have your request. Someone from our office will contact you to "
		    "book the visit, usually the next working day.");
	} else if(st == OTD_EINVAL) {
		const char *field = strcmp(err.field, "contact") == 0 ? "phone" : err.field;
		if(strcmp(field, "address") && strcmp(field, "name") && strcmp(field, "phone") &&
		   strcmp(field, "email"))
			field = "address";
		html_add_error(errs, &n, 2, field, err.message);
		render_unlisted(req, 400, visit_type, &f, errs, n);
	} else {
		html_reply_message(req, 503, "Please try again",
		                   "We could not take your request just now. Please try again in a "
		                   "moment.");
	}
	form_cleanup(&f);
	return OTD_OK;
}
