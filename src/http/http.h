/* onthedot HTTP layer: the request object handlers see, the route table
 * and the reply helpers. Handlers decode input, call one app use case and
 * encode its result; they never run SQL (STYLE.md). */
#ifndef OTD_HTTP_H
#define OTD_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "app/app.h"
#include "onthedot/mem.h"
#include "onthedot/status.h"

struct MHD_Connection;
struct otd_server;
struct http_stream;

enum http_method {
	HTTP_GET = 1 << 0,
	HTTP_HEAD = 1 << 1,
	HTTP_POST = 1 << 2,
	HTTP_PUT = 1 << 3,
	HTTP_PATCH = 1 << 4,
	HTTP_DELETE = 1 << 5,
	HTTP_OPTIONS = 1 << 6,
	HTTP_OTHER = 1 << 7,
};

/* Who may call a route. Public routes skip authentication. */
enum route_auth {
	AUTH_PUBLIC = 0,
	AUTH_STAFF, /* any signed-in user or admin token; roles narrow it */
	AUTH_OPTIONAL, /* public, but credentials when sent must be valid and of roles */
};

/* Route flags. */
#define ROUTE_IDEMPOTENT 0x1u /* creating POST: honours Idempotency-Key */
#define ROUTE_NO_CSRF 0x2u    /* a cookie-less entry point such as login */

#define ROUTE_MAX_PARAMS 4
#define REQ_MAX_HEADERS 8

struct otd_req;
typedef enum otd_status (*route_fn)(struct otd_req *req);

struct route {
	unsigned methods;     /* HTTP_* mask; GET implies HEAD */
	const char *template; /* "/api/v1/visitors/{id}" */
	route_fn fn;
	enum route_auth auth;
	unsigned roles; /* OTD_ROLE_* mask allowed; 0 with AUTH_STAFF = any */
	unsigned flags;
};

struct req_header {
	const char *name;
	char *value; /* owned */
};

struct otd_req {
	struct otd_server *srv;
	struct otd_app *app;
	struct MHD_Connection *conn;
	int worker; /* the index of the worker serving it (server.c), or -1 */
	enum http_method method;
	char *path; /* owned copy of the path, split in place for params */
	const struct route *route;
	int route_index; /* -1 when no route matched */
	char *params[ROUTE_MAX_PARAMS];
	size_t n_params;
	struct otd_buf body;
	bool body_too_big;
	bool body_checked;
	uint64_t body_seen;
	char request_id[24];
	char client_ip[64];
	bool secure; /* over our TLS, or forwarded as https by a trusted proxy */
	struct timespec started;
	struct otd_principal principal;
	bool via_cookie;

	/* The reply under construction. */
	int status;
	char *reply;
	size_t reply_len;
	const char *content_type;
	struct req_header headers[REQ_MAX_HEADERS];
	size_t n_headers;
	bool replied;
	bool no_store_public; /* public page that still must not be cached */

	/* Suspended work: a handler that hands work to another thread sets
	 * resume_fn, suspends, and the worker resumes the connection; the
	 * access handler then calls resume_fn to build the reply. */
	route_fn resume_fn;
	void *job;
	void (*job_free)(void *job);
	bool suspended;

	/* A live stream (stream.c): when set, the reply's body comes from it
	 * instead of reply; the server hands it to the response. */
	struct http_stream *stream;

	struct otd_error err;
	json_t *err_extra; /* more members for the error object ("affected"), owned */
	char err_code[OTD_ERR_CODE_MAX]; /* the error answered (req_reply_error), for the request
	                                    log */
};

/* The route table (routes.c), terminated by an entry with template NULL. */
extern const struct route otd_routes[];

/* Number of entries in otd_routes. */
size_t routes_count(void);

/* Finds the route for method and path. On a match fills req->route,
 * req->route_index and req->params (pointing into req->path, which it
 * splits) and returns OTD_OK. Returns OTD_ENOTFOUND when no template
 * matches the path, OTD_EMETHOD when one matches but not the method (and
 * writes the allowed methods to *allowed). */
enum otd_status router_match(struct otd_req *req, unsigned *allowed);

/* Writes "GET, HEAD, POST" style text for a method mask into buf. */
void router_allow_header(unsigned methods, char *buf, size_t size);

/* Parses a method name into HTTP_*; HTTP_OTHER when unknown. */
enum http_method http_method_parse(const char *s);

/* Reply helpers. Each sets req->status and the body; the server sends it
 * when the handler returns. They take ownership of what they are given. */
void req_reply_json(struct otd_req *req, int status, json_t *body);
void req_reply_raw(struct otd_req *req, int status, const char *content_type, char *body, size_t len);
void req_reply_static(struct otd_req *req, int status, const char *content_type, const void *body,
                      size_t len);
void req_reply_error(struct otd_req *req, const struct otd_error *err);

/* Adds a response header; name must be a string literal, value is copied.
 * Silently ignores more than REQ_MAX_HEADERS (a programming error caught by
 * an assert in debug builds). */
void req_add_header(struct otd_req *req, const char *name, const char *value);

/* Request accessors. Values are owned by libmicrohttpd and live as long
 * as the request. */
const char *req_header(const struct otd_req *req, const char *name);
const char *req_query(const struct otd_req *req, const char *name);
const char *req_cookie(const struct otd_req *req, const char *name);

/* Parses the request body as one JSON object, rejecting duplicate keys,
 * trailing data and non-objects. On failure fills req->err (400) and
 * returns NULL; the caller owns the result. */
json_t *req_body_object(struct otd_req *req);

/* Suspends the connection until a worker calls req_resume(). The handler
 * sets req->resume_fn first and returns OTD_OK right after. */
void req_suspend(struct otd_req *req);

/* Resumes a suspended request from any thread. */
void req_resume(struct otd_req *req);

/* Parses path parameter i as a positive id. OTD_ENOTFOUND (404) when it
 * is not one: /visitors/abc names nothing. */
enum otd_status req_param_id(struct otd_req *req, size_t i, int64_t *id);

/* Reads ?limit= (default 50, 1..cfg limits.list_max) and ?after= (an
 * opaque cursor from a previous page's "next"). 400 naming the parameter
 * when malformed. */
enum otd_status req_page(struct otd_req *req, int *limit, int64_t *after);

/* The opaque cursor for "next" after id (a heap string). */
char *page_cursor(int64_t id);

/* Replies 200 {"items": items, "next": cursor after next, or null when
 * next is 0}. Takes ownership of items. */
void req_reply_page(struct otd_req *req, json_t *items, int64_t next);

/* Fills an Idempotency-Key record from the request: the key header (1 to
 * 255 printable ASCII), the principal as scope and a hash of method, route
 * and body. *has_key false when no header was sent; 400 when malformed. */
struct otd_idem;
enum otd_status req_idem(struct otd_req *req, struct otd_idem *idem, bool *has_key);

/* Who a hold or a rate limit is counted against: "user:ID", "token:ID"
 * or "ip:ADDRESS" (the client address, after trusted proxies). */
void req_client_key(const struct otd_req *req, char *out, size_t size);

/* Takes one unit from limiter l for the request's client. OTD_OK, or
 * OTD_ERATE with req->err saying "Too many <what> from you; wait N
 * seconds" and retry_after set. */
struct otd_limiter;
enum otd_status req_throttle(struct otd_req *req, struct otd_limiter *l, const char *what);

/* Reads ?active=true|false|all into -1/0/1 (default dflt). */
enum otd_status req_active_filter(struct otd_req *req, int dflt, int *active);

/* An instant as {"utc": RFC 3339, "local": RFC 3339 with offset}. */
json_t *json_instant(const struct otd_app *app, int64_t t);

/* An RFC 3339 UTC string for t. */
json_t *json_utc(int64_t t);

#endif
