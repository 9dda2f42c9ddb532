/* onthedot store: rebalance proposals shared by the nodes of one database
 * (schema/008_proposals.sql). The application encodes a proposal as text;
 * the store keeps it until it is applied or expires. */
#ifndef OTD_STORE_PROPOSALS_H
#define OTD_STORE_PROPOSALS_H

#include <stdbool.h>
#include <stdint.h>

#include "onthedot/status.h"

struct otd_conn;

/* Stores proposal id (1..64 characters) with body until expires_at, in a
 * write job, first deleting the proposals expired at now. */
enum otd_status store_proposal_put(struct otd_conn *tx, const char *id, int64_t expires_at,
                                   const char *body, int64_t now, struct otd_error *err);

/* Reads proposal id's body if it is still stored and live at now: *body
 * is a heap string, or NULL when there is none (OTD_OK either way). */
enum otd_status store_proposal_get(struct otd_conn *c, const char *id, int64_t now, char **body,
                                   struct otd_error *err);

/* Deletes proposal id in a write job; *removed tells whether it was there
 * (false: another node applied it first, or it was never stored). */
enum otd_status store_proposal_remove(struct otd_conn *tx, const char *id, bool *removed,
                                      struct otd_error *err);

#endif
