/* onthedot delivery worker: one thread with one libcurl multi handle that
 * sends the outbox (DESIGN.md, Messaging; TRAPS.md, libcurl).
 *
 * It claims due messages through the app (app/delivery.h), starts one
 * transfer per message on the provider its channel's list names
 * (delivery.email_providers, delivery.sms_providers), and reports each
 * outcome back. The store wakes it (curl_multi_wakeup) after every COMMIT
 * that queued a message, so a message written by a request leaves at once;
 * otherwise it sleeps until the next retry falls due (at most a second,
 * so a virtual clock moved by a test is seen). */
#ifndef OTD_NOTIFY_NOTIFY_H
#define OTD_NOTIFY_NOTIFY_H

#include <stdint.h>

#include "app/app.h"

struct otd_notifier;

/* Checks the delivery configuration (every provider listed has what it
 * needs: OTD_EINVAL naming the missing key), marks sends the previous
 * process left unfinished as uncertain, and starts the worker. With no
 * provider configured it starts nothing and *out is NULL: messages wait
 * in the outbox. curl_global_init must have run. */
enum otd_status notifier_start(struct otd_app *app, struct otd_notifier **out,
                               struct otd_error *err);

/* The worker keeps its counters in app->delivery (for /metrics). */

/* Stops claiming, lets transfers in flight finish (each is bounded by
 * delivery.timeout_ms) and records their outcomes, then stops the thread
 * and frees n. NULL is ignored. */
void notifier_stop(struct otd_notifier *n);

#endif
