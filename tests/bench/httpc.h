/* A small HTTP/1.1 client for the benchmark programs: keep-alive
 * connections to the server on loopback, one request at a time on each,
 * driven by the caller's epoll loop. Lighter than libcurl, so the load
 * generator takes less of the CPU it shares with the server it measures
 * (on a 2-core machine libcurl's multi interface cost a quarter of a
 * millisecond a booking). Answers must carry Content-Length (onthedot's
 * do). */
#ifndef OTD_BENCH_HTTPC_H
#define OTD_BENCH_HTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest answer read (/metrics included). */
#define HTTPC_IN_MAX (8 << 20)

struct httpc {
	int fd;    /* -1: none */
	char *out; /* the request being sent (heap) */
	size_t out_len, out_off;
	char *in; /* what was read of the answer (heap, grows) */
	size_t in_len, in_cap;
	double started; /* when the request was set (seconds, monotonic) */
	void *user;     /* epoll's data.ptr for c (httpc_arm) */
};

/* Opens a non-blocking TCP connection to 127.0.0.1:port into c->fd (with
 * TCP_NODELAY); false when it cannot be opened. The request set before or
 * after is sent once the caller's epoll says the socket is writable. */
bool httpc_connect(struct httpc *c, unsigned port);

/* Sets the next request of c: method and path, extra header lines (each
 * ending in "\r\n"; NULL for none) and a body of len bytes (NULL for
 * none, then no Content-Length either). Forgets what was read. */
void httpc_request(struct httpc *c, unsigned port, const char *method, const char *path,
                   const char *headers, const char *body, size_t len);

/* Adds c to epoll ep (add) or re-arms it there, for writing its request
 * and reading the answer; data.ptr is user. */
void httpc_arm(struct httpc *c, int ep, bool add, void *user);

/* Handles the epoll events of c: sends what is left of the request and
 * reads what came. Returns the status of a whole answer (its body, NUL
 * terminated, in *body), 0 while more is to come, or -1 when the
 * connection failed or the answer cannot be parsed (the caller closes). */
long httpc_on_events(struct httpc *c, int ep, uint32_t events, const char **body);

/* Closes c's connection (if any), takes it out of ep, and frees its
 * request; c can connect again. */
void httpc_close(struct httpc *c, int ep);

/* Seconds on the monotonic clock. */
double httpc_now(void);

#endif
