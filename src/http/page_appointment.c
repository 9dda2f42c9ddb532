/* The customer's own page, reached by the secret link (issue 6, journey 2):
 *   GET  /a/{token}              the visit with live status (?part=status:
 *                                only the status section, for site.js)
 *   GET  /a/{token}/reschedule   the windows to move to
 *   POST /a/{token}/move         move to a chosen window (hold + move)
 *   POST /a/{token}/accept       take a window held for them after an apology
 *   POST /a/{token}/keep         keep the promised window after an apology
 *   GET  /a/{token}/cancel       what cancelling means, and the button
 *   POST /a/{token}/cancel       cancel
 *   POST /a/{token}/feedback     after the visit: 1 to 5, a comment, consent
 *   POST /a/new-link             "send me a new link"
 * Every invalid link (unknown, malformed, expired, revoked) gets the same
 * 404 page, which offers a new link. Logs show /a/{token}, never the
 * token; answers are never cached and send no referrer (server.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/booking.h"
#include "app/config.h"
#include "app/customer.h"
#include "app/feedback.h"
#include "app/guarantees.h"
#include "app/limits.h"
#include "app/planning.h"
#include "http/decode.h"
#include "http/handlers.h"
#include "http/html.h"
#include "onthedot/civil.h"
#include "onthedot/message.h"
#include "onthedot/tz.h"

#define MOVE_DAYS 14

/* ---- the one 404 page ----------------------------------------------------------- */

/* The page for every invalid link (404), or the "send me a new link"
 * form again with what to fix next to its fields (400): f holds what was
 * typed. */
static void render_not_found(struct otd_req *req, const struct html_field_error *errs,
                             size_t n_errs, const struct form *f)
{
	struct otd_buf b;
	otd_buf_init(&b, 0);
	html_begin(&b, req->app, "This link does not work");
	otd_buf_puts(&b, "<h1>This link does not work</h1>\n<p>It may be mistyped, too old, or "
	                 "replaced by a newer link we sent you. We can send you a new one.</p>\n");
	html_error_summary(&b, errs, n_errs);
	otd_buf_puts(&b,
	             "<h2>Send me a new link</h2>\n<form method=\"post\" action=\"/a/new-link\" "
	             "novalidate>\n<div class=\"field\"><label for=\"reference\">Your booking "
	             "reference</label>\n<p class=\"hint\" id=\"reference-hint\">It starts with "
	             "OTD-, for example OTD-7K3F9Q. It is in every message we sent you.</p>\n");
	html_field_error(&b, errs, n_errs, "reference");
	otd_buf_puts(&b, "<input id=\"reference\" name=\"reference\" type=\"text\" "
	                 "autocomplete=\"off\" maxlength=\"20\" value=\"");
	html_esc(&b, f ? form_get(f, "reference") : NULL);
	otd_buf_puts(&b, "\"");
	html_aria_error(&b, errs, n_errs, "reference", "reference-hint");
	otd_buf_puts(&b, "></div>\n");
	otd_buf_puts(&b, "<div class=\"field\"><label for=\"contact\">The mobile number or email "
	                 "address you gave us</label>\n");
	html_field_error(&b, errs, n_errs, "contact");
	otd_buf_puts(&b, "<input id=\"contact\" name=\"contact\" type=\"text\" "
	                 "autocomplete=\"email\" maxlength=\"254\" value=\"");
	html_esc(&b, f ? form_get(f, "contact") : NULL);
	otd_buf_puts(&b, "\"");
	html_aria_error(&b, errs, n_errs, "contact", NULL);
	otd_buf_puts(&b, "></div>\n<button type=\"submit\">Send me a new link</button>\n"
	                 "</form>\n<p>Links sent before will stop working.</p>\n");
	html_end(&b, req->app);
	html_reply(req, n_errs ? 400 : 404, &b);
}

/* Resolves the link of the path; on any invalid link replies the 404 page
 * and returns false. */
static bool link_page(struct otd_req *req, int64_t *id)
{
	struct otd_error err = {0};
	if(app_link_resolve(req->app, req->params[0], id, &err) == OTD_OK)
		return true;
	if(err.status == OTD_ENOTFOUND)
		render_not_found(req, NULL, 0, NULL);
	else
		html_reply_message(req, 503, "Please try again",
		                   "We could not open your booking just now. Please try again in a "
		                   "moment.");
	return false;
}

enum otd_status h_page_new_link(struct otd_req *req)
{
	struct form f;
	if(!html_post_form(req, &f))
		return OTD_OK;
	struct otd_error err = {0};
	if(req_throttle(req, req->app->limits->resend, "requests for a new link") != OTD_OK) {
		html_reply_message(req, 429, "Please wait a moment", req->err.message);
		form_cleanup(&f);
		return OTD_OK;
	}
	const char *ref = form_get(&f, "reference"), *contact = form_get(&f, "contact");
	struct html_field_error errs[2];
	size_t n = 0;
	if(!ref || !ref[0] || strlen(ref) > 20)
		html_add_error(errs, &n, 2, "reference",
		               "Enter your booking reference, such as OTD-7K3F9Q.");
	if(!contact || !contact[0] || strlen(contact) > 254)
		html_add_error(errs, &n, 2, "contact",
		               "Enter the mobile number or email address you booked with.");
	if(n) {
		render_not_found(req, errs, n, &f);
		form_cleanup(&f);
		return OTD_OK;
	}
	enum otd_status st = app_resend_link(req->app, ref, contact, &err);
	form_cleanup(&f);
	if(st) {
		req->err = err; /* its Retry-After */
		html_reply_message(req, st == OTD_ERATE ? 429 : 503, "Please try again",
		                   "We could not send a new link just now. Please try again in a "
		                   "moment.");
		return OTD_OK;
	}
	html_reply_message(req, 202, "Check your messages",
	                   "If the reference and the mobile number or email match a booking, we "
	                   "have sent a new link there. Links sent before no longer work.");
	return OTD_OK;
}

/* ---- pieces of the page -------------------------------------------------------------- */

static const char *pronoun_hint(const struct otd_appointment_view *v)
{
	return v->visitor_first_name[0] ? v->visitor_first_name : "Our visitor";
}

static void visitor_phrase(struct otd_buf *b, const struct otd_appointment_view *v)
{
	html_esc(b, pronoun_hint(v));
	if(v->visitor_role[0]) {
		/* "Planning officer" reads "your planning officer"; "GP" stays. */
		char role[sizeof(v->visitor_role)];
		snprintf(role, sizeof(role), "%s", v->visitor_role);
		if(role[0] >= 'A' && role[0] <= 'Z' && !(role[1] >= 'A' && role[1] <= 'Z'))
			role[0] = (char)(role[0] - 'A' + 'a');
		otd_buf_puts(b, ", your ");
		html_esc(b, role);
		otd_buf_puts(b, ",");
	}
}

static void band_text(const struct otd_app *app, const struct otd_appointment_risk *r, char *out,
                      size_t size)
{
	char a[6], z[6];
	html_time_text(app, r->band_early, a);
	html_time_text(app, r->band_late, z);
	if(strcmp(a, z) == 0)
		snprintf(out, size, "about %s", a);
	else
		snprintf(out, size, "%s to %s", a, z);
}

static void offers_form(struct otd_buf *b, const struct otd_app *app, const char *token,
                        const struct otd_appointment_view *v)
{
	otd_buf_printf(b,
	               "<form method=\"post\" action=\"/a/%s/accept\" class=\"offers\">\n"
	               "<ul class=\"windows\">\n",
	               token);
	for(size_t i = 0; i < v->n_offers; i++) {
		char when[96], until[6];
		otd_window_text(app->tz, v->offers[i].window_start, v->offers[i].window_end, false,
		                when, sizeof(when));
		html_time_text(app, v->offers[i].expires_at, until);
		otd_buf_printf(
		    b,
		    "<li><button type=\"submit\" name=\"offer\" value=\"%lld\" "
		    "class=\"window\">Move to %s</button> <span class=\"hint\">held for you "
		    "until %s</span></li>\n",
		    (long long)v->offers[i].id, when, until);
	}
	otd_buf_puts(b, "</ul>\n</form>\n");
}

/* The live part: status, arrival band, apology and offers. */
static void render_status(struct otd_buf *b, const struct otd_app *app, const char *token,
                          const struct otd_appointment_view *v,
                          const struct otd_customer_status *cs)
{
	const struct otd_appointment *a = &v->a;
	char when[96];
	otd_window_text(app->tz, a->window_start, a->window_end, false, when, sizeof(when));
	bool apology = false;
	for(size_t i = 0; i < v->n_offers; i++)
		apology = apology || strcmp(v->offers[i].purpose, "apology_offer") == 0;
	otd_buf_printf(b, "<div class=\"status status-%s%s\">\n", a->status,
	               apology ? " status-at-risk" : "");
	if(strcmp(a->status, "cancelled") == 0) {
		otd_buf_puts(b, "<p class=\"state\">Cancelled</p>\n<p>This visit (");
		html_esc(b, when);
		otd_buf_printf(b, ") was cancelled by %s.</p>\n",
		               strcmp(a->cancelled_by, "customer") == 0 ? "you" : "us");
	} else if(strcmp(a->status, "done") == 0) {
		otd_buf_puts(b, "<p class=\"state\">Visit done</p>\n<p>");
		visitor_phrase(b, v);
		otd_buf_puts(b, " has finished the visit. Thank you.</p>\n");
	} else if(strcmp(a->status, "arrived") == 0) {
		otd_buf_puts(b, "<p class=\"state\">Arrived</p>\n<p>");
		visitor_phrase(b, v);
		otd_buf_puts(b, " has arrived.</p>\n");
	} else if(strcmp(a->status, "no_access") == 0) {
		otd_buf_puts(b, "<p class=\"state\">We could not get in</p>\n<p>");
		visitor_phrase(b, v);
		otd_buf_puts(b,
		             " came but could not get in. We will contact you to arrange another "
		             "visit.</p>\n");
	} else if(strcmp(a->status, "travelling") == 0) {
		otd_buf_puts(b, "<p class=\"state\">On the way</p>\n<p>");
		visitor_phrase(b, v);
		otd_buf_puts(b, " is on the way");
		if(cs->risk.band_early > 0 && cs->risk.band_late >= cs->risk.band_early) {
			char band[32];
			band_text(app, &cs->risk, band, sizeof(band));
			otd_buf_printf(b, "; expected %s", band);
		}
		otd_buf_puts(b, ".</p>\n");
	} else {
		otd_buf_puts(b, "<p class=\"state\">Booked</p>\n<p>");
		visitor_phrase(b, v);
		otd_buf_puts(b, " will arrive between ");
		char s0[6], e0[6];
		html_time_text(app, a->window_start, s0);
		html_time_text(app, a->window_end, e0);
		char day[11], dt[48];
		planner_local_date(app->planner, a->window_start, day);
		html_day_text(day, dt, sizeof(dt));
		otd_buf_printf(b, "%s and %s on %s.</p>\n", s0, e0, dt);
	}
	if(apology && strcmp(a->status, "cancelled") != 0 && strcmp(a->status, "done") != 0) {
		otd_buf_puts(
		    b, "<div class=\"apology\" role=\"alert\"><h2>We are sorry</h2>\n<p>We may "
		       "not reach you within your window");
		if(cs->risk.reason[0]) {
			otd_buf_puts(b, " (");
			html_esc(b, cs->risk.reason);
			otd_buf_puts(b, ")");
		}
		if(cs->risk.band_early > 0 && strcmp(cs->risk.risk, "ok") != 0) {
			char band[32];
			band_text(app, &cs->risk, band, sizeof(band));
			otd_buf_printf(b, "; we now expect to arrive %s", band);
		}
		otd_buf_puts(b, ". We are holding other times for you: choose one, or keep your "
		                "window.</p>\n");
		offers_form(b, app, token, v);
		otd_buf_printf(
		    b,
		    "<form method=\"post\" action=\"/a/%s/keep\"><button type=\"submit\" "
		    "class=\"secondary\">Keep my window</button></form>\n</div>\n",
		    token);
	} else if(v->n_offers && strcmp(a->status, "booked") == 0) {
		otd_buf_puts(b, "<div class=\"offer\"><h2>An earlier time is free</h2>\n");
		offers_form(b, app, token, v);
		otd_buf_puts(b, "</div>\n");
	}
	otd_buf_puts(b, "</div>\n");
}

static void render_cases(struct otd_buf *b, const struct otd_app *app,
                         const struct otd_customer_status *cs)
{
	if(!cs->n_cases)
		return;
	otd_buf_puts(b, "<section class=\"cases\"><h2>Compensation</h2>\n<ul>\n");
	for(size_t i = 0; i < cs->n_cases; i++) {
		const struct otd_case *c = &cs->cases[i];
		char amount[32], by[48];
		guarantee_amount_text(c, amount, sizeof(amount));
		guarantee_pay_by_text(app, c, by, sizeof(by));
		const char *why = strcmp(c->reason, "window_missed") == 0
		                      ? "We did not arrive within the window we promised."
		                  : strcmp(c->reason, "short_notice") == 0
		                      ? "We changed your visit with too little notice."
		                      : "We did not keep our promise.";
		otd_buf_printf(b, "<li><p>%s</p>", why);
		if(strcmp(c->state, "paid") == 0) {
			char day[11], dt[48];
			planner_local_date(app->planner, c->paid_at, day);
			html_day_text(day, dt, sizeof(dt));
			otd_buf_printf(b, "<p><strong>Paid:</strong> %s on %s.</p>", amount, dt);
		} else if(strcmp(c->state, "exempt") == 0) {
			otd_buf_puts(b, "<p>No payment is due: ");
			html_esc(b,
			         strcmp(c->exempt_reason, "force_majeure") == 0
			             ? "events outside our control (such as severe weather) were "
			               "declared for your area that day."
			             : "the rules of the guarantee do not cover this case.");
			otd_buf_puts(b, " If you disagree, call us.</p>");
		} else {
			otd_buf_printf(
			    b,
			    "<p><strong>We owe you %s</strong>, to be paid by %s. You do not "
			    "need to claim it.</p>",
			    amount, by);
		}
		otd_buf_puts(b, "</li>\n");
	}
	otd_buf_puts(b, "</ul></section>\n");
}

static void render_feedback(struct otd_buf *b, const char *token,
                            const struct otd_feedback_view *fv, const struct html_field_error *errs,
                            size_t n_errs, const struct form *f)
{
	if(!fv->given && !fv->can_give)
		return;
	otd_buf_puts(b, "<section class=\"feedback\"><h2>How did we do?</h2>\n");
	if(fv->given) {
		otd_buf_printf(b, "<p>Thank you: you gave us %d out of 5.</p>", fv->fb.rating);
		if(fv->fb.comment && fv->fb.comment[0]) {
			otd_buf_puts(b, "<blockquote><p>");
			html_esc(b, fv->fb.comment);
			otd_buf_puts(b, "</p></blockquote>");
		}
		if(!fv->changeable) {
			otd_buf_puts(b, "</section>\n");
			return;
		}
		otd_buf_puts(b, "<p>You can still change it until we have read it.</p>\n");
	}
	char mark[2] = {0};
	if(fv->given && fv->fb.rating >= 1 && fv->fb.rating <= 5)
		mark[0] = (char)('0' + fv->fb.rating);
	const char *rating = f ? form_get(f, "rating") : mark;
	const char *comment = f ? form_get(f, "comment") : fv->given ? fv->fb.comment : NULL;
	bool publish = f ? form_get(f, "publish") != NULL : fv->given && fv->fb.publish_consent;
	otd_buf_printf(b,
	               "<form method=\"post\" action=\"/a/%s/feedback\" novalidate>\n"
	               "<fieldset class=\"field rating\" id=\"rating\"><legend>Your rating, from "
	               "1 (poor) to 5 (very good)</legend>\n",
	               token);
	html_field_error(b, errs, n_errs, "rating");
	for(int i = 1; i <= 5; i++)
		otd_buf_printf(b,
		               "<span class=\"choice\"><input type=\"radio\" name=\"rating\" "
		               "id=\"rating%d\" value=\"%d\"%s><label for=\"rating%d\">%d</label>"
		               "</span>\n",
		               i, i, rating && rating[0] == '0' + i && !rating[1] ? " checked" : "",
		               i, i);
	otd_buf_puts(b,
	             "</fieldset>\n<div class=\"field\"><label for=\"comment\">Anything you want "
	             "to tell us (optional)</label>\n");
	html_field_error(b, errs, n_errs, "comment");
	otd_buf_puts(b, "<textarea id=\"comment\" name=\"comment\" rows=\"4\" "
	                "maxlength=\"2000\">");
	html_esc(b, comment);
	otd_buf_printf(b,
	               "</textarea></div>\n<div class=\"choice\"><input type=\"checkbox\" "
	               "id=\"publish\" name=\"publish\" value=\"1\"%s><label for=\"publish\">You "
	               "may publish my rating and comment on your public record page, without my "
	               "name</label></div>\n<button type=\"submit\">Send feedback</button>\n"
	               "</form>\n</section>\n",
	               publish ? " checked" : "");
}

static const char *banner_text(const char *k)
{
	if(!k)
		return NULL;
	if(strcmp(k, "moved") == 0)
		return "Done: your visit has moved. We have sent you the new time.";
	if(strcmp(k, "cancelled") == 0)
		return "Your visit is cancelled. We have sent you a confirmation.";
	if(strcmp(k, "kept") == 0)
		return "Thank you: your visit keeps its window, and we will keep you posted.";
	if(strcmp(k, "feedback") == 0)
		return "Thank you for your feedback.";
	return NULL;
}

static void render_appointment(struct otd_req *req, int status, int64_t id,
                               const struct otd_appointment_view *v,
                               const struct otd_customer_status *cs,
                               const struct html_field_error *errs, size_t n_errs,
                               const struct form *f)
{
	struct otd_app *app = req->app;
	const char *token = req->params[0];
	const struct otd_appointment *a = &v->a;
	struct otd_buf b;
	otd_buf_init(&b, 0);
	html_begin(&b, app, "Your visit");
	otd_buf_puts(&b, "<h1>Your visit</h1>\n");
	if(req_query(req, "booked")) {
		otd_buf_printf(
		    &b,
		    "<div class=\"confirmation\" role=\"status\"><h2>Your visit is "
		    "booked</h2>\n<p>Your "
		    "reference is <strong class=\"reference\">%s</strong>. We have sent "
		    "you the details.</p>\n<p>Keep this page's address to check or change "
		    "your visit: <span class=\"link\">",
		    a->reference);
		html_esc(&b, app->base_url);
		otd_buf_printf(&b, "/a/%s</span></p></div>\n", token);
	}
	const char *banner = banner_text(req_query(req, "done"));
	if(banner) {
		otd_buf_puts(&b, "<p class=\"confirmation\" role=\"status\">");
		html_esc(&b, banner);
		otd_buf_puts(&b, "</p>\n");
	}
	html_error_summary(&b, errs, n_errs);
	otd_buf_printf(&b,
	               "<section id=\"status\" aria-live=\"polite\" "
	               "data-stream=\"/api/v1/a/%s/stream\" data-part=\"/a/%s?part=status\">\n",
	               token, token);
	render_status(&b, app, token, v, cs);
	otd_buf_puts(&b, "</section>\n");

	char when[96];
	otd_window_text(app->tz, a->window_start, a->window_end, false, when, sizeof(when));
	otd_buf_puts(&b, "<dl class=\"facts\">\n<dt>When</dt><dd class=\"window-text\">");
	html_esc(&b, when);
	otd_buf_puts(&b, "</dd>\n<dt>Visit</dt><dd>");
	html_esc(&b, v->visit_type);
	otd_buf_puts(&b, "</dd>\n<dt>Where</dt><dd>");
	html_address(&b, v->address.line1, v->address.line2, v->address.town, v->address.postcode);
	otd_buf_puts(&b, "</dd>\n<dt>Name</dt><dd>");
	html_esc(&b, v->customer.name);
	otd_buf_printf(&b, "</dd>\n<dt>Reference</dt><dd>%s</dd>\n", a->reference);
	bool open = strcmp(a->status, "booked") == 0 || strcmp(a->status, "travelling") == 0 ||
	            strcmp(a->status, "arrived") == 0;
	if(open) {
		char code[5];
		if(app_doorstep_code(app, id, code, NULL) == OTD_OK) {
			otd_buf_printf(
			    &b,
			    "<dt>Doorstep code</dt><dd><strong class=\"code\">%s</strong> "
			    "<span class=\"hint\">",
			    code);
			html_esc(&b, pronoun_hint(v));
			otd_buf_puts(
			    &b, " will tell you this code at the door. Do not let in anyone who "
			        "cannot.</span></dd>\n");
		}
	}
	otd_buf_puts(&b, "</dl>\n");
	if(open)
		otd_buf_printf(&b,
		               "<p><a class=\"button secondary\" href=\"/api/v1/a/%s/ics\" "
		               "download=\"visit.ics\">Add to my calendar</a></p>\n",
		               token);
	render_cases(&b, app, cs);
	if(strcmp(a->status, "booked") == 0)
		otd_buf_printf(&b,
		               "<section class=\"actions\"><h2>Change your visit</h2>\n<ul>"
		               "<li><a href=\"/a/%s/reschedule\">Choose another time</a></li>\n"
		               "<li><a href=\"/a/%s/cancel\">Cancel the visit</a></li></ul>"
		               "</section>\n",
		               token, token);
	struct otd_feedback_view fv;
	if(app_feedback_get(app, id, &fv, NULL) == OTD_OK) {
		render_feedback(&b, token, &fv, errs, n_errs, f);
		otd_feedback_view_cleanup(&fv);
	}
	html_end(&b, app);
	html_reply(req, status, &b);
}

/* Loads the appointment and its status for the page; false when a page
 * was replied instead (an error). */
static bool load(struct otd_req *req, int64_t id, struct otd_appointment_view *v,
                 struct otd_customer_status *cs)
{
	struct otd_error err = {0};
	if(app_appointment_view(req->app, id, v, &err) == OTD_OK) {
		if(app_customer_status(req->app, id, cs, &err) == OTD_OK)
			return true;
		otd_appointment_view_cleanup(v);
	}
	if(err.status == OTD_ENOTFOUND)
		render_not_found(req, NULL, 0, NULL);
	else
		html_reply_message(req, 503, "Please try again",
		                   "We could not open your booking just now. Please try again in a "
		                   "moment.");
	return false;
}

/* The link of the path and its visit; false when a page was replied. */
static bool open_visit(struct otd_req *req, int64_t *id, struct otd_appointment_view *v,
                       struct otd_customer_status *cs)
{
	return link_page(req, id) && load(req, *id, v, cs);
}

enum otd_status h_page_appointment(struct otd_req *req)
{
	int64_t id;
	struct otd_appointment_view v;
	struct otd_customer_status cs;
	if(!open_visit(req, &id, &v, &cs))
		return OTD_OK;
	const char *part = req_query(req, "part");
	if(part && strcmp(part, "status") == 0) {
		struct otd_buf b;
		otd_buf_init(&b, 0);
		render_status(&b, req->app, req->params[0], &v, &cs);
		html_reply(req, 200, &b);
	} else {
		render_appointment(req, 200, id, &v, &cs, NULL, 0, NULL);
	}
	otd_appointment_view_cleanup(&v);
	return OTD_OK;
}

/* 303 to the page with a banner. */
static void see_page(struct otd_req *req, const char *done)
{
	char loc[96];
	snprintf(loc, sizeof(loc), "/a/%s?done=%s", req->params[0], done);
	req_add_header(req, "Location", loc);
	struct otd_buf b;
	otd_buf_init(&b, 0);
	otd_buf_printf(&b, "<!doctype html><title>Done</title><p><a href=\"%s\">Your visit</a></p>",
	               loc);
	html_reply(req, 303, &b);
}

/* A POST through the link: same-origin, a valid link, a form. */
static bool post_begin(struct otd_req *req, int64_t *id, struct form *f)
{
	if(!link_page(req, id))
		return false;
	return html_post_form(req, f);
}

/* A change refused: the page again, with the reason on top. */
static void refused(struct otd_req *req, int64_t id, int status, const char *message)
{
	struct otd_appointment_view v;
	struct otd_customer_status cs;
	if(!load(req, id, &v, &cs))
		return;
	struct html_field_error e = {.field = "status"};
	snprintf(e.message, sizeof(e.message), "%s", message);
	render_appointment(req, status, id, &v, &cs, &e, 1, NULL);
	otd_appointment_view_cleanup(&v);
}

static int change_status(enum otd_status st)
{
	switch(st) {
	case OTD_ECONFLICT: return 409;
	case OTD_ESTATE: return 422;
	case OTD_EINVAL: return 400;
	case OTD_ERATE: return 429;
	case OTD_EBUSY: return 503;
	default: return 500;
	}
}

/* ---- moving ------------------------------------------------------------------------- */

static void render_reschedule(struct otd_req *req, int status, int64_t id,
                              const struct otd_appointment_view *v, const char *notice,
                              const struct otd_offer_window *alt, size_t n_alt)
{
	struct otd_app *app = req->app;
	const char *token = req->params[0];
	struct otd_slot_query q = {.address_id = v->a.address_id,
	                           .visit_type_id = v->a.visit_type_id,
	                           .for_appointment = id};
	html_days_ahead(app, MOVE_DAYS, q.from, q.to);
	struct otd_slot_result r = {0};
	struct otd_error err = {0};
	enum otd_status st = app_slots(app, &q, &r, &err);
	struct otd_buf b;
	otd_buf_init(&b, 0);
	html_begin(&b, app, "Choose another time");
	char when[96];
	otd_window_text(app->tz, v->a.window_start, v->a.window_end, false, when, sizeof(when));
	otd_buf_puts(&b, "<h1>Choose another time</h1>\n<p>Your visit is now ");
	html_esc(&b, when);
	otd_buf_printf(&b,
	               ". Choose a new time and it moves at once; your link keeps working. <a "
	               "href=\"/a/%s\">Keep it as it is</a>.</p>\n",
	               token);
	if(notice) {
		otd_buf_puts(&b, "<div class=\"notice\" role=\"alert\"><p>");
		html_esc(&b, notice);
		otd_buf_puts(&b, "</p>");
		if(n_alt) {
			otd_buf_printf(
			    &b,
			    "<form method=\"post\" action=\"/a/%s/move\"><p>The nearest times "
			    "we can still promise:</p><ul class=\"windows\">",
			    token);
			for(size_t i = 0; i < n_alt; i++) {
				char w[96], utc[32];
				otd_window_text(app->tz, alt[i].start, alt[i].end, false, w,
				                sizeof(w));
				otd_rfc3339_format(alt[i].start, utc, sizeof(utc));
				otd_buf_printf(&b,
				               "<li><button type=\"submit\" name=\"window_start\" "
				               "value=\"%s\" class=\"window\">%s</button></li>",
				               utc, w);
			}
			otd_buf_puts(&b, "</ul></form>");
		}
		otd_buf_puts(&b, "</div>\n");
	}
	if(st != OTD_OK) {
		otd_buf_puts(&b, "<p class=\"notice\">");
		html_esc(&b, err.message);
		otd_buf_puts(&b, "</p>\n");
	} else if(!r.n_days) {
		otd_buf_printf(&b,
		               "<p class=\"notice\" role=\"status\">There are no other free times "
		               "in the next %d days.</p>\n",
		               MOVE_DAYS);
	} else {
		otd_buf_printf(&b, "<form method=\"post\" action=\"/a/%s/move\" class=\"days\">\n",
		               token);
		html_window_days(&b, app, &r);
		otd_buf_puts(&b, "</form>\n");
	}
	otd_slot_result_cleanup(&r);
	html_end(&b, app);
	html_reply(req, status, &b);
}

enum otd_status h_page_reschedule(struct otd_req *req)
{
	int64_t id;
	struct otd_appointment_view v;
	struct otd_customer_status cs;
	if(!open_visit(req, &id, &v, &cs))
		return OTD_OK;
	if(strcmp(v.a.status, "booked") != 0)
		refused(req, id, 422,
		        "This visit can no longer be moved here; call us if you need to.");
	else if(req_throttle(req, req->app->limits->slots, "searches for times") != OTD_OK)
		html_reply_message(req, 429, "Please wait a moment", req->err.message);
	else
		render_reschedule(req, 200, id, &v, NULL, NULL, 0);
	otd_appointment_view_cleanup(&v);
	return OTD_OK;
}

enum otd_status h_page_move(struct otd_req *req)
{
	int64_t id;
	struct form f;
	if(!post_begin(req, &id, &f))
		return OTD_OK;
	struct otd_appointment_view v;
	struct otd_customer_status cs;
	if(!load(req, id, &v, &cs)) {
		form_cleanup(&f);
		return OTD_OK;
	}
	struct otd_error err = {0};
	struct otd_hold_request hr = {.address_id = v.a.address_id,
	                              .visit_type_id = v.a.visit_type_id,
	                              .for_appointment = id};
	const char *ws = form_get(&f, "window_start");
	enum otd_status st;
	if(!ws || otd_rfc3339_parse(ws, &hr.window_start, NULL) != OTD_OK) {
		render_reschedule(req, 400, id, &v, "Choose one of the times below.", NULL, 0);
		goto out;
	}
	char key[96];
	req_client_key(req, key, sizeof(key));
	hr.client_key = key;
	struct otd_hold_result hold;
	st = app_hold_create(req->app, &req->principal, &hr, &hold, &err);
	if(st == OTD_OK) {
		struct otd_appointment_view moved;
		st = app_reschedule(req->app, &req->principal, id, hold.token, 0, true, NULL,
		                    &moved, &err);
		otd_appointment_view_cleanup(&moved);
		if(st != OTD_OK) /* the hold is no use now: its capacity goes back at once */
			app_hold_release(req->app, hold.hold.id, NULL);
	}
	if(st == OTD_OK) {
		see_page(req, "moved");
	} else if(st == OTD_ECONFLICT || st == OTD_EINVAL) {
		struct otd_offer_window alt[3];
		size_t n_alt = app_nearest_windows(req->app, v.a.address_id, v.a.visit_type_id,
		                                   hr.window_start, alt, 3);
		render_reschedule(req, change_status(st), id, &v,
		                  "Sorry, that time was taken a moment ago.", alt, n_alt);
	} else {
		refused(req, id, change_status(st), err.message);
	}
out:
	otd_appointment_view_cleanup(&v);
	form_cleanup(&f);
	return OTD_OK;
}

enum otd_status h_page_accept(struct otd_req *req)
{
	int64_t id;
	struct form f;
	if(!post_begin(req, &id, &f))
		return OTD_OK;
	int64_t offer = 0;
	const char *o = form_get(&f, "offer");
	struct otd_error err = {0};
	enum otd_status st;
	if(!o || id_decode(o, &offer) != OTD_OK) {
		st = otd_error_set(&err, OTD_EINVAL, "missing_field", "offer",
		                   "Choose one of the times held for you.");
	} else {
		struct otd_appointment_view moved;
		st = app_reschedule(req->app, &req->principal, id, NULL, offer, true, NULL, &moved,
		                    &err);
		otd_appointment_view_cleanup(&moved);
	}
	form_cleanup(&f);
	if(st == OTD_OK)
		see_page(req, "moved");
	else
		refused(req, id, change_status(st),
		        st == OTD_ECONFLICT || st == OTD_ENOTFOUND
		            ? "Sorry, that time is no longer held for you. Choose another below."
		            : err.message);
	return OTD_OK;
}

enum otd_status h_page_keep(struct otd_req *req)
{
	int64_t id;
	struct form f;
	if(!post_begin(req, &id, &f))
		return OTD_OK;
	form_cleanup(&f);
	struct otd_error err = {0};
	enum otd_status st = app_offer_keep(req->app, id, &err);
	if(st == OTD_OK)
		see_page(req, "kept");
	else
		refused(req, id, change_status(st), err.message);
	return OTD_OK;
}

/* ---- cancelling --------------------------------------------------------------------- */

enum otd_status h_page_cancel_ask(struct otd_req *req)
{
	int64_t id;
	struct otd_appointment_view v;
	struct otd_customer_status cs;
	if(!open_visit(req, &id, &v, &cs))
		return OTD_OK;
	if(strcmp(v.a.status, "booked") != 0) {
		refused(
		    req, id, 422,
		    strcmp(v.a.status, "cancelled") == 0
		        ? "This visit is already cancelled."
		        : "The visit has started, so it can no longer be cancelled here. Call us.");
		otd_appointment_view_cleanup(&v);
		return OTD_OK;
	}
	struct otd_app *app = req->app;
	int64_t now = otd_clock_now(app->clock);
	int64_t notice = v.a.window_start - now;
	char when[96];
	otd_window_text(app->tz, v.a.window_start, v.a.window_end, false, when, sizeof(when));
	struct otd_buf b;
	otd_buf_init(&b, 0);
	html_begin(&b, app, "Cancel your visit");
	otd_buf_puts(&b, "<h1>Cancel your visit?</h1>\n<p>Your visit is ");
	html_esc(&b, when);
	otd_buf_puts(
	    &b, ".</p>\n<ul class=\"notice-facts\">\n<li>Cancelling costs you nothing.</li>\n");
	/* "1 day's", "3 days'", "1 hour's", "less than an hour's" notice. */
	char given[48];
	int64_t days = notice / 86400, hours = notice / 3600;
	if(days >= 1)
		snprintf(given, sizeof(given), "%lld %s", (long long)days,
		         days == 1 ? "day's" : "days'");
	else if(hours >= 1)
		snprintf(given, sizeof(given), "%lld %s", (long long)hours,
		         hours == 1 ? "hour's" : "hours'");
	else
		snprintf(given, sizeof(given), "less than an hour's");
	if(days >= 1)
		otd_buf_printf(
		    &b,
		    "<li>You are giving us %s notice, so we can offer the time to someone "
		    "else who is waiting.</li>\n",
		    given);
	else
		otd_buf_printf(
		    &b,
		    "<li>You are giving us %s notice: the visit is less than a day away, "
		    "so we may not be able to offer the time to someone else. Cancelling "
		    "still helps us plan the day.</li>\n",
		    given);
	otd_buf_printf(&b,
	               "<li>Our compensation for missed windows covers visits we change or "
	               "miss; a visit you cancel yourself is not covered.</li>\n<li>If you only "
	               "need another time, <a href=\"/a/%s/reschedule\">move the visit</a> "
	               "instead.</li>\n</ul>\n<form method=\"post\" action=\"/a/%s/cancel\">"
	               "\n<button type=\"submit\" class=\"danger\">Yes, cancel the visit</button> "
	               "<a href=\"/a/%s\">No, keep it</a>\n</form>\n",
	               req->params[0], req->params[0], req->params[0]);
	html_end(&b, app);
	html_reply(req, 200, &b);
	otd_appointment_view_cleanup(&v);
	return OTD_OK;
}

enum otd_status h_page_cancel(struct otd_req *req)
{
	int64_t id;
	struct form f;
	if(!post_begin(req, &id, &f))
		return OTD_OK;
	form_cleanup(&f);
	struct otd_error err = {0};
	struct otd_appointment_view v;
	enum otd_status st = app_cancel(req->app, &req->principal, id, true, NULL, &v, &err);
	otd_appointment_view_cleanup(&v);
	if(st == OTD_OK)
		see_page(req, "cancelled");
	else
		refused(req, id, change_status(st), err.message);
	return OTD_OK;
}

/* ---- feedback ---------------------------------------------------------------------- */

enum otd_status h_page_feedback(struct otd_req *req)
{
	int64_t id;
	struct form f;
	if(!post_begin(req, &id, &f))
		return OTD_OK;
	const char *rating = form_get(&f, "rating");
	const char *comment = form_get(&f, "comment");
	struct html_field_error e = {.field = "rating"};
	enum otd_status st = OTD_OK;
	int r = rating && rating[0] >= '1' && rating[0] <= '5' && !rating[1] ? rating[0] - '0' : 0;
	struct otd_error err = {0};
	if(!r) {
		st = OTD_EINVAL;
		snprintf(e.message, sizeof(e.message), "Choose a rating from 1 to 5.");
	} else {
		st = app_feedback_submit(req->app, id, r, comment ? comment : "",
		                         form_get(&f, "publish") != NULL, NULL, NULL, &err);
		if(st) {
			e.field = strcmp(err.field, "comment") == 0  ? "comment"
			          : strcmp(err.field, "rating") == 0 ? "rating"
			                                             : "status";
			snprintf(e.message, sizeof(e.message), "%s", err.message);
		}
	}
	if(st == OTD_OK) {
		see_page(req, "feedback");
	} else {
		struct otd_appointment_view v;
		struct otd_customer_status cs;
		if(load(req, id, &v, &cs)) {
			render_appointment(req, change_status(st), id, &v, &cs, &e, 1, &f);
			otd_appointment_view_cleanup(&v);
		}
	}
	form_cleanup(&f);
	return OTD_OK;
}
