/* The staff pages (issue 8, journeys 3 and 4): signing in and the two
 * applications the signed-in staff use.
 *   GET  /login            the sign-in form (?next=/local/path)
 *   POST /login            signs in; 303 to next, or to the role's page
 *   POST /logout           signs out (form field csrf); 303 to /login
 *   GET  /visitor          the visitor's phone page (visitors)
 *   GET  /dispatch         the dispatcher's board (dispatchers, admins)
 *   GET  /visitor-sw.js    the phone page's service worker (its scope must
 *                          cover /visitor, so it is served from the root)
 *
 * The two applications are shells: the page's script (src/web/<page>.js)
 * builds everything from the API, with the session's CSRF token handed
 * over in a data attribute. Without a valid session they answer 303 to
 * /login?next=<page>; a signed-in user of another role gets a 403 page. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "app/accounts.h"
#include "app/config.h"
#include "http/handlers.h"
#include "http/html.h"
#include "onthedot/asset.h"
#include "onthedot/civil.h"
#include "onthedot/model.h"

static const char *role_home(unsigned role)
{
	return role == OTD_ROLE_VISITOR ? "/visitor" : "/dispatch";
}

static void redirect(struct otd_req *req, const char *to)
{
	req_add_header(req, "Location", to);
	struct otd_buf b;
	otd_buf_init(&b, 0);
	otd_buf_puts(&b, "<!doctype html><title>Moved</title><p><a href=\"");
	html_esc(&b, to);
	otd_buf_puts(&b, "\">Continue</a></p>");
	html_reply(req, 303, &b);
}

/* The session behind the request's cookie, if any and valid. */
static bool page_session(struct otd_req *req)
{
	const char *cookie = req_cookie(req, OTD_SESSION_COOKIE);
	if(!cookie)
		return false;
	struct otd_error err = {0};
	if(app_authenticate_cookie(req->app, cookie, req->client_ip, &req->principal, &err) !=
	   OTD_OK) {
		memset(&req->principal, 0, sizeof(req->principal));
		return false;
	}
	req->via_cookie = true;
	return true;
}

/* true when the signed-in user may open page (of roles); else a 303 to
 * the sign-in page or a 403 page has been replied. */
static bool page_guard(struct otd_req *req, const char *page, unsigned roles)
{
	if(!page_session(req)) {
		char to[96];
		snprintf(to, sizeof(to), "/login?next=%s", page);
		redirect(req, to);
		return false;
	}
	if(!(req->principal.role & roles)) {
		unsigned role = req->principal.role;
		html_reply_message(
		    req, 403, "This page is not for your account",
		    role == OTD_ROLE_VISITOR ? "Your route is on the visitor page: open /visitor."
		    : role & (OTD_ROLE_DISPATCHER | OTD_ROLE_ADMIN)
		        ? "This page is for visitors; the dispatch board is at /dispatch."
		        : "This page is for dispatchers: sign out and sign in with a dispatcher's "
		          "account.");
		return false;
	}
	return true;
}

/* ---- sign in and out ---------------------------------------------------------- */

/* Frees the form, wiping the password it decoded first. */
static void form_cleanup_secret(struct form *f)
{
	for(size_t i = 0; i < f->n; i++)
		if(strcmp(f->names[i], "password") == 0)
			sodium_memzero(f->values[i], strlen(f->values[i]));
	form_cleanup(f);
}

static void login_form(struct otd_req *req, int status, const char *next, const char *login,
                       const char *error)
{
	struct otd_buf b;
	otd_buf_init(&b, 0);
	html_begin(&b, req->app, "Sign in");
	otd_buf_puts(&b, "<h1>Sign in</h1>\n");
	if(error) {
		otd_buf_puts(&b, "<div class=\"error-summary\" role=\"alert\" tabindex=\"-1\">"
		                 "<h2>There is a problem</h2><p>");
		html_esc(&b, error);
		otd_buf_puts(&b, "</p></div>\n");
	}
	otd_buf_puts(&b, "<p>For the organisation's staff: visitors and dispatchers.</p>\n"
	                 "<form method=\"post\" action=\"/login\" novalidate>\n");
	if(html_local_path_ok(next)) {
		otd_buf_puts(&b, "<input type=\"hidden\" name=\"next\" value=\"");
		html_esc(&b, next);
		otd_buf_puts(&b, "\">\n");
	}
	otd_buf_puts(&b,
	             "<div class=\"field\"><label for=\"login\">Login</label>"
	             "<input type=\"text\" id=\"login\" name=\"login\" autocomplete=\"username\" "
	             "autocapitalize=\"none\" spellcheck=\"false\" required value=\"");
	html_esc(&b, login);
	otd_buf_puts(&b, "\"></div>\n<div class=\"field\"><label for=\"password\">Password</label>"
	                 "<input type=\"password\" id=\"password\" name=\"password\" "
	                 "autocomplete=\"current-password\" required></div>\n"
	                 "<button type=\"submit\">Sign in</button>\n</form>\n");
	html_end(&b, req->app);
	html_reply(req, status, &b);
}

enum otd_status h_page_login(struct otd_req *req)
{
	login_form(req, 200, req_query(req, "next"), "", NULL);
	return OTD_OK;
}

static enum otd_status page_login_finish(struct otd_req *req)
{
	struct otd_user user;
	char csrf[OTD_CSRF_LEN + 1];
	int64_t expires_at;
	struct form f = {0};
	form_parse((const char *)req->body.data, req->body.len, &f, &(struct otd_error){0});
	const char *next = form_get(&f, "next");
	const char *login = form_get(&f, "login");
	enum otd_status st = session_login_end(req, &user, csrf, &expires_at);
	if(st == OTD_OK) {
		redirect(req, html_local_path_ok(next) ? next : role_home(user.role));
	} else if(st == OTD_EAUTH) {
		login_form(req, 401, next, login ? login : "", req->err.message);
	} else {
		html_reply_message(req, st == OTD_EBUSY ? 503 : 500, "Please try again",
		                   req->err.message);
	}
	otd_error_clear(&req->err);
	form_cleanup_secret(&f);
	return OTD_OK;
}

enum otd_status h_page_login_post(struct otd_req *req)
{
	struct form f;
	if(!html_post_form(req, &f))
		return OTD_OK;
	const char *login = form_get(&f, "login");
	const char *password = form_get(&f, "password");
	const char *next = form_get(&f, "next");
	const char *problem = NULL;
	if(!login || !login[0])
		problem = "Enter your login.";
	else if(!password || !password[0])
		problem = "Enter your password.";
	else if(strlen(login) > OTD_LOGIN_MAX)
		problem = "That login is too long.";
	if(problem) {
		login_form(req, 400, next, login ? login : "", problem);
		form_cleanup_secret(&f);
		return OTD_OK;
	}
	enum otd_status st = session_login_begin(req, login, password, page_login_finish);
	if(st == OTD_ERATE) {
		req_add_header(req, "Retry-After", "60");
		login_form(req, 429, next, login, req->err.message);
	} else if(st == OTD_EINVAL) {
		login_form(req, 400, next, login, req->err.message);
	} else if(st) {
		html_reply_message(req, st == OTD_EBUSY ? 503 : 500, "Please try again",
		                   req->err.message);
	}
	if(st)
		otd_error_clear(&req->err);
	form_cleanup_secret(&f);
	return OTD_OK;
}

enum otd_status h_page_logout(struct otd_req *req)
{
	struct form f;
	if(!html_post_form(req, &f))
		return OTD_OK;
	if(page_session(req)) {
		const char *csrf = form_get(&f, "csrf");
		size_t want = strlen(req->principal.csrf);
		if(!csrf || strlen(csrf) != want || want == 0 ||
		   sodium_memcmp(csrf, req->principal.csrf, want) != 0) {
			html_reply_message(
			    req, 403, "Please try again",
			    "The form was out of date; reload the page and sign out again.");
			form_cleanup(&f);
			return OTD_OK;
		}
		struct otd_error err = {0};
		if(app_session_end(req->app, &req->principal, &err) != OTD_OK) {
			/* The session lives on: do not pretend it ended. */
			req->err.retry_after = err.retry_after;
			html_reply_message(req, err.status == OTD_EBUSY ? 503 : 500,
			                   "Please try again", err.message);
			form_cleanup(&f);
			return OTD_OK;
		}
	}
	session_cookie_set(req, "", 0);
	redirect(req, "/login");
	form_cleanup(&f);
	return OTD_OK;
}

/* ---- the two applications ----------------------------------------------------- */

static void app_shell(struct otd_req *req, const char *name, const char *title)
{
	struct otd_buf b;
	otd_buf_init(&b, 0);
	html_begin_app(&b, req->app, title, name);
	otd_buf_printf(&b, "<div id=\"app\" class=\"%s-app\" data-csrf=\"", name);
	html_esc(&b, req->principal.csrf);
	otd_buf_puts(&b, "\" data-role=\"");
	html_esc(&b, otd_role_name(req->principal.role));
	otd_buf_puts(&b, "\"");
	if(req->principal.visitor_id)
		otd_buf_printf(&b, " data-visitor-id=\"%lld\"",
		               (long long)req->principal.visitor_id);
	otd_buf_puts(&b, ">\n<h1>");
	html_esc(&b, title);
	otd_buf_puts(&b, "</h1>\n<p class=\"loading\" role=\"status\">Loading&hellip;</p>\n"
	                 "<noscript><p class=\"error\">This page needs JavaScript: turn it on, "
	                 "or call the office.</p></noscript>\n</div>\n"
	                 "<form method=\"post\" action=\"/logout\" class=\"sign-out\">"
	                 "<input type=\"hidden\" name=\"csrf\" value=\"");
	html_esc(&b, req->principal.csrf);
	otd_buf_puts(&b,
	             "\"><button type=\"submit\" class=\"secondary\">Sign out</button></form>\n");
	html_end(&b, req->app);
	html_reply(req, 200, &b);
}

enum otd_status h_page_visitor(struct otd_req *req)
{
	if(page_guard(req, "/visitor", OTD_ROLE_VISITOR))
		app_shell(req, "visitor", "Today's route");
	return OTD_OK;
}

enum otd_status h_page_dispatch(struct otd_req *req)
{
	if(page_guard(req, "/dispatch", OTD_ROLE_DISPATCHER | OTD_ROLE_ADMIN))
		app_shell(req, "dispatch", "Dispatch board");
	return OTD_OK;
}

enum otd_status h_visitor_sw(struct otd_req *req)
{
	const struct otd_asset *a = otd_web_find("visitor-sw.js");
	if(!a)
		return otd_error_set(&req->err, OTD_ENOTFOUND, "not_found", NULL,
		                     "There is nothing at this address.");
	req_add_header(req, "Cache-Control", "no-cache");
	req_reply_static(req, 200, "text/javascript; charset=utf-8", a->data, a->len);
	return OTD_OK;
}
