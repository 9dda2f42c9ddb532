/* Live streams (Server-Sent Events), one per page:
 *   GET /api/v1/dispatch/stream      dispatchers and admins: every staff event
 *   GET /api/v1/visitor/stream       a visitor: the events of their own route
 *                                    (staff: ?visitor=ID)
 *   GET /api/v1/a/{token}/stream     a customer: their appointment's status
 *
 * The body comes from a content reader. When it has nothing to send it parks
 * its bus subscription, which suspends the connection under the bus's lock;
 * a publish (or the heartbeat thread, or shutdown) resumes it from its own
 * thread. The reader never returns 0 without having suspended (TRAPS.md: 0
 * otherwise is a busy loop). Frames:
 *   retry: MS / id: N        first, so a reconnect sends Last-Event-ID: N
 *   id: N / event: T / data: JSON
 *   id: N / event: reset     what was missed is gone: reload the page
 *   : keepalive              after streams.heartbeat_s of silence */
#include "http/stream.h"

#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/booking.h"
#include "app/bus.h"
#include "app/log.h"
#include "http/handlers.h"

#define FRAME_CAP (1u << 20) /* one event's frame; events are small JSON objects */

struct http_stream {
	struct MHD_Connection *conn;
	struct otd_bus_sub *sub;
	const char *route; /* the template, for the log */
	char request_id[24];
	struct otd_buf out; /* the frame being sent */
	size_t off;         /* bytes of out already handed to libmicrohttpd */
	bool opened;        /* the retry/id preamble went out */
	bool ended;         /* the bus closed: the stream is over */
	uint64_t start_id;
	int retry_ms;
	int64_t heartbeat_ms;
	int64_t last_write_ms;
	int64_t opened_ms;
	uint64_t events, keepalives;
};

struct http_streams {
	struct otd_app *app;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the heartbeat thread and shutdown ------------------------------- */

static void *heartbeat_main(void *arg)
{
	pthread_setname_np(pthread_self(), "otd-heartbeat"); /* as top -H shows it */
	struct http_streams *st = arg;
	pthread_mutex_lock(&st->lock);
	while(!st->stop) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1; /* heartbeats are due to the second */
		pthread_cond_timedwait(&st->cond, &st->lock, &until);
		if(st->stop)
			break;
		pthread_mutex_unlock(&st->lock);
		bus_wake_due(st->app->bus, now_ms());
		pthread_mutex_lock(&st->lock);
	}
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

struct http_streams *http_streams_start(struct otd_app *app)
{
	struct http_streams *st = xcalloc(1, sizeof(*st));
	st->app = app;
	pthread_mutex_init(&st->lock, NULL);
	pthread_cond_init(&st->cond, NULL);
	if(app->bus && pthread_create(&st->thread, NULL, heartbeat_main, st) != 0) {
		otd_log(OTD_LOG_ERROR, "stream_heartbeat_failed", "{s:s}", "detail",
		        strerror(errno));
		st->stop = true; /* streams still work, without keepalives */
	}
	return st;
}

void http_streams_stop(struct http_streams *st, int grace_s)
{
	if(!st)
		return;
	struct otd_bus *bus = st->app->bus;
	size_t open = 0, parked = 0;
	if(bus) {
		bus_close(bus);
		/* Every stream was resumed and ends at its next read; wait for
		 * them to finish so none is left suspended for MHD_stop_daemon. */
		int64_t deadline = now_ms() + (int64_t)(grace_s > 0 ? grace_s : 1) * 1000;
		while((open = bus_open_count(bus, &parked)) > 0 && now_ms() < deadline) {
			struct timespec ten = {0, 10 * 1000000};
			nanosleep(&ten, NULL);
		}
	}
	pthread_mutex_lock(&st->lock);
	bool running = !st->stop;
	st->stop = true;
	pthread_cond_signal(&st->cond);
	pthread_mutex_unlock(&st->lock);
	if(running && bus)
		pthread_join(st->thread, NULL);
	if(open)
		otd_log(OTD_LOG_WARN, "streams_left_open", "{s:i,s:i}", "open", (int)open, "parked",
		        (int)parked);
	pthread_cond_destroy(&st->cond);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

/* ---- the content reader ------------------------------------------------ */

static void stream_park(void *arg)
{
	struct http_stream *s = arg;
	MHD_suspend_connection(s->conn);
}

static void stream_wake(void *arg)
{
	struct http_stream *s = arg;
	MHD_resume_connection(s->conn);
}

/* Appends "data: " lines for text (one per line it holds); false when
 * over the frame cap. */
static bool put_data(struct otd_buf *b, const char *text)
{
	for(;;) {
		const char *nl = strchr(text, '\n');
		size_t n = nl ? (size_t)(nl - text) : strlen(text);
		if(!otd_buf_puts(b, "data: ") || !otd_buf_append(b, text, n) ||
		   !otd_buf_puts(b, "\n"))
			return false;
		if(!nl)
			return true;
		text = nl + 1;
	}
}

/* Fills s->out with the next frame. Returns false when there is none: the
 * stream is parked (connection suspended) or over (s->ended). */
static bool next_frame(struct http_stream *s)
{
	otd_buf_cleanup(&s->out);
	s->off = 0;
	int64_t now = now_ms();
	if(!s->opened) {
		s->opened = true;
		otd_buf_printf(&s->out, "retry: %d\nid: %" PRIu64 "\n\n", s->retry_ms, s->start_id);
		return true;
	}
	if(now - s->last_write_ms >= s->heartbeat_ms) {
		s->keepalives++;
		otd_buf_puts(&s->out, ": keepalive\n\n");
		return true;
	}
	struct otd_bus_message m;
	switch(bus_next(s->sub, s->last_write_ms + s->heartbeat_ms, &m)) {
	case OTD_BUS_EVENT: {
		bool ok = otd_buf_printf(&s->out, "id: %" PRIu64 "\nevent: %s\n", m.id, m.type) &&
		          put_data(&s->out, m.data) && otd_buf_puts(&s->out, "\n");
		free(m.data);
		if(!ok) { /* over the cap: skip it rather than send half of it */
			otd_log(OTD_LOG_WARN, "stream_event_too_big", "{s:I}", "id",
			        (json_int_t)m.id);
			return next_frame(s);
		}
		s->events++;
		return true;
	}
	case OTD_BUS_RESET:
		otd_buf_printf(&s->out,
		               "id: %" PRIu64 "\nevent: reset\ndata: {\"reason\":\"missed\"}\n\n",
		               m.id);
		return true;
	case OTD_BUS_CLOSED: s->ended = true; return false;
	case OTD_BUS_NONE: break;
	}
	return false;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct http_stream *s = cls;
	(void)pos;
	if(s->off >= s->out.len) {
		if(s->ended || !next_frame(s))
			return s->ended ? MHD_CONTENT_READER_END_OF_STREAM : 0; /* 0: suspended */
	}
	size_t n = s->out.len - s->off;
	if(n > max)
		n = max;
	memcpy(buf, s->out.data + s->off, n);
	s->off += n;
	s->last_write_ms = now_ms();
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct http_stream *s = cls;
	if(s->opened)
		otd_log(OTD_LOG_INFO, "stream_end", "{s:s,s:s,s:s,s:I,s:I,s:f}", "route", s->route,
		        "request_id", s->request_id, "reason",
		        s->ended ? "shutdown" : "disconnected", "events", (json_int_t)s->events,
		        "keepalives", (json_int_t)s->keepalives, "seconds",
		        (double)(now_ms() - s->opened_ms) / 1000.0);
	http_stream_discard(s);
}

void http_stream_discard(struct http_stream *s)
{
	if(!s)
		return;
	bus_unsubscribe(s->sub);
	otd_buf_cleanup(&s->out);
	free(s);
}

struct MHD_Response *http_stream_response(struct otd_req *req)
{
	struct http_stream *s = req->stream;
	req->stream = NULL;
	s->conn = req->conn;
	s->opened_ms = s->last_write_ms = now_ms();
	struct MHD_Response *resp =
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, s, stream_free);
	if(!resp)
		http_stream_discard(s);
	return resp;
}

/* ---- the handlers --------------------------------------------------------- */

/* The Last-Event-ID header: false when absent or not a number (a fresh
 * start then). */
static bool last_event_id(struct otd_req *req, uint64_t *out)
{
	const char *h = req_header(req, "Last-Event-ID");
	if(!h || !*h || strlen(h) > 20)
		return false;
	for(const char *p = h; *p; p++)
		if(*p < '0' || *p > '9')
			return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(h, &end, 10);
	if(errno)
		return false;
	*out = v;
	return true;
}

/* Opens the stream for req: subscribes, then sets the reply's headers. */
static enum otd_status open_stream(struct otd_req *req, enum otd_bus_scope scope, int64_t id,
                                   const char *owner, const char *cache_control)
{
	struct otd_app *app = req->app;
	req_add_header(req, "Cache-Control", cache_control);
	req_add_header(req, "X-Accel-Buffering", "no");
	if(req->method == HTTP_HEAD || !app->bus) {
		/* HEAD answers like GET, without a body and without a stream. */
		req_reply_raw(req, 200, "text/event-stream", xstrdup(""), 0);
		return OTD_OK;
	}
	const struct otd_config *cfg = app->cfg;
	struct http_stream *s = xcalloc(1, sizeof(*s));
	otd_buf_init(&s->out, FRAME_CAP);
	s->route = req->route->template;
	snprintf(s->request_id, sizeof(s->request_id), "%s", req->request_id);
	s->retry_ms = cfg->streams.retry_ms;
	s->heartbeat_ms = (int64_t)cfg->streams.heartbeat_s * 1000;
	struct otd_bus_sub_options o = {.scope = scope,
	                                .id = id,
	                                .owner = owner,
	                                .max_per_owner = (size_t)cfg->streams.max_per_principal,
	                                .max_total = (size_t)cfg->streams.max_total,
	                                .park = stream_park,
	                                .wake = stream_wake,
	                                .arg = s};
	o.has_last_id = last_event_id(req, &o.last_id);
	enum otd_status st = bus_subscribe(app->bus, &o, &s->sub, &s->start_id);
	if(st) {
		http_stream_discard(s);
		if(st == OTD_ERATE) {
			otd_error_set(&req->err, OTD_ERATE, "too_many_streams", NULL,
			              "You have %d live streams open already; close a page first.",
			              cfg->streams.max_per_principal);
			req->err.retry_after = cfg->streams.heartbeat_s;
		} else {
			otd_error_set(
			    &req->err, OTD_EBUSY, "busy", NULL,
			    "The server has no room for another live stream now; try again "
			    "shortly.");
			req->err.retry_after = cfg->streams.retry_ms / 1000 + 1;
		}
		return st;
	}
	req->stream = s;
	req_reply_raw(req, 200, "text/event-stream", NULL, 0);
	return OTD_OK;
}

static void principal_owner(const struct otd_principal *p, char *out, size_t size)
{
	if(p->kind == OTD_PRINCIPAL_TOKEN)
		snprintf(out, size, "token:%" PRId64, p->token_id);
	else
		snprintf(out, size, "user:%" PRId64, p->user_id);
}

enum otd_status h_dispatch_stream(struct otd_req *req)
{
	char owner[64];
	principal_owner(&req->principal, owner, sizeof(owner));
	return open_stream(req, OTD_BUS_STAFF, 0, owner, "no-cache");
}

enum otd_status h_visitor_stream(struct otd_req *req)
{
	const struct otd_principal *p = &req->principal;
	const char *q = req_query(req, "visitor");
	int64_t visitor = 0;
	if(q) {
		char *end;
		errno = 0;
		long long v = strtoll(q, &end, 10);
		if(errno || *end || end == q || v <= 0)
			return otd_error_set(&req->err, OTD_EINVAL, "invalid_parameter", "visitor",
			                     "visitor must be a visitor's id, a positive integer.");
		visitor = v;
	}
	if(p->role == OTD_ROLE_VISITOR) {
		/* A visitor sees their own route only (DESIGN.md, Security model). */
		if(!p->visitor_id || (visitor && visitor != p->visitor_id))
			return otd_error_set(&req->err, OTD_EFORBIDDEN, "forbidden", "visitor",
			                     "A visitor may follow their own route only.");
		visitor = p->visitor_id;
	} else if(!visitor) {
		return otd_error_set(&req->err, OTD_EINVAL, "missing_parameter", "visitor",
		                     "Say whose route to follow: ?visitor=ID.");
	}
	char owner[64];
	principal_owner(p, owner, sizeof(owner));
	return open_stream(req, OTD_BUS_VISITOR, visitor, owner, "no-cache");
}

enum otd_status h_link_stream(struct otd_req *req)
{
	int64_t id;
	enum otd_status st = app_link_resolve(req->app, req->params[0], &id, &req->err);
	if(st)
		return st;
	/* The cap is per appointment: every link of one booking shares it. */
	char owner[64];
	snprintf(owner, sizeof(owner), "link:%" PRId64, id);
	return open_stream(req, OTD_BUS_CUSTOMER, id, owner, "no-store");
}
