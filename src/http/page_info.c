/* Public pages without personal data: the style sheet and script, the
 * privacy notice and the trust page (issue 6, journey 6).
 *   GET /static/{name}   site.css, site.js, icon.svg (embedded at build time)
 *   GET /privacy         how we use your details
 *   GET /trust           promises kept, notice given, compensation paid,
 *                        published feedback, as SVG charts */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/config.h"
#include "app/trust.h"
#include "http/handlers.h"
#include "http/html.h"
#include "onthedot/asset.h"
#include "onthedot/chart.h"
#include "onthedot/mem.h"

static const struct {
	const char *name, *type;
} statics[] = {
    {"site.css", "text/css; charset=utf-8"},
    {"site.js", "text/javascript; charset=utf-8"},
    {"icon.svg", "image/svg+xml"},
    {"visitor.js", "text/javascript; charset=utf-8"},
    {"visitor.css", "text/css; charset=utf-8"},
    {"dispatch.js", "text/javascript; charset=utf-8"},
    {"dispatch.css", "text/css; charset=utf-8"},
};

enum otd_status h_static(struct otd_req *req)
{
	for(size_t i = 0; i < sizeof(statics) / sizeof(statics[0]); i++) {
		if(strcmp(req->params[0], statics[i].name) != 0)
			continue;
		const struct otd_asset *a = otd_web_find(statics[i].name);
		if(!a)
			break;
		req_add_header(req, "Cache-Control", "public, max-age=300");
		req_reply_static(req, 200, statics[i].type, a->data, a->len);
		return OTD_OK;
	}
	return otd_error_set(&req->err, OTD_ENOTFOUND, "not_found", NULL,
	                     "There is nothing at this address.");
}

enum otd_status h_favicon(struct otd_req *req)
{
	/* Browsers ask for it on every page that names no icon (the API's JSON
	 * views): the same picture as /static/icon.svg. */
	const struct otd_asset *a = otd_web_find("icon.svg");
	if(!a)
		return otd_error_set(&req->err, OTD_ENOTFOUND, "not_found", NULL,
		                     "There is nothing at this address.");
	req_add_header(req, "Cache-Control", "public, max-age=86400");
	req_reply_static(req, 200, "image/svg+xml", a->data, a->len);
	return OTD_OK;
}

enum otd_status h_page_privacy(struct otd_req *req)
{
	const struct otd_asset *a = otd_web_find("privacy.html");
	struct otd_buf b;
	otd_buf_init(&b, 0);
	html_begin(&b, req->app, "How we use your details");
	if(a)
		otd_buf_append(&b, a->data, a->len);
	otd_buf_puts(&b, "<p>This service is run by ");
	html_esc(&b, req->app->cfg->organisation);
	otd_buf_puts(&b, ", who decide how your details are used.</p>\n");
	html_end(&b, req->app);
	req_add_header(req, "Cache-Control", "public, max-age=300");
	html_reply(req, 200, &b);
	return OTD_OK;
}

/* ---- /trust -------------------------------------------------------------------- */

static void money_text(int64_t minor, const char *currency, char *out, size_t size)
{
	const char *sym = strcmp(currency, "GBP") == 0   ? "£"
	                  : strcmp(currency, "EUR") == 0 ? "€"
	                  : strcmp(currency, "USD") == 0 ? "$"
	                                                 : "";
	snprintf(out, size, "%s%lld.%02lld%s%s", sym, (long long)(minor / 100),
	         (long long)(minor % 100), sym[0] ? "" : " ", sym[0] ? "" : currency);
}

/* "2 hours 15 minutes", "45 minutes" of a number of minutes (>= 0). */
static void minutes_text(int64_t minutes, char *out, size_t size)
{
	int64_t h = minutes / 60, m = minutes % 60;
	if(h && m)
		snprintf(out, size, "%lld hour%s %lld minute%s", (long long)h, h == 1 ? "" : "s",
		         (long long)m, m == 1 ? "" : "s");
	else if(h)
		snprintf(out, size, "%lld hour%s", (long long)h, h == 1 ? "" : "s");
	else
		snprintf(out, size, "%lld minute%s", (long long)m, m == 1 ? "" : "s");
}

static void width_label(int minutes, char *out, size_t size)
{
	char w[24];
	html_width_adjective(minutes, w, sizeof(w));
	snprintf(out, size, "%s windows", w);
}
/* A chart sized for a phone (360 px wide, scaled by the style sheet), or
 * its empty text as a paragraph. */
static void chart(struct otd_buf *b, struct otd_chart *c)
{
	if(!c->n_bars) {
		otd_buf_puts(b, "<p>");
		html_esc(b, c->empty_text);
		otd_buf_puts(b, "</p>\n");
		return;
	}
	c->width = 360;
	c->label_width = 130;
	c->value_width = 110;
	/* The caption is for the eye; the SVG names itself to screen readers. */
	otd_buf_puts(b, "<figure class=\"chart\">\n<figcaption aria-hidden=\"true\">");
	html_esc(b, c->title);
	otd_buf_puts(b, "</figcaption>\n");
	if(otd_chart_bars_svg(c, b, NULL) != OTD_OK)
		otd_buf_puts(b, "<p>The chart could not be drawn.</p>");
	otd_buf_puts(b, "</figure>\n");
}

static void trust_period(struct otd_buf *b, const struct otd_trust_period *p)
{
	otd_buf_printf(b,
	               "<section class=\"period\" aria-labelledby=\"p%d\"><h2 id=\"p%d\">The last "
	               "%d days</h2>\n<div class=\"trust-figures\">\n",
	               p->days, p->days, p->days);
	if(p->overall.percent >= 0)
		otd_buf_printf(
		    b,
		    "<div><span class=\"big\">%d%%</span> of promised windows kept (%lld of "
		    "%lld visits)</div>\n",
		    p->overall.percent, (long long)p->overall.kept, (long long)p->overall.due);
	else
		otd_buf_puts(b,
		             "<div><span class=\"big\">&ndash;</span> no visits were due</div>\n");
	if(p->has_median && p->median_notice_min >= 0) {
		char n[64];
		minutes_text(p->median_notice_min, n, sizeof(n));
		otd_buf_printf(b,
		               "<div><span class=\"big\">%s</span> median notice before a delay "
		               "(%lld delays; %lld told before the window opened)</div>\n",
		               n, (long long)p->delays, (long long)p->told_before_start);
	} else if(p->has_median) {
		/* Honest when it is bad: the typical warning came too late. */
		char n[64];
		minutes_text(-p->median_notice_min, n, sizeof(n));
		otd_buf_printf(
		    b,
		    "<div><span class=\"big\">Late</span> median notice before a delay: "
		    "the median warning came %s after the window opened (%lld delays; %lld "
		    "told before the window opened)</div>\n",
		    n, (long long)p->delays, (long long)p->told_before_start);
	} else {
		otd_buf_puts(b, "<div><span class=\"big\">&ndash;</span> no delays to tell anyone "
		                "about</div>\n");
	}
	char money[48];
	money_text(p->paid_minor, p->currency[0] ? p->currency : "GBP", money, sizeof(money));
	otd_buf_printf(
	    b, "<div><span class=\"big\">%s</span> compensation paid (%lld payment%s)</div>\n",
	    money, (long long)p->paid_cases, p->paid_cases == 1 ? "" : "s");
	otd_buf_printf(b,
	               "<div><span class=\"big\">%lld</span> ratings: %lld good, %lld neutral, "
	               "%lld poor; %lld withheld by a moderator</div>\n</div>\n",
	               (long long)p->feedback, (long long)p->good, (long long)p->neutral,
	               (long long)p->bad, (long long)p->withheld);

	struct otd_chart_bar bars[OTD_TRUST_WIDTHS_MAX];
	char labels[OTD_TRUST_WIDTHS_MAX][32], values[OTD_TRUST_WIDTHS_MAX][48];
	for(size_t i = 0; i < p->n_widths; i++) {
		width_label(p->widths[i].width_min, labels[i], sizeof(labels[i]));
		snprintf(values[i], sizeof(values[i]), "%d%% of %lld", p->widths[i].percent,
		         (long long)p->widths[i].due);
		bars[i] = (struct otd_chart_bar){
		    .label = labels[i], .value = p->widths[i].percent, .value_text = values[i]};
	}
	char id[16], title[96];
	snprintf(id, sizeof(id), "kept%d", p->days);
	snprintf(title, sizeof(title), "Promises kept in the last %d days, by window width",
	         p->days);
	struct otd_chart c = {.id = id,
	                      .title = title,
	                      .desc = "The share of visits where we arrived within the promised "
	                              "window.",
	                      .bars = bars,
	                      .n_bars = p->n_widths,
	                      .percent = true,
	                      .empty_text = "No visits were due in this period."};
	chart(b, &c);

	struct otd_chart_bar fb[3] = {{.label = "Good (4 or 5)", .value = (double)p->good},
	                              {.label = "Neutral (3)", .value = (double)p->neutral},
	                              {.label = "Poor (1 or 2)", .value = (double)p->bad}};
	snprintf(id, sizeof(id), "marks%d", p->days);
	snprintf(title, sizeof(title), "Ratings customers gave in the last %d days", p->days);
	struct otd_chart fc = {.id = id,
	                       .title = title,
	                       .desc = "How many customers gave each kind of rating, published or "
	                               "not.",
	                       .bars = fb,
	                       .n_bars = p->feedback ? 3 : 0,
	                       .empty_text = "No ratings yet in this period."};
	chart(b, &fc);
	otd_buf_puts(b, "</section>\n");
}

enum otd_status h_page_trust(struct otd_req *req)
{
	struct otd_app *app = req->app;
	struct otd_trust_stats *ts = xmalloc(sizeof(*ts));
	struct otd_error err = {0};
	if(app_trust_stats(app, otd_clock_now(app->clock), ts, &err) != OTD_OK) {
		free(ts);
		html_reply_message(
		    req, 503, "Please try again",
		    "Our figures are being worked out; please look again in a moment.");
		return OTD_OK;
	}
	struct otd_buf b;
	otd_buf_init(&b, 0);
	html_begin(&b, app, "How well we keep our promises");
	otd_buf_puts(
	    &b, "<h1>How well we keep our promises</h1>\n<p>When we book a visit we promise "
	        "a window, and we count every one. A promise is kept when we arrive before "
	        "the window ends. A visit you cancel is not counted; a visit we cancel "
	        "counts as broken. Notice is the time between our first message about a "
	        "delay and the start of the window. These figures have no names in them.</p>\n");
	trust_period(&b, &ts->periods[0]);
	trust_period(&b, &ts->periods[1]);
	otd_buf_puts(
	    &b, "<section aria-labelledby=\"said\"><h2 id=\"said\">What customers said</h2>\n");
	otd_buf_printf(&b,
	               "<p>We publish comments, good and bad, when the customer agreed. We remove "
	               "only personal details and abuse. In the last 90 days we withheld %lld "
	               "comment%s.</p>\n",
	               (long long)ts->periods[1].withheld, ts->periods[1].withheld == 1 ? "" : "s");
	if(!ts->n_latest) {
		otd_buf_puts(&b, "<p>No published comments yet.</p>\n");
	} else {
		otd_buf_puts(&b, "<ul class=\"feedback-list\">\n");
		for(size_t i = 0; i < ts->n_latest; i++) {
			const struct otd_trust_comment *c = &ts->latest[i];
			char day[48];
			html_day_text(c->date, day, sizeof(day));
			otd_buf_printf(&b, "<li><p><strong>%d out of 5</strong>, %s, ", c->rating,
			               day);
			html_esc(&b, c->visit_type);
			otd_buf_puts(&b, "</p>");
			if(c->comment[0]) {
				otd_buf_puts(&b, "<blockquote><p>");
				html_esc(&b, c->comment);
				otd_buf_puts(&b, "</p></blockquote>");
			}
			if(c->redacted)
				otd_buf_puts(
				    &b, "<p class=\"hint\">Edited to remove personal details or "
				        "abuse.</p>");
			otd_buf_puts(&b, "</li>\n");
		}
		otd_buf_puts(&b, "</ul>\n");
	}
	otd_buf_puts(&b, "</section>\n");
	free(ts);
	html_end(&b, app);
	req_add_header(req, "Cache-Control", "public, max-age=60");
	html_reply(req, 200, &b);
	return OTD_OK;
}
