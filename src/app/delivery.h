/* onthedot delivery use cases: what the delivery worker (src/notify) asks
 * of the application, and what gateways' callbacks report (DESIGN.md,
 * Messaging).
 *
 * A message is claimed ('sending') before its transfer starts and its
 * outcome is recorded by delivery_outcome in one transaction: sent (with
 * the provider's id), a retry later (exponential backoff with full jitter,
 * up to delivery.max_attempts per provider), the next provider of the
 * channel, or failed. A failed message falls back to another channel the
 * customer gave and agreed to (the "alt" rendering its payload carries)
 * unless another message of the same event reached them; with none left,
 * the appointment goes on the dispatcher's call list. A send in flight
 * when the process died is 'uncertain' after the restart: email is sent
 * again with the same Message-ID, a text message only when no delivery
 * report came for it. */
#ifndef OTD_APP_DELIVERY_H
#define OTD_APP_DELIVERY_H

#include <stdbool.h>
#include <stdint.h>

#include "app/app.h"
#include "store/outbox.h"

enum delivery_kind {
	DELIVERY_SENT,      /* the gateway accepted it */
	DELIVERY_RETRY,     /* a passing failure: try again later */
	DELIVERY_PERMANENT, /* this provider will never take it */
	DELIVERY_UNCERTAIN, /* it may have reached the gateway (a timeout after the
	                     * request went out): handled like a send cut off by a
	                     * crash, and counted */
};

struct delivery_result {
	enum delivery_kind kind;
	const char *provider;    /* "smtp", "kannel", "twilio", "webhook" */
	const char *provider_id; /* the gateway's id of the message, or NULL */
	const char *error;       /* retry, permanent: what went wrong, for people */
};

/* At start, before the worker: sends cut off by a process's death become
 * uncertain (logged and counted). *n receives how many. SQLite: every
 * message left 'sending'. PostgreSQL (several nodes): those claimed by
 * this process or longer than delivery.claim_lease_s ago. */
enum otd_status app_delivery_recover(struct otd_app *app, int64_t *n, struct otd_error *err);

/* PostgreSQL only (OTD_OK, *n = 0 under SQLite): while nodes run, takes
 * over the sends of nodes that stopped, i.e. messages claimed by any node
 * longer than delivery.claim_lease_s ago (they become uncertain, logged
 * and counted as at start). The worker calls it periodically. */
enum otd_status app_delivery_takeover(struct otd_app *app, int64_t *n, struct otd_error *err);

/* Claims up to max due messages of the channels in mask (OTD_CHANNEL_*);
 * out must hold max entries; the caller cleans each up. */
enum otd_status app_delivery_claim(struct otd_app *app, unsigned mask, int max,
                                   struct otd_outbox_msg *out, int *n, struct otd_error *err);

/* When the next message of mask falls due (INT64_MAX: none waits). */
enum otd_status app_delivery_next_due(struct otd_app *app, unsigned mask, int64_t *due,
                                      struct otd_error *err);

/* Records the outcome of sending m through its provider number
 * m->provider_index of n_providers configured for its channel. */
enum otd_status app_delivery_outcome(struct otd_app *app, const struct otd_outbox_msg *m,
                                     int n_providers, const struct delivery_result *r,
                                     struct otd_error *err);

/* A delivery report from a gateway for message outbox_id: status is
 * "accepted" (by the network), "delivered", "failed" or "other"; detail
 * a JSON object of what the gateway said. A failure of a message we
 * counted as sent falls back like a failed send. Unknown ids are
 * OTD_ENOTFOUND. */
enum otd_status app_delivery_receipt(struct otd_app *app, int64_t outbox_id, const char *provider,
                                     const char *status, const char *detail_json,
                                     struct otd_error *err);

/* The same, for a message the provider knows by its own id. */
enum otd_status app_delivery_receipt_by_provider_id(struct otd_app *app, const char *provider,
                                                    const char *provider_id, const char *status,
                                                    const char *detail_json, struct otd_error *err);

/* The key that authenticates callback URLs given to gateways (read once). */
enum otd_status app_url_key(struct otd_app *app, unsigned char key[32], struct otd_error *err);

#endif
