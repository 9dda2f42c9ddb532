/* The libmicrohttpd daemon and the life of one request:
 *   uri_log   allocate the request, start its timer
 *   access #1 parse method, match the route, decide 413 from Content-Length
 *   access #n collect the body up to the cap (chunked bodies counted too)
 *   access #z authenticate, check CSRF, run the handler, queue the reply
 *   completed log one line, count metrics, free everything
 * See TRAPS.md (libmicrohttpd) for why it is shaped this way. */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <sodium.h>

#include "app/log.h"
#include "http/handlers.h"
#include "http/http.h"
#include "http/metrics.h"
#include "http/stream.h"
#include "http/tls.h"

#define IP_BUCKETS 1024

struct ip_count {
	struct ip_count *next;
	unsigned count;
	char ip[64];
};

struct otd_server {
	struct MHD_Daemon **daemons; /* one per worker thread (http.threads) */
	unsigned n_daemons;
	unsigned conn_limit; /* connections each daemon takes */
	unsigned next;       /* the daemon the acceptor tries first (its own) */
	_Atomic int *busy;   /* per daemon: requests begun and not completed */
	struct otd_app *app;
	int listen_fd;
	unsigned port;
	int wake[2];        /* a pipe: a byte in wake[1] stops the acceptor */
	pthread_t acceptor; /* accepts, and hands each connection to a worker */
	bool acceptor_started;
	size_t max_body;
	unsigned per_ip_limit;
	char **trusted;
	pthread_mutex_t ip_lock;
	struct ip_count *ip_table[IP_BUCKETS];
	_Atomic int inflight;
	_Atomic uint64_t req_counter;
	uint32_t id_prefix;
	struct http_metrics *metrics;
	struct http_streams *streams;
	struct otd_tls *tls; /* NULL: plain HTTP */
	int hsts_seconds;
	_Atomic uint64_t tls_reloads, tls_reload_failures;
};

/* One per connection (libmicrohttpd's socket context): its address's
 * count, and the certificate its TLS handshake chose, held until it
 * closes so a reload never frees one a session still points at. */
struct conn_ctx {
	struct otd_server *srv;
	struct ip_count *ip;
	struct otd_tls_creds *creds;
};

struct http_metrics *http_server_metrics(struct otd_server *srv);

struct http_metrics *http_server_metrics(struct otd_server *srv)
{
	return srv->metrics;
}

/* ---- per-client connection accounting ----------------------------- */

static unsigned ip_hash(const char *s)
{
	unsigned h = 2166136261u;
	for(; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % IP_BUCKETS;
}

static void addr_to_ip(const struct sockaddr *addr, char *out, size_t size)
{
	if(!addr || getnameinfo(addr,
	                        addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                                    : sizeof(struct sockaddr_in),
	                        out, (socklen_t)size, NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(out, size, "unknown");
}

static bool ip_trusted(const struct otd_server *srv, const char *ip)
{
	for(char **p = srv->trusted; p && *p; p++)
		if(strcmp(*p, ip) == 0)
			return true;
	return false;
}

static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct otd_server *srv = cls;
	(void)addrlen;
	char ip[64];
	addr_to_ip(addr, ip, sizeof(ip));
	if(srv->per_ip_limit == 0 || ip_trusted(srv, ip))
		return MHD_YES;
	pthread_mutex_lock(&srv->ip_lock);
	unsigned count = 0;
	for(struct ip_count *e = srv->ip_table[ip_hash(ip)]; e; e = e->next)
		if(strcmp(e->ip, ip) == 0)
			count = e->count;
	pthread_mutex_unlock(&srv->ip_lock);
	if(count >= srv->per_ip_limit) {
		http_metrics_refused(srv->metrics);
		return MHD_NO;
	}
	return MHD_YES;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                          enum MHD_ConnectionNotificationCode code)
{
	struct otd_server *srv = cls;
	if(code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		char ip[64];
		addr_to_ip(ci ? ci->client_addr : NULL, ip, sizeof(ip));
		pthread_mutex_lock(&srv->ip_lock);
		unsigned h = ip_hash(ip);
		struct ip_count *e = srv->ip_table[h];
		while(e && strcmp(e->ip, ip) != 0)
			e = e->next;
		if(!e) {
			e = xcalloc(1, sizeof(*e));
			snprintf(e->ip, sizeof(e->ip), "%s", ip);
			e->next = srv->ip_table[h];
			srv->ip_table[h] = e;
		}
		e->count++;
		pthread_mutex_unlock(&srv->ip_lock);
		struct conn_ctx *ctx = xcalloc(1, sizeof(*ctx));
		ctx->srv = srv;
		ctx->ip = e;
		*socket_ctx = ctx;
	} else if(code == MHD_CONNECTION_NOTIFY_CLOSED) {
		struct conn_ctx *ctx = *socket_ctx;
		if(!ctx)
			return;
		struct ip_count *e = ctx->ip;
		pthread_mutex_lock(&srv->ip_lock);
		if(e->count)
			e->count--;
		/* Entries stay allocated (one per address seen, 80 bytes) so a
		 * socket context never dangles; freed at stop. */
		pthread_mutex_unlock(&srv->ip_lock);
		if(srv->tls)
			tls_release(srv->tls, ctx->creds);
		free(ctx);
		*socket_ctx = NULL;
	}
}

/* GnuTLS asks which certificate to present (MHD_OPTION_HTTPS_CERT_CALLBACK).
 * libmicrohttpd sets the session's pointer to its connection, whose socket
 * context is ours; the connection keeps a reference to the pair until it
 * closes. */
static int on_tls_cert(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                       const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                       gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *pkey)
{
	(void)req_ca_dn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	struct MHD_Connection *conn = gnutls_session_get_ptr(session);
	const union MHD_ConnectionInfo *ci =
	    conn ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT) : NULL;
	struct conn_ctx *ctx = ci ? ci->socket_context : NULL;
	if(!ctx || !ctx->srv->tls) {
		/* Without a place to keep the reference the pair could be freed
		 * under the session: refuse this handshake rather than risk it. */
		otd_log(OTD_LOG_ERROR, "tls_no_connection", "{s:s}", "detail",
		        "a TLS handshake came without its connection; refused");
		return -1;
	}
	struct otd_tls_creds *old = ctx->creds;
	ctx->creds = tls_acquire(ctx->srv->tls, pcert, pcert_length, pkey);
	tls_release(ctx->srv->tls, old); /* a second handshake on one connection */
	return 0;
}

/* ---- replies --------------------------------------------------------- */

static void reply_reset(struct otd_req *req)
{
	free(req->reply);
	req->reply = NULL;
	req->reply_len = 0;
}

void req_reply_raw(struct otd_req *req, int status, const char *content_type, char *body, size_t len)
{
	reply_reset(req);
	req->status = status;
	req->content_type = content_type;
	req->reply = body;
	req->reply_len = len;
	req->replied = true;
}

void req_reply_static(struct otd_req *req, int status, const char *content_type, const void *body,
                      size_t len)
{
	char *copy = xmalloc(len + 1);
	memcpy(copy, body, len);
	copy[len] = '\0';
	req_reply_raw(req, status, content_type, copy, len);
}

void req_reply_json(struct otd_req *req, int status, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
	json_decref(body);
	if(!text) {
		static const char fail[] = "{\"error\":{\"code\":\"internal\",\"message\":\"the reply "
		                           "could not be encoded\"}}";
		req_reply_static(req, 500, "application/json", fail, sizeof(fail) - 1);
		return;
	}
	req_reply_raw(req, status, "application/json", text, strlen(text));
}

void req_reply_error(struct otd_req *req, const struct otd_error *err)
{
	struct otd_error e = *err;
	if(e.status == OTD_OK)
		e.status = OTD_EINTERNAL;
	if(!e.code[0])
		snprintf(e.code, sizeof(e.code), "%s", otd_status_name(e.status));
	if(!e.message[0])
		snprintf(e.message, sizeof(e.message), "The request could not be completed (%s).",
		         otd_status_name(e.status));
	json_t *inner = json_pack("{s:s,s:s}", "code", e.code, "message", e.message);
	if(e.field[0])
		json_object_set_new(inner, "field", json_string(e.field));
	if(req->err_extra) {
		json_object_update(inner, req->err_extra);
		json_decref(req->err_extra);
		req->err_extra = NULL;
	}
	if((e.status == OTD_ERATE || e.status == OTD_EBUSY)) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%d", e.retry_after > 0 ? e.retry_after : 1);
		req_add_header(req, "Retry-After", ra);
	}
	snprintf(req->err_code, sizeof(req->err_code), "%s", e.code);
	int http = otd_status_http(e.status);
	if(http >= 500 && http != 503)
		otd_log(OTD_LOG_ERROR, "request_failed", "{s:s,s:s,s:s}", "route",
		        req->route ? req->route->template : "-", "code", e.code, "message", e.message);
	req_reply_json(req, http, json_pack("{s:o}", "error", inner));
}

void req_add_header(struct otd_req *req, const char *name, const char *value)
{
	for(size_t i = 0; i < req->n_headers; i++) {
		/* Retry-After and similar replace an earlier value. */
		if(strcmp(req->headers[i].name, name) == 0 && strcmp(name, "Set-Cookie") != 0) {
			free(req->headers[i].value);
			req->headers[i].value = xstrdup(value);
			return;
		}
	}
	if(req->n_headers >= REQ_MAX_HEADERS)
		return;
	req->headers[req->n_headers].name = name;
	req->headers[req->n_headers].value = xstrdup(value);
	req->n_headers++;
}

const char *req_header(const struct otd_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *req_query(const struct otd_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *req_cookie(const struct otd_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

json_t *req_body_object(struct otd_req *req)
{
	if(req->body.len == 0) {
		otd_error_set(&req->err, OTD_EINVAL, "empty_body", NULL,
		              "The request needs a JSON object as its body.");
		return NULL;
	}
	const char *ct = req_header(req, "Content-Type");
	if(ct && strncasecmp(ct, "application/json", 16) != 0) {
		otd_error_set(&req->err, OTD_EINVAL, "unsupported_media_type", NULL,
		              "Send the body as application/json.");
		return NULL;
	}
	json_error_t jerr;
	json_t *root = json_loadb(req->body.data, req->body.len, JSON_REJECT_DUPLICATES, &jerr);
	if(!root) {
		/* jansson names a duplicate key only in its text (near '"name"'):
		 * lift it into "field" so the client is told which one. */
		const char *near = json_error_code(&jerr) == json_error_duplicate_key
		                       ? strstr(jerr.text, "near '\"")
		                       : NULL;
		const char *end = near ? strstr(near + 7, "\"'") : NULL;
		if(end && end > near + 7 && end - (near + 7) < OTD_ERR_FIELD_MAX) {
			char key[OTD_ERR_FIELD_MAX];
			snprintf(key, sizeof(key), "%.*s", (int)(end - (near + 7)), near + 7);
			otd_error_set(&req->err, OTD_EINVAL, "duplicate_field", key,
			              "The field \"%s\" appears more than once (line %d, column %d).",
			              key, jerr.line, jerr.column);
			return NULL;
		}
		otd_error_set(&req->err, OTD_EINVAL, "malformed_json", NULL,
		              "The body is not valid JSON: %s (line %d, column %d).", jerr.text, jerr.line,
		              jerr.column);
		return NULL;
	}
	if(!json_is_object(root)) {
		json_decref(root);
		otd_error_set(&req->err, OTD_EINVAL, "malformed_json", NULL,
		              "The body must be a JSON object.");
		return NULL;
	}
	return root;
}

void req_suspend(struct otd_req *req)
{
	req->suspended = true;
	MHD_suspend_connection(req->conn);
}

void req_resume(struct otd_req *req)
{
	MHD_resume_connection(req->conn);
}

/* ---- request lifecycle ---------------------------------------------- */

/* The index of the worker (daemon) serving conn, or -1. */
static int worker_of(const struct otd_server *srv, struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_DAEMON);
	for(unsigned i = 0; ci && i < srv->n_daemons; i++)
		if(srv->daemons[i] == ci->daemon)
			return (int)i;
	return -1;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct otd_server *srv = cls;
	(void)uri; /* never kept: a query may carry a secret */
	struct otd_req *req = xcalloc(1, sizeof(*req));
	clock_gettime(CLOCK_MONOTONIC, &req->started);
	req->srv = srv;
	req->app = srv->app;
	req->conn = conn;
	req->route_index = -1;
	req->status = 500;
	otd_buf_init(&req->body, srv->max_body);
	uint64_t n = atomic_fetch_add(&srv->req_counter, 1) + 1;
	snprintf(req->request_id, sizeof(req->request_id), "%08x%012llx", srv->id_prefix,
	         (unsigned long long)n);
	atomic_fetch_add(&srv->inflight, 1);
	req->worker = worker_of(srv, conn);
	if(req->worker >= 0)
		atomic_fetch_add(&srv->busy[req->worker], 1);
	return req;
}

static void client_ip(struct otd_req *req)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	addr_to_ip(ci ? ci->client_addr : NULL, req->client_ip, sizeof(req->client_ip));
	bool trusted = ip_trusted(req->srv, req->client_ip);
	/* Secure: over our TLS, or a trusted proxy says its client used https
	 * (X-Forwarded-Proto from anyone else is ignored). */
	req->secure = http_request_secure(req->srv->tls != NULL, trusted,
	                                  trusted ? req_header(req, "X-Forwarded-Proto") : NULL);
	if(!trusted)
		return;
	/* Behind a trusted proxy the client is the last address it added. */
	const char *xff = req_header(req, "X-Forwarded-For");
	if(!xff || !*xff)
		return;
	const char *last = strrchr(xff, ',');
	last = last ? last + 1 : xff;
	while(*last == ' ')
		last++;
	char tmp[64];
	snprintf(tmp, sizeof(tmp), "%s", last);
	size_t len = strlen(tmp);
	while(len && tmp[len - 1] == ' ')
		tmp[--len] = '\0';
	unsigned char bin[16];
	if(inet_pton(AF_INET, tmp, bin) == 1 || inet_pton(AF_INET6, tmp, bin) == 1)
		snprintf(req->client_ip, sizeof(req->client_ip), "%s", tmp);
}

static const char csp[] = "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                          "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
                          "base-uri 'none'; form-action 'self'";

static enum MHD_Result send_reply(struct otd_req *req)
{
	if(!req->replied) {
		struct otd_error e = req->err;
		if(e.status == OTD_OK)
			otd_error_set(&e, OTD_EINTERNAL, "internal", NULL,
			              "The server produced no reply; this is a bug.");
		req_reply_error(req, &e);
	}
	struct MHD_Response *resp = req->stream ? http_stream_response(req)
	                            : MHD_create_response_from_buffer(req->reply_len, req->reply,
	                                                              MHD_RESPMEM_MUST_FREE);
	if(!resp)
		return MHD_NO;
	req->reply = NULL; /* the response owns it now */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        req->content_type ? req->content_type : "application/json");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Content-Security-Policy", csp);
	MHD_add_response_header(resp, "X-Request-Id", req->request_id);
	bool has_cache = false;
	for(size_t i = 0; i < req->n_headers; i++) {
		MHD_add_response_header(resp, req->headers[i].name, req->headers[i].value);
		if(strcmp(req->headers[i].name, "Cache-Control") == 0)
			has_cache = true;
	}
	if(!has_cache)
		MHD_add_response_header(resp, "Cache-Control", "no-store");
	if(req->secure && req->srv->hsts_seconds > 0) {
		/* Never over plain HTTP: there anyone on the path could set it. */
		char hsts[32];
		snprintf(hsts, sizeof(hsts), "max-age=%d", req->srv->hsts_seconds);
		MHD_add_response_header(resp, "Strict-Transport-Security", hsts);
	}
	enum MHD_Result r = MHD_queue_response(req->conn, (unsigned)req->status, resp);
	MHD_destroy_response(resp);
	return r;
}

static void fail(struct otd_req *req, enum otd_status st, const char *code, const char *fmt)
{
	otd_error_set(&req->err, st, code, NULL, "%s", fmt);
	req_reply_error(req, &req->err);
}

static void dispatch(struct otd_req *req)
{
	enum otd_status st;
	if(req->resume_fn) {
		route_fn fn = req->resume_fn;
		req->resume_fn = NULL;
		st = fn(req);
	} else {
		st = http_authorise(req);
		if(st == OTD_OK)
			st = req->route->fn(req);
	}
	if(req->suspended)
		return;
	if(st != OTD_OK && !req->replied) {
		if(req->err.status == OTD_OK)
			otd_error_set(&req->err, st, NULL, NULL, "The request could not be completed (%s).",
			              otd_status_name(st));
		req_reply_error(req, &req->err);
	}
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
	struct otd_server *srv = cls;
	struct otd_req *req = *con_cls;
	(void)version;
	if(!req) /* not reached: on_uri always allocates */
		return MHD_NO;

	if(!req->body_checked) {
		req->body_checked = true;
		req->conn = conn;
		req->method = http_method_parse(method);
		req->path = xstrdup(url);
		client_ip(req);
		unsigned allowed = 0;
		enum otd_status st = router_match(req, &allowed);
		if(st == OTD_ENOTFOUND) {
			fail(req, OTD_ENOTFOUND, "not_found", "There is nothing at this address.");
			return send_reply(req);
		}
		if(st == OTD_EMETHOD) {
			char allow[96];
			router_allow_header(allowed, allow, sizeof(allow));
			req_add_header(req, "Allow", allow);
			otd_error_set(&req->err, OTD_EMETHOD, "method_not_allowed", NULL,
			              "This address does not accept %s; it accepts %s.",
			              req->method == HTTP_OTHER ? "that method" : method, allow);
			req_reply_error(req, &req->err);
			return send_reply(req);
		}
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		                                             MHD_HTTP_HEADER_CONTENT_LENGTH);
		if(cl) {
			char *end;
			errno = 0;
			unsigned long long n = strtoull(cl, &end, 10);
			if(errno || *end || n > srv->max_body) {
				req->body_too_big = true;
				otd_error_set(&req->err, OTD_ETOOBIG, "body_too_large", NULL,
				              "The body is larger than the %zu bytes this server accepts.",
				              srv->max_body);
				req_reply_error(req, &req->err);
				return send_reply(req); /* MHD closes without reading the body */
			}
		}
		return MHD_YES;
	}

	if(*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		req->body_seen += n;
		if(req->body_too_big) {
			/* Discard, but do not read an endless chunked body forever. */
			if(req->body_seen > 4 * (uint64_t)srv->max_body + (1u << 20))
				return MHD_NO;
			return MHD_YES;
		}
		if(!otd_buf_append(&req->body, upload_data, n)) {
			req->body_too_big = true;
			otd_buf_cleanup(&req->body);
		}
		return MHD_YES;
	}

	if(req->body_too_big) {
		otd_error_set(&req->err, OTD_ETOOBIG, "body_too_large", NULL,
		              "The body is larger than the %zu bytes this server accepts.", srv->max_body);
		req_reply_error(req, &req->err);
		return send_reply(req);
	}

	req->suspended = false;
	dispatch(req);
	if(req->suspended)
		return MHD_YES;
	return send_reply(req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct otd_server *srv = cls;
	struct otd_req *req = *con_cls;
	(void)conn;
	if(!req)
		return;
	int req_worker = req->worker;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double secs = (double)(now.tv_sec - req->started.tv_sec) +
	              (double)(now.tv_nsec - req->started.tv_nsec) / 1e9;
	const char *route = req->route ? req->route->template : "-";
	int status = req->replied ? req->status : 0;
	if(toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && !req->replied)
		status = 0;
	if(req->method) {
		http_metrics_observe(srv->metrics, req->route_index, (int)req->method, status, secs);
		static const char *method_names[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE",
		                                     "OPTIONS", "OTHER"};
		int mi = __builtin_ctz((unsigned)req->method);
		if(http_metrics_access_sample(srv->metrics, status,
		                              srv->app->cfg->log.access_sample))
			otd_log(OTD_LOG_INFO, "request", "{s:s,s:s,s:i,s:f,s:s,s:s,s:i,s:s*}",
			        "method", method_names[mi], "route", route, "status", status,
			        "duration_ms", secs * 1000.0, "request_id", req->request_id,
			        "outcome",
			        toe == MHD_REQUEST_TERMINATED_COMPLETED_OK      ? "sent"
			        : toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "timeout"
			                                                        : "aborted",
			        "user", (int)req->principal.user_id, "error",
			        req->err_code[0] ? req->err_code : NULL);
	}
	if(req->job && req->job_free)
		req->job_free(req->job);
	http_stream_discard(req->stream);
	for(size_t i = 0; i < req->n_headers; i++)
		free(req->headers[i].value);
	free(req->reply);
	free(req->path);
	json_decref(req->err_extra);
	otd_buf_cleanup(&req->body);
	free(req);
	*con_cls = NULL;
	if(req_worker >= 0)
		atomic_fetch_sub(&srv->busy[req_worker], 1);
	atomic_fetch_sub(&srv->inflight, 1);
}

/* libmicrohttpd hands us its own printf format. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char text[512];
	vsnprintf(text, sizeof(text), fmt, ap);
	size_t n = strlen(text);
	while(n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		text[--n] = '\0';
	/* libmicrohttpd quotes the request's URL as `...' (a failed write of a
	 * stream, say), and a customer's link carries its secret: drop it. */
	char *q = strchr(text, '`');
	char *end = q ? strchr(q + 1, '\'') : NULL;
	if(q && end)
		memmove(q + 1, end, strlen(end) + 1);
	otd_log(OTD_LOG_WARN, "libmicrohttpd", "{s:s}", "detail", text);
}

/* ---- start and stop ------------------------------------------------- */

static enum otd_status bind_listen(const char *spec, int *fd_out, unsigned *port_out,
                                   struct otd_error *err)
{
	char host[256];
	const char *colon = strrchr(spec, ':');
	if(!colon || colon == spec || !colon[1])
		return otd_error_set(err, OTD_EINVAL, "bad_listen", "listen",
		                     "listen must be HOST:PORT, such as 127.0.0.1:8080 (got \"%s\").",
		                     spec);
	size_t hl = (size_t)(colon - spec);
	if(hl >= sizeof(host))
		return otd_error_set(err, OTD_EINVAL, "bad_listen", "listen", "The listen host is too long.");
	memcpy(host, spec, hl);
	host[hl] = '\0';
	if(host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	char *end;
	errno = 0;
	long port = strtol(colon + 1, &end, 10);
	if(errno || *end || port < 0 || port > 65535)
		return otd_error_set(err, OTD_EINVAL, "bad_listen", "listen",
		                     "The listen port must be a number from 0 to 65535 (got \"%s\").",
		                     colon + 1);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	char portstr[8];
	snprintf(portstr, sizeof(portstr), "%ld", port);
	int gai = getaddrinfo(host, portstr, &hints, &res);
	if(gai != 0)
		return otd_error_set(err, OTD_EINVAL, "bad_listen", "listen",
		                     "The listen host \"%s\" could not be resolved: %s.", host,
		                     gai_strerror(gai));
	int fd = -1, saved = 0;
	for(struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if(fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if(bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if(fd < 0)
		return otd_error_set(err, OTD_EIO, "listen_failed", "listen", "Cannot listen on %s: %s.",
		                     spec, strerror(saved ? saved : EADDRNOTAVAIL));
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	*port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
	                                           : ((struct sockaddr_in *)&ss)->sin_port);
	*fd_out = fd;
	return OTD_OK;
}

/* Hands connection fd to a worker (a libmicrohttpd daemon with one
 * thread): of those with room, one with the fewest requests in progress,
 * the next in turn among equals. Left to libmicrohttpd's own pool,
 * whichever worker woke first accepted every connection waiting: eight
 * connections opened at once could all share one worker, and a request
 * waiting for the database then held up the seven others (issue 3:
 * bookings over eight connections ran all on one worker, at about half
 * speed, in about a third of runs). A worker busy with a request is passed
 * over while another is idle, as a pool worker busy in a handler does not
 * accept. */
static void hand_over(struct otd_server *srv, int fd, const struct sockaddr *a, socklen_t len)
{
	int best = -1, best_busy = 0;
	for(unsigned i = 0; i < srv->n_daemons; i++) {
		unsigned k = (srv->next + i) % srv->n_daemons;
		const union MHD_DaemonInfo *info =
		    MHD_get_daemon_info(srv->daemons[k], MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
		if(info && info->num_connections >= srv->conn_limit)
			continue;
		int busy = atomic_load(&srv->busy[k]);
		if(best < 0 || busy < best_busy) {
			best = (int)k;
			best_busy = busy;
		}
		if(busy == 0)
			break;
	}
	if(best < 0) {
		close(fd); /* every worker is full: http.max_connections */
		http_metrics_refused(srv->metrics);
		return;
	}
	srv->next = ((unsigned)best + 1) % srv->n_daemons;
	/* Closes fd itself when refused (on_accept, the per-address limit). */
	MHD_add_connection(srv->daemons[best], fd, a, len);
}

/* The acceptor: takes connections off the listening socket and hands each
 * to a worker (hand_over). */
static void *acceptor_main(void *arg)
{
	struct otd_server *srv = arg;
	pthread_setname_np(pthread_self(), "otd-accept");
	struct pollfd p[2] = {{.fd = srv->listen_fd, .events = POLLIN},
	                      {.fd = srv->wake[0], .events = POLLIN}};
	for(;;) {
		if(poll(p, 2, -1) < 0) {
			if(errno == EINTR)
				continue;
			otd_log(OTD_LOG_ERROR, "accept_failed", "{s:s}", "detail", strerror(errno));
			return NULL;
		}
		if(p[1].revents)
			return NULL; /* http_server_stop */
		for(;;) {
			struct sockaddr_storage a;
			socklen_t len = sizeof(a);
			int fd = accept4(srv->listen_fd, (struct sockaddr *)&a, &len,
			                 SOCK_NONBLOCK | SOCK_CLOEXEC);
			if(fd >= 0) {
				hand_over(srv, fd, (struct sockaddr *)&a, len);
				continue;
			}
			if(errno == EINTR || errno == ECONNABORTED)
				continue;
			if(errno != EAGAIN && errno != EWOULDBLOCK) {
				/* Out of descriptors or memory: the waiting connection
				 * stays queued; try again shortly rather than spin. */
				otd_log(OTD_LOG_WARN, "accept_failed", "{s:s}", "detail",
				        strerror(errno));
				usleep(100000);
			}
			break;
		}
	}
}

enum otd_status http_server_start(struct otd_app *app, struct otd_server **out,
                                  struct otd_error *err)
{
	const struct otd_config *cfg = app->cfg;
	struct otd_server *srv = xcalloc(1, sizeof(*srv));
	srv->app = app;
	srv->max_body = (size_t)cfg->http.max_body;
	srv->per_ip_limit = (unsigned)cfg->http.per_ip_connections;
	srv->trusted = cfg->http.trusted_proxies;
	srv->hsts_seconds = cfg->http.hsts_seconds;
	bool tls_on = false;
	enum otd_status st = tls_config_check(cfg->http.tls_cert, cfg->http.tls_key, &tls_on, err);
	if(st == OTD_OK && tls_on && !MHD_is_feature_supported(MHD_FEATURE_HTTPS_CERT_CALLBACK))
		st = otd_error_set(
		    err, OTD_EINVAL, "tls_unsupported", "http.tls_cert",
		    "This libmicrohttpd was built without HTTPS certificate callbacks; "
		    "serve plain HTTP behind a TLS proxy instead.");
	if(st == OTD_OK && tls_on)
		st = tls_open(cfg->http.tls_cert, cfg->http.tls_key, &srv->tls, err);
	if(st) {
		free(srv);
		return st;
	}
	srv->metrics = http_metrics_new(routes_count());
	srv->id_prefix = randombytes_random();
	pthread_mutex_init(&srv->ip_lock, NULL);
	st = bind_listen(cfg->listen, &srv->listen_fd, &srv->port, err);
	if(st) {
		http_metrics_free(srv->metrics);
		pthread_mutex_destroy(&srv->ip_lock);
		tls_close(srv->tls);
		free(srv);
		return st;
	}
	/* Connections come from acceptor_main (MHD_add_connection). */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	                 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET |
	                 MHD_USE_ITC;
	/* HTTPS: GnuTLS asks on_tls_cert for the pair in force in each
	 * handshake, so a reload needs no restart. TLS 1.2 and 1.3 only. */
	struct MHD_OptionItem tls_opts[] = {
	    {MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)on_tls_cert},
	    {MHD_OPTION_HTTPS_PRIORITIES, 0,
	     (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE"},
	    {MHD_OPTION_END, 0, NULL}};
	struct MHD_OptionItem no_opts[] = {{MHD_OPTION_END, 0, NULL}};
	if(srv->tls)
		flags |= MHD_USE_TLS;
	srv->n_daemons = (unsigned)cfg->http.threads;
	srv->conn_limit =
	    ((unsigned)cfg->http.max_connections + srv->n_daemons - 1) / srv->n_daemons;
	srv->daemons = xcalloc(srv->n_daemons, sizeof(*srv->daemons));
	srv->busy = xcalloc(srv->n_daemons, sizeof(*srv->busy));
	bool started = true;
	for(unsigned i = 0; i < srv->n_daemons && started; i++) {
		srv->daemons[i] = MHD_start_daemon(
		    flags, 0, on_accept, srv, on_access, srv, MHD_OPTION_EXTERNAL_LOGGER,
		    on_mhd_log, srv, MHD_OPTION_CONNECTION_LIMIT, srv->conn_limit,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->http.idle_timeout,
		    MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv, MHD_OPTION_NOTIFY_COMPLETED,
		    on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
		    MHD_OPTION_ARRAY, srv->tls ? tls_opts : no_opts, MHD_OPTION_END);
		started = srv->daemons[i] != NULL;
	}
	int nb = started ? fcntl(srv->listen_fd, F_GETFL) : -1;
	if(!started || nb < 0 || fcntl(srv->listen_fd, F_SETFL, nb | O_NONBLOCK) != 0 ||
	   pipe2(srv->wake, O_CLOEXEC) != 0) {
		int e = errno;
		for(unsigned i = 0; i < srv->n_daemons; i++)
			if(srv->daemons[i])
				MHD_stop_daemon(srv->daemons[i]);
		free(srv->daemons);
		free((void *)srv->busy);
		close(srv->listen_fd);
		http_metrics_free(srv->metrics);
		pthread_mutex_destroy(&srv->ip_lock);
		tls_close(srv->tls);
		free(srv);
		if(!started)
			return otd_error_set(
			    err, OTD_EIO, "http_start_failed", NULL,
			    "The HTTP server could not start (see the libmicrohttpd log line).");
		return otd_error_set(err, OTD_EIO, "http_start_failed", NULL,
		                     "The HTTP server could not start: %s.", strerror(e));
	}
	srv->streams = http_streams_start(app);
	srv->acceptor_started = pthread_create(&srv->acceptor, NULL, acceptor_main, srv) == 0;
	if(!srv->acceptor_started) {
		http_server_stop(srv, 0);
		return otd_error_set(err, OTD_EIO, "http_start_failed", NULL,
		                     "The HTTP server could not start its acceptor thread.");
	}
	*out = srv;
	return OTD_OK;
}

enum otd_status http_server_check_tls(const struct otd_config *cfg, struct otd_error *err)
{
	bool on = false;
	enum otd_status st = tls_config_check(cfg->http.tls_cert, cfg->http.tls_key, &on, err);
	struct otd_tls *tls = NULL;
	if(st == OTD_OK && on)
		st = tls_open(cfg->http.tls_cert, cfg->http.tls_key, &tls, err);
	tls_close(tls);
	return st;
}

enum otd_status http_server_reload(struct otd_server *srv)
{
	if(!srv || !srv->tls)
		return OTD_OK;
	struct otd_error err;
	otd_error_clear(&err);
	enum otd_status st = tls_reload(srv->tls, &err); /* logs the outcome either way */
	atomic_fetch_add(st ? &srv->tls_reload_failures : &srv->tls_reloads, 1);
	return st;
}

void http_server_tls_metrics(struct otd_server *srv, struct otd_buf *out)
{
	if(!srv->tls)
		return;
	struct tls_cert_info info;
	tls_current_info(srv->tls, &info);
	otd_buf_printf(out,
	               "# HELP otd_tls_certificate_expiry_timestamp_seconds When the certificate "
	               "served expires (Unix time).\n"
	               "# TYPE otd_tls_certificate_expiry_timestamp_seconds gauge\n"
	               "otd_tls_certificate_expiry_timestamp_seconds %lld\n"
	               "# HELP otd_tls_reloads_total Certificate reloads (SIGHUP) by outcome; a "
	               "failed one keeps the certificate in use.\n"
	               "# TYPE otd_tls_reloads_total counter\n"
	               "otd_tls_reloads_total{outcome=\"ok\"} %llu\n"
	               "otd_tls_reloads_total{outcome=\"failed\"} %llu\n",
	               (long long)info.not_after,
	               (unsigned long long)atomic_load(&srv->tls_reloads),
	               (unsigned long long)atomic_load(&srv->tls_reload_failures));
}

unsigned http_server_port(const struct otd_server *srv)
{
	return srv->port;
}

int http_server_inflight(const struct otd_server *srv)
{
	return atomic_load(&((struct otd_server *)srv)->inflight);
}

void http_server_stop(struct otd_server *srv, int grace_s)
{
	if(!srv)
		return;
	/* No new connections: the acceptor stops, the listening socket closes. */
	if(srv->acceptor_started) {
		ssize_t w = write(srv->wake[1], "x", 1);
		(void)w;
		pthread_join(srv->acceptor, NULL);
	}
	close(srv->wake[0]);
	close(srv->wake[1]);
	close(srv->listen_fd);
	/* Live streams end and are resumed: MHD_stop_daemon must find no
	 * connection suspended (TRAPS.md). */
	http_streams_stop(srv->streams, grace_s);
	/* Let requests in flight finish; idle keep-alive connections count
	 * as in flight only while a request is being processed. */
	for(int waited = 0; waited < grace_s * 100 && atomic_load(&srv->inflight) > 0; waited++)
		usleep(10000);
	for(unsigned i = 0; i < srv->n_daemons; i++)
		MHD_stop_daemon(srv->daemons[i]);
	free(srv->daemons);
	free((void *)srv->busy);
	tls_close(srv->tls); /* every connection, and its reference, is gone */
	for(size_t i = 0; i < IP_BUCKETS; i++) {
		struct ip_count *e = srv->ip_table[i];
		while(e) {
			struct ip_count *n = e->next;
			free(e);
			e = n;
		}
	}
	http_metrics_free(srv->metrics);
	pthread_mutex_destroy(&srv->ip_lock);
	free(srv);
}
