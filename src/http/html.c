/* The pages' shared frame, escaping and form helpers (html.h). */
#include "http/html.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "app/booking.h"
#include "app/config.h"
#include "app/planning.h"
#include "onthedot/civil.h"
#include "onthedot/message.h"
#include "onthedot/tz.h"

static const char *const day_names[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                        "Friday", "Saturday", "Sunday"};
static const char *const month_names[] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};

void html_esc(struct otd_buf *b, const char *s)
{
	if(s)
		otd_html_escape(b, s);
}

static void begin(struct otd_buf *b, const struct otd_app *app, const char *title, const char *page)
{
	otd_buf_puts(b, "<!doctype html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n"
	                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	                "<title>");
	html_esc(b, title);
	otd_buf_puts(b, " - ");
	html_esc(b, app->cfg->organisation);
	otd_buf_puts(b, "</title>\n<link rel=\"stylesheet\" href=\"/static/site.css\">\n");
	if(page)
		otd_buf_printf(b, "<link rel=\"stylesheet\" href=\"/static/%s.css\">\n", page);
	if(page && strcmp(page, "dispatch") == 0)
		/* The board's data is asked for while the script loads: the
		 * page's first fetch (today's board, same origin) takes it. */
		otd_buf_puts(b, "<link rel=\"preload\" href=\"/api/v1/dispatch/board\" as=\"fetch\" "
		                "crossorigin=\"anonymous\">\n");
	otd_buf_printf(b,
	               "<link rel=\"icon\" href=\"/static/icon.svg\" type=\"image/svg+xml\">\n"
	               "<script src=\"/static/%s.js\" defer></script>\n</head>\n<body>\n"
	               "<a class=\"skip\" href=\"#main\">Skip to the main content</a>\n"
	               "<header class=\"site\"><p class=\"org\">",
	               page ? page : "site");
	html_esc(b, app->cfg->organisation);
	otd_buf_puts(b, "</p></header>\n<main id=\"main\" tabindex=\"-1\">\n");
}

void html_begin(struct otd_buf *b, const struct otd_app *app, const char *title)
{
	begin(b, app, title, NULL);
}

void html_begin_app(struct otd_buf *b, const struct otd_app *app, const char *title,
                    const char *page)
{
	begin(b, app, title, page);
}

void html_end(struct otd_buf *b, const struct otd_app *app)
{
	otd_buf_puts(b,
	             "</main>\n<footer class=\"site\"><p><a href=\"/privacy\">How we use your "
	             "details</a> &middot; <a href=\"/trust\">How well we keep our promises</a>");
	if(app->cfg->messages.phone && app->cfg->messages.phone[0]) {
		otd_buf_puts(b, " &middot; Call us: ");
		html_esc(b, app->cfg->messages.phone);
	}
	otd_buf_puts(b, "</p></footer>\n</body>\n</html>\n");
}

void html_reply(struct otd_req *req, int status, struct otd_buf *b)
{
	bool has_retry = false;
	for(size_t i = 0; i < req->n_headers; i++)
		has_retry = has_retry || strcmp(req->headers[i].name, "Retry-After") == 0;
	if((status == 429 || status == 503) && !has_retry) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%d", req->err.retry_after > 0 ? req->err.retry_after : 5);
		req_add_header(req, "Retry-After", ra);
	}
	size_t len = b->len;
	req_reply_raw(req, status, "text/html; charset=utf-8", otd_buf_steal(b), len);
}

void html_reply_message(struct otd_req *req, int status, const char *title, const char *text)
{
	struct otd_buf b;
	otd_buf_init(&b, 0);
	html_begin(&b, req->app, title);
	otd_buf_puts(&b, "<h1>");
	html_esc(&b, title);
	otd_buf_puts(&b, "</h1>\n<p>");
	html_esc(&b, text);
	otd_buf_puts(&b, "</p>\n<p><a href=\"/book\">Book a visit</a></p>\n");
	html_end(&b, req->app);
	html_reply(req, status, &b);
}

void html_day_text(const char *date, char *out, size_t size)
{
	int y, m, d;
	if(otd_date_parse(date, &y, &m, &d, NULL) != OTD_OK) {
		snprintf(out, size, "%s", date);
		return;
	}
	int wd = otd_weekday(otd_days_from_civil(y, m, d));
	snprintf(out, size, "%s %d %s", day_names[wd], d, month_names[m - 1]);
}

void html_time_text(const struct otd_app *app, int64_t t, char out[6])
{
	struct otd_local l;
	otd_tz_to_local(app->tz, t, &l);
	snprintf(out, 6, "%02u:%02u", (unsigned)l.c.hour % 24u, (unsigned)l.c.minute % 60u);
}

enum otd_status html_form(struct otd_req *req, struct form *f, struct otd_error *err)
{
	memset(f, 0, sizeof(*f));
	const char *ct = req_header(req, "Content-Type");
	if(ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0)
		return otd_error_set(err, OTD_EINVAL, "unsupported_media_type", NULL,
		                     "This page takes a form (application/x-www-form-urlencoded).");
	return form_parse(req->body.data, req->body.len, f, err);
}

/* The host[:port] part of an http(s) URL, or NULL. */
static const char *url_host(const char *url, size_t *len)
{
	const char *p = strstr(url, "://");
	if(!p)
		return NULL;
	p += 3;
	size_t n = strcspn(p, "/?#");
	*len = n;
	return p;
}

/* Whether the host[:port] of URL from is host, or the host of base (the
 * public URL behind a proxy). */
static bool same_host(const char *from, const char *host, const char *base)
{
	size_t n, bn = 0;
	const char *h = url_host(from, &n);
	if(!h)
		return false;
	if(host && strlen(host) == n && strncasecmp(h, host, n) == 0)
		return true;
	const char *b = base ? url_host(base, &bn) : NULL;
	return b && bn == n && strncasecmp(h, b, n) == 0;
}

bool html_local_path_ok(const char *path)
{
	if(!path || path[0] != '/' || path[1] == '/' || path[1] == '\\')
		return false;
	size_t n = strlen(path);
	if(n > 200)
		return false;
	for(size_t i = 0; i < n; i++)
		if(path[i] <= ' ' || path[i] >= 0x7f || path[i] == '"' || path[i] == '\'' ||
		   path[i] == '<' || path[i] == '>' || path[i] == '\\')
			return false;
	return true;
}

bool html_same_origin(struct otd_req *req)
{
	/* Browsers say where a request comes from in Sec-Fetch-Site even when
	 * Referrer-Policy: no-referrer (every page of ours) makes the Origin
	 * "null" and drops the Referer. */
	const char *site = req_header(req, "Sec-Fetch-Site");
	bool ok;
	if(site) {
		ok = strcmp(site, "same-origin") == 0 || strcmp(site, "none") == 0;
	} else {
		/* Older clients: the Origin, else the Referer, against our host. */
		const char *from = req_header(req, "Origin");
		if(!from || strcmp(from, "null") == 0)
			from = req_header(req, "Referer");
		ok = !from || same_host(from, req_header(req, "Host"), req->app->base_url);
	}
	if(ok)
		return true;
	html_reply_message(req, 403, "This form came from another site",
	                   "For your safety we only accept this form from our own pages. Open the "
	                   "page again and send it from there.");
	return false;
}

const char *html_error_for(const struct html_field_error *errs, size_t n, const char *name)
{
	for(size_t i = 0; i < n; i++)
		if(errs[i].field && strcmp(errs[i].field, name) == 0)
			return errs[i].message;
	return NULL;
}

void html_field_error(struct otd_buf *b, const struct html_field_error *errs, size_t n,
                      const char *name)
{
	const char *m = html_error_for(errs, n, name);
	if(!m)
		return;
	otd_buf_printf(b,
	               "<p class=\"error\" id=\"%s-error\"><span class=\"visually-hidden\">Error: "
	               "</span>",
	               name);
	html_esc(b, m);
	otd_buf_puts(b, "</p>\n");
}

void html_error_summary(struct otd_buf *b, const struct html_field_error *errs, size_t n)
{
	if(!n)
		return;
	otd_buf_puts(b, "<div class=\"error-summary\" role=\"alert\" tabindex=\"-1\" "
	                "id=\"error-summary\"><h2>");
	otd_buf_puts(b, n == 1 ? "Please check this" : "Please check these");
	otd_buf_puts(b, "</h2><ul>");
	for(size_t i = 0; i < n; i++) {
		otd_buf_printf(b, "<li><a href=\"#%s\">", errs[i].field);
		html_esc(b, errs[i].message);
		otd_buf_puts(b, "</a></li>");
	}
	otd_buf_puts(b, "</ul></div>\n");
}

bool html_post_form(struct otd_req *req, struct form *f)
{
	memset(f, 0, sizeof(*f));
	if(!html_same_origin(req))
		return false;
	struct otd_error err = {0};
	if(html_form(req, f, &err) != OTD_OK) {
		html_reply_message(req, 400, "Something went wrong with the form", err.message);
		return false;
	}
	return true;
}

void html_address(struct otd_buf *b, const char *line1, const char *line2, const char *town,
                  const char *postcode)
{
	const char *parts[] = {line1, line2, town, postcode};
	bool first = true;
	for(size_t i = 0; i < 4; i++) {
		if(!parts[i] || !parts[i][0])
			continue;
		if(!first)
			otd_buf_puts(b, ", ");
		html_esc(b, parts[i]);
		first = false;
	}
}

void html_window_button(struct otd_buf *b, const struct otd_app *app,
                        const struct otd_offer_window *w, const char *day_text)
{
	char s[6], e[6], utc[32];
	html_time_text(app, w->start, s);
	html_time_text(app, w->end, e);
	otd_rfc3339_format(w->start, utc, sizeof(utc));
	otd_buf_printf(b,
	               "<li><button type=\"submit\" name=\"window_start\" value=\"%s\" "
	               "class=\"window%s\" aria-label=\"%s, %s to %s%s\">%s to %s",
	               utc, w->green ? " green" : "", day_text, s, e,
	               w->green ? ", greener: little extra driving" : "", s, e);
	if(w->green)
		otd_buf_puts(b, " <span class=\"badge\" aria-hidden=\"true\">greener</span>");
	otd_buf_puts(b, "</button></li>\n");
}

void html_window_days(struct otd_buf *b, const struct otd_app *app, const struct otd_slot_result *r)
{
	for(size_t i = 0; i < r->n_days; i++) {
		char dt[48];
		html_day_text(r->days[i].date, dt, sizeof(dt));
		otd_buf_printf(b,
		               "<details class=\"day\"%s><summary><h2>%s</h2> <span "
		               "class=\"count\">%zu window%s</span></summary>\n<ul "
		               "class=\"windows\">\n",
		               i < 2 ? " open" : "", dt, r->days[i].n,
		               r->days[i].n == 1 ? "" : "s");
		for(size_t k = 0; k < r->days[i].n; k++)
			html_window_button(b, app, &r->days[i].windows[k], dt);
		otd_buf_puts(b, "</ul></details>\n");
	}
}

void html_add_error(struct html_field_error *errs, size_t *n, size_t max, const char *field,
                    const char *message)
{
	if(*n >= max || html_error_for(errs, *n, field))
		return;
	errs[*n].field = field;
	snprintf(errs[*n].message, sizeof(errs[*n].message), "%s", message);
	(*n)++;
}

void html_aria_error(struct otd_buf *b, const struct html_field_error *errs, size_t n,
                     const char *name, const char *hint_id)
{
	bool bad = html_error_for(errs, n, name) != NULL;
	if(bad)
		otd_buf_puts(b, " aria-invalid=\"true\"");
	if(bad || hint_id)
		otd_buf_printf(b, " aria-describedby=\"%s%s%s%s\"", hint_id ? hint_id : "",
		               hint_id && bad ? " " : "", bad ? name : "", bad ? "-error" : "");
}

void html_width_adjective(int minutes, char *out, size_t size)
{
	if(minutes % 60 == 0)
		snprintf(out, size, "%d-hour", minutes / 60);
	else
		snprintf(out, size, "%d-minute", minutes);
}

void html_days_ahead(const struct otd_app *app, int days, char from[11], char to[11])
{
	planner_local_date(app->planner, otd_clock_now(app->clock), from);
	snprintf(to, 11, "%s", from);
	int y, m, d;
	if(otd_date_parse(from, &y, &m, &d, NULL) == OTD_OK) {
		otd_civil_from_days(otd_days_from_civil(y, m, d) + days - 1, &y, &m, &d);
		otd_date_format(y, m, d, to);
	}
}
