/* onthedot server-rendered pages: the shared frame (head, header, footer),
 * escaping, the HTML reply and the form helpers every page uses.
 *
 * Pages work with plain forms first (no JavaScript needed); /static/site.js
 * improves them. Everything a person typed or the database holds goes
 * through html_esc; only literals of this program are written raw. */
#ifndef OTD_HTTP_HTML_H
#define OTD_HTTP_HTML_H

#include <stdbool.h>
#include <stdint.h>

#include "http/form.h"
#include "http/http.h"
#include "onthedot/mem.h"

/* Starts a page: doctype, head with title ("<title> - <organisation>"),
 * the style sheet and script, a skip link, the header and <main>. title
 * is escaped. */
void html_begin(struct otd_buf *b, const struct otd_app *app, const char *title);

/* html_begin for a staff application page: /static/<page>.css after the
 * site's style sheet, and /static/<page>.js instead of site.js (the
 * dispatch board also preloads today's board). page is a literal of this
 * program ("visitor", "dispatch"). */
void html_begin_app(struct otd_buf *b, const struct otd_app *app, const char *title,
                    const char *page);

/* Closes <main> and writes the footer (privacy notice, trust page,
 * contact number) and the end of the document. */
void html_end(struct otd_buf *b, const struct otd_app *app);

/* Appends s HTML-escaped (& < > " '). NULL appends nothing. */
void html_esc(struct otd_buf *b, const char *s);

/* Replies status with the page in b (taken over; b is left empty), as
 * text/html, never cached; 429 and 503 say Retry-After (req->err's, or 5
 * seconds). */
void html_reply(struct otd_req *req, int status, struct otd_buf *b);

/* A page that is only a heading and a paragraph (errors, notices). */
void html_reply_message(struct otd_req *req, int status, const char *title, const char *text);

/* The local dates of today and of days - 1 days later (days >= 1), in the
 * organisation's zone: the range a page offers windows over. */
void html_days_ahead(const struct otd_app *app, int days, char from[11], char to[11]);

/* "Tuesday 8 December" of a local date "YYYY-MM-DD" into out. */
void html_day_text(const char *date, char *out, size_t size);

/* "10:00" of an instant in the organisation's zone. */
void html_time_text(const struct otd_app *app, int64_t t, char out[6]);

/* Reads the request body as a form (application/x-www-form-urlencoded).
 * OTD_OK with f filled, or OTD_EINVAL with err set (bad encoding, wrong
 * content type). */
enum otd_status html_form(struct otd_req *req, struct form *f, struct otd_error *err);

/* Whether path is worth following after signing in (?next=): a local
 * path of ours ("/x"; never "//host", "/\\host" or a URL), printable
 * ASCII without quotes, angle brackets or backslashes, at most 200 bytes. */
bool html_local_path_ok(const char *path);

/* A cross-site form post is refused: Sec-Fetch-Site other than
 * same-origin or none; without it (older clients), an Origin or Referer
 * naming another host than Host or the public URL's. A client sending
 * none of them is let through (the link is the capability). true when the
 * request may go on; else a 403 page has been replied. */
bool html_same_origin(struct otd_req *req);

/* One field's error, shown next to it. */
struct html_field_error {
	const char *field; /* the form field's name */
	char message[OTD_ERR_MESSAGE_MAX];
};

/* Writes <p class="error" id="<name>-error"> with the message for name
 * from errs (n of them), if any. */
void html_field_error(struct otd_buf *b, const struct html_field_error *errs, size_t n,
                      const char *name);

/* The message for name in errs, or NULL. */
const char *html_error_for(const struct html_field_error *errs, size_t n, const char *name);

/* A form post of a page: refuses a cross-site post (403 page) and a body
 * that is not a form (400 page). true with f filled (form_cleanup it);
 * false when a page has been replied. */
bool html_post_form(struct otd_req *req, struct form *f);

/* "line1, line2, town, postcode" (empty parts left out), escaped. */
void html_address(struct otd_buf *b, const char *line1, const char *line2, const char *town,
                  const char *postcode);

/* One offered window as a submit button named window_start (its start in
 * RFC 3339), labelled "10:00 to 11:00" for the eye and "<day_text>, 10:00
 * to 11:00" for a screen reader, marked when greener. */
struct otd_offer_window;
void html_window_button(struct otd_buf *b, const struct otd_app *app,
                        const struct otd_offer_window *w, const char *day_text);

/* The windows of r by day: a <details> per day (the first two open)
 * holding a list of window buttons. The caller wraps it in its form. */
struct otd_slot_result;
void html_window_days(struct otd_buf *b, const struct otd_app *app,
                      const struct otd_slot_result *r);

/* Adds field's error (message copied) to errs, which holds *n of max;
 * nothing when errs is full or field already has one (the first error of
 * a field is the one to fix first). */
void html_add_error(struct html_field_error *errs, size_t *n, size_t max, const char *field,
                    const char *message);

/* Writes the aria attributes of input name: aria-invalid when errs has
 * an error for it, aria-describedby naming hint_id (may be NULL) and the
 * error's element ("<name>-error"). */
void html_aria_error(struct otd_buf *b, const struct html_field_error *errs, size_t n,
                     const char *name, const char *hint_id);

/* "2-hour", "90-minute": a window width as an adjective. */
void html_width_adjective(int minutes, char *out, size_t size);

/* The summary above a form: an alert listing each error as a link to its
 * field (the element with id = field). Nothing when n is 0. */
void html_error_summary(struct otd_buf *b, const struct html_field_error *errs, size_t n);

#endif
