/* onthedot HTTP server: libmicrohttpd with an internal thread pool on
 * epoll, suspend/resume, connection limits (total, per client address with
 * trusted proxies exempt), an idle timeout, a body cap and one structured
 * log line per request. */
#ifndef OTD_HTTP_SERVER_H
#define OTD_HTTP_SERVER_H

#include "app/app.h"
#include "onthedot/status.h"

struct otd_server;

/* Binds app->cfg->listen and starts serving. On success *out owns the
 * server; stop it with http_server_stop. Fails with OTD_EINVAL for a bad
 * listen address and OTD_EIO when the port cannot be bound, naming it in
 * err. */
enum otd_status http_server_start(struct otd_app *app, struct otd_server **out,
                                  struct otd_error *err);

/* The TCP port actually bound (useful with port 0). */
unsigned http_server_port(const struct otd_server *srv);

/* Stops accepting, ends the live streams (resuming every suspended one),
 * lets requests in flight finish for at most grace_s seconds, then stops
 * the daemon and frees the server. */
void http_server_stop(struct otd_server *srv, int grace_s);

/* Requests in flight right now. */
int http_server_inflight(const struct otd_server *srv);

#endif
