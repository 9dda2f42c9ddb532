/* Authentication and authorisation of a request: bearer token or session
 * cookie (401), role (403), then CSRF on cookie-authenticated state
 * changes (403). */
#include <sodium.h>
#include <string.h>
#include <strings.h>

#include "app/accounts.h"
#include "http/handlers.h"

static bool safe_method(enum http_method m)
{
	return m == HTTP_GET || m == HTTP_HEAD || m == HTTP_OPTIONS;
}

enum otd_status http_authorise(struct otd_req *req)
{
	const struct route *r = req->route;
	if(r->auth == AUTH_PUBLIC)
		return OTD_OK;
	const char *authz = req_header(req, "Authorization");
	enum otd_status st;
	if(r->auth == AUTH_OPTIONAL && !authz && !req_cookie(req, OTD_SESSION_COOKIE))
		return OTD_OK; /* a customer: no credentials */
	if(authz) {
		if(strncasecmp(authz, "Bearer ", 7) != 0)
			return otd_error_set(&req->err, OTD_EAUTH, "unsupported_authorization", NULL,
			                     "Use \"Authorization: Bearer TOKEN\" with an admin API token.");
		const char *token = authz + 7;
		while(*token == ' ')
			token++;
		st = app_authenticate_bearer(req->app, token, req->client_ip, &req->principal,
		                             &req->err);
		req->via_cookie = false;
	} else {
		const char *cookie = req_cookie(req, OTD_SESSION_COOKIE);
		if(!cookie)
			return otd_error_set(&req->err, OTD_EAUTH, "unauthenticated", NULL,
			                     "Sign in or send an admin API token to use this address.");
		st = app_authenticate_cookie(req->app, cookie, req->client_ip, &req->principal,
		                             &req->err);
		req->via_cookie = true;
	}
	if(st)
		return st;
	if(r->roles && !(r->roles & req->principal.role))
		return otd_error_set(&req->err, OTD_EFORBIDDEN, "forbidden", NULL,
		                     "Your role (%s) may not use this address.",
		                     otd_role_name(req->principal.role));
	if(req->via_cookie && !safe_method(req->method) && !(r->flags & ROUTE_NO_CSRF)) {
		const char *csrf = req_header(req, "X-CSRF-Token");
		size_t want = strlen(req->principal.csrf);
		if(!csrf || strlen(csrf) != want || want == 0 ||
		   sodium_memcmp(csrf, req->principal.csrf, want) != 0)
			return otd_error_set(&req->err, OTD_EFORBIDDEN, "csrf_failed", NULL,
			                     "The X-CSRF-Token header is missing or wrong; reload the page "
			                     "and try again.");
	}
	return OTD_OK;
}
