/* onthedot store: sharing the ticker's routes among the nodes of one
 * database (DESIGN.md, Storage and scale). Routes fall into
 * STORE_TICKER_SHARDS shards by visitor; each pass a node claims the shards
 * it evaluates, so that each is evaluated by one node per period, and a
 * dead node's shards pass to the others. Under SQLite (one node) the
 * ticker does not use this. */
#ifndef OTD_STORE_SHARDS_H
#define OTD_STORE_SHARDS_H

#include <stdbool.h>
#include <stdint.h>

#include "onthedot/status.h"

struct otd_conn;

#define STORE_TICKER_SHARDS 16

/* The shard of a visitor's routes: 0 .. STORE_TICKER_SHARDS - 1. */
int store_shard_of(int64_t visitor_id);

/* Records in a write job that node (a short id, 1..64 characters) is alive
 * at now, forgets nodes not seen since now - live_window, and gives this
 * node's place among those alive, sorted by id (*rank from 0), and their
 * number (*live, at least 1). */
enum otd_status store_node_heartbeat(struct otd_conn *tx, const char *node, int64_t now,
                                     int64_t live_window, int *rank, int *live,
                                     struct otd_error *err);

/* Claims shard for a pass at now in a write job: *mine is true when no
 * node passed it after due (then it is recorded as passed by node at now),
 * false when one did or another node is claiming it at this moment (a
 * transaction-level advisory lock per shard under PostgreSQL). */
enum otd_status store_shard_claim(struct otd_conn *tx, int shard, const char *node, int64_t now,
                                  int64_t due, bool *mine, struct otd_error *err);

#endif
