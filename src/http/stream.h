/* onthedot live streams (Server-Sent Events): what the server needs of
 * stream.c. The handlers are declared in handlers.h.
 *
 * A stream handler subscribes to the app's bus and sets req->stream; the
 * server then sends a response whose body comes from a content reader that
 * suspends the connection when there is nothing to send, and the bus
 * resumes it from the publishing thread (TRAPS.md, libmicrohttpd). */
#ifndef OTD_HTTP_STREAM_H
#define OTD_HTTP_STREAM_H

#include "http/http.h"

struct MHD_Response;
struct http_streams;

/* Starts the heartbeat thread of app's streams (a keepalive comment after
 * cfg streams.heartbeat_s of silence). Never NULL. */
struct http_streams *http_streams_start(struct otd_app *app);

/* For SIGTERM, after MHD_quiesce_daemon: closes the bus (every stream ends
 * and its connection is resumed), waits at most grace_s seconds for the
 * streams to finish, stops the heartbeat thread and frees st. Afterwards
 * no stream's connection is suspended, so MHD_stop_daemon is safe. NULL is
 * ignored. */
void http_streams_stop(struct http_streams *st, int grace_s);

/* The response of a request whose handler set req->stream; the response
 * owns the stream from here (req->stream is NULL afterwards, even when
 * this fails and returns NULL). */
struct MHD_Response *http_stream_response(struct otd_req *req);

/* Frees a stream that never became a response (NULL is ignored). */
void http_stream_discard(struct http_stream *s);

#endif
