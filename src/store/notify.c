/* LISTEN/NOTIFY between the nodes sharing a PostgreSQL database
 * (store/notify.h). */
#include "store/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onthedot/mem.h"
#include "store/pg.h"

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000

struct store_listener {
	char *url;
	struct store_listen_hooks hooks;
	int stop_pipe[2]; /* a byte in [1] asks the thread to stop */
	PGconn *pq;       /* the listening connection; NULL while down */
	pthread_t thread;
};

bool store_is_shared(struct otd_store *s)
{
	return s && store_pg_backend(s) != NULL;
}

enum otd_status store_notify(struct otd_store *s, const char *payload, struct otd_error *err)
{
	struct pg_store *pg = store_pg_backend(s);
	if(!pg)
		return OTD_OK;
	if(strlen(payload) > STORE_NOTIFY_MAX)
		return otd_error_set(err, OTD_EINVAL, "payload_too_long", NULL,
		                     "A notification is limited to %d bytes.", STORE_NOTIFY_MAX);
	return pg_store_notify(pg, STORE_NOTIFY_CHANNEL, payload, err);
}

static void report(struct store_listener *l, const char *event, const char *detail)
{
	if(l->hooks.state)
		l->hooks.state(l->hooks.arg, event, detail);
}

/* libpq's message without its trailing newline, into buf. */
static const char *pq_message(PGconn *pq, char *buf, size_t size)
{
	snprintf(buf, size, "%s", pq ? PQerrorMessage(pq) : "out of memory");
	size_t len = strlen(buf);
	while(len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	return buf;
}

static void quiet_notices(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Connects and LISTENs; NULL on failure, with why in buf. Keepalives and a
 * TCP user timeout let a silently dropped connection be noticed within
 * seconds rather than hours (the URL's dbname is expanded first, so these
 * override it). */
static PGconn *listen_connect(struct store_listener *l, char *why, size_t why_size)
{
	const char *keys[] = {"dbname",           "connect_timeout",     "keepalives",
	                      "keepalives_idle",  "keepalives_interval", "keepalives_count",
	                      "tcp_user_timeout", "application_name",    NULL};
	const char *vals[] = {l->url, "5", "1", "10", "5", "3", "15000", "onthedot-listen", NULL};
	PGconn *pq = PQconnectdbParams(keys, vals, 1);
	if(!pq || PQstatus(pq) != CONNECTION_OK) {
		pq_message(pq, why, why_size);
		PQfinish(pq);
		return NULL;
	}
	/* libpq would print the server's notices (and the FATAL of a killed
	 * connection) on stderr, the log's; a loss is reported by the hook. */
	PQsetNoticeProcessor(pq, quiet_notices, NULL);
	PGresult *r = PQexec(pq, "LISTEN " STORE_NOTIFY_CHANNEL);
	if(PQresultStatus(r) != PGRES_COMMAND_OK) {
		pq_message(pq, why, why_size);
		PQclear(r);
		PQfinish(pq);
		return NULL;
	}
	PQclear(r);
	return pq;
}

/* Waits up to ms for the stop pipe; true when asked to stop. */
static bool wait_stop(struct store_listener *l, int ms)
{
	struct pollfd p = {.fd = l->stop_pipe[0], .events = POLLIN};
	for(;;) {
		int n = poll(&p, 1, ms);
		if(n < 0 && errno == EINTR)
			continue;
		return n > 0;
	}
}

/* Hands every notification libpq has read to the hook. */
static void drain(struct store_listener *l)
{
	PGnotify *n;
	while((n = PQnotifies(l->pq)) != NULL) {
		if(strcmp(n->relname, STORE_NOTIFY_CHANNEL) == 0 && n->extra)
			l->hooks.payload(l->hooks.arg, n->extra);
		PQfreemem(n);
	}
}

static void *listen_main(void *arg)
{
	struct store_listener *l = arg;
	int backoff = BACKOFF_FIRST_MS;
	char why[512];
	for(;;) {
		if(!l->pq) {
			if(wait_stop(l, backoff))
				break;
			l->pq = listen_connect(l, why, sizeof(why));
			if(!l->pq) {
				backoff =
				    backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
				continue;
			}
			backoff = BACKOFF_FIRST_MS;
			report(l, "store_listen_restored", "listening again");
		}
		drain(l); /* what libpq read with the last command */
		struct pollfd p[2] = {{.fd = PQsocket(l->pq), .events = POLLIN},
		                      {.fd = l->stop_pipe[0], .events = POLLIN}};
		int n = poll(p, 2, -1);
		if(n < 0 && errno == EINTR)
			continue;
		if(p[1].revents)
			break;
		if(n < 0 || !PQconsumeInput(l->pq) || PQstatus(l->pq) != CONNECTION_OK) {
			report(l, "store_listen_lost",
			       n < 0 ? strerror(errno) : pq_message(l->pq, why, sizeof(why)));
			PQfinish(l->pq);
			l->pq = NULL;
			continue;
		}
		drain(l);
	}
	PQfinish(l->pq);
	l->pq = NULL;
	return NULL;
}

enum otd_status store_listen_start(struct otd_store *s, const struct store_listen_hooks *hooks,
                                   struct store_listener **out, struct otd_error *err)
{
	*out = NULL;
	struct pg_store *pg = store_pg_backend(s);
	if(!pg)
		return OTD_OK;
	struct store_listener *l = xcalloc(1, sizeof(*l));
	l->url = xstrdup(pg_store_url(pg));
	l->hooks = *hooks;
	if(pipe(l->stop_pipe) != 0) {
		free(l->url);
		free(l);
		return otd_error_set(err, OTD_EIO, "listen_failed", NULL,
		                     "Cannot start listening to the other nodes: %s.",
		                     strerror(errno));
	}
	fcntl(l->stop_pipe[0], F_SETFD, FD_CLOEXEC);
	fcntl(l->stop_pipe[1], F_SETFD, FD_CLOEXEC);
	char why[512];
	l->pq = listen_connect(l, why, sizeof(why));
	if(!l->pq)
		report(l, "store_listen_lost", why); /* the thread tries again */
	int rc = pthread_create(&l->thread, NULL, listen_main, l);
	if(rc != 0) {
		PQfinish(l->pq);
		close(l->stop_pipe[0]);
		close(l->stop_pipe[1]);
		free(l->url);
		free(l);
		return otd_error_set(err, OTD_EIO, "listen_failed", NULL,
		                     "Cannot start listening to the other nodes: %s.",
		                     strerror(rc));
	}
	*out = l;
	return OTD_OK;
}

void store_listen_stop(struct store_listener *l)
{
	if(!l)
		return;
	char b = 1;
	while(write(l->stop_pipe[1], &b, 1) < 0 && errno == EINTR)
		;
	pthread_join(l->thread, NULL);
	close(l->stop_pipe[0]);
	close(l->stop_pipe[1]);
	free(l->url);
	free(l);
}
