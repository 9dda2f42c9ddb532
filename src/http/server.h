/* onthedot HTTP server: libmicrohttpd with an internal thread pool on
 * epoll, suspend/resume, connection limits (total, per client address with
 * trusted proxies exempt), an idle timeout, a body cap and one structured
 * log line per request. */
#ifndef OTD_HTTP_SERVER_H
#define OTD_HTTP_SERVER_H

#include "app/app.h"
#include "onthedot/mem.h"
#include "onthedot/status.h"

struct otd_server;

/* Binds app->cfg->listen and starts serving, over HTTPS when
 * http.tls_cert and http.tls_key are set. On success *out owns the
 * server; stop it with http_server_stop. Fails with OTD_EINVAL for a bad
 * listen address or TLS setting (one key without the other, a file that
 * is not PEM, a key that is not the certificate's) and OTD_EIO when the
 * port cannot be bound or a TLS file cannot be read, naming it in err. */
enum otd_status http_server_start(struct otd_app *app, struct otd_server **out,
                                  struct otd_error *err);

/* SIGHUP: reads the TLS certificate and key files again and serves new
 * handshakes with them; connections open keep what they have. A pair that
 * fails the checks is not used: the one in force stays, and the log says
 * why (the status is returned too). Without TLS it does nothing. */
enum otd_status http_server_reload(struct otd_server *srv);

/* Appends the TLS gauges and counters in Prometheus text to out: when the
 * certificate served expires, reloads by outcome. Nothing without TLS. */
void http_server_tls_metrics(struct otd_server *srv, struct otd_buf *out);

/* Reads and checks the TLS certificate and key files of cfg as start
 * would (both or neither, readable, PEM, the key the certificate's), and
 * serves nothing (serve --check-config). OTD_OK without TLS; otherwise as
 * http_server_start, err naming the file and the fault. */
enum otd_status http_server_check_tls(const struct otd_config *cfg, struct otd_error *err);

/* The TCP port actually bound (useful with port 0). */
unsigned http_server_port(const struct otd_server *srv);

/* Stops accepting, ends the live streams (resuming every suspended one),
 * lets requests in flight finish for at most grace_s seconds, then stops
 * the daemon and frees the server. */
void http_server_stop(struct otd_server *srv, int grace_s);

/* Requests in flight right now. */
int http_server_inflight(const struct otd_server *srv);

#endif
