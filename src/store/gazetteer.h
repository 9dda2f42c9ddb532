/* onthedot store: the gazetteer (addresses). An import is one write job:
 * store_gazetteer_begin, store_address_upsert for every row, then
 * store_gazetteer_finish. */
#ifndef OTD_STORE_GAZETTEER_H
#define OTD_STORE_GAZETTEER_H

#include <stdbool.h>
#include <stdint.h>

#include "onthedot/model.h"
#include "onthedot/status.h"

struct otd_conn;

/* Starts an import in write job tx (a scratch table of the ids seen). */
enum otd_status store_gazetteer_begin(struct otd_conn *tx, struct otd_error *err);

/* Inserts a, or updates the stored address with its UPRN (or, without a
 * UPRN, its match key), and marks it seen. Sets a->id and *inserted. */
enum otd_status store_address_upsert(struct otd_conn *tx, struct otd_address *a, int64_t now,
                                     bool *inserted, struct otd_error *err);

/* Ends an import: addresses not seen are deleted when nothing refers to
 * them, else kept and marked retired (an appointment's address is never
 * deleted). Counts both. */
enum otd_status store_gazetteer_finish(struct otd_conn *tx, int64_t now, int64_t *removed,
                                       int64_t *retired, struct otd_error *err);

/* Reads address id. OTD_ENOTFOUND when absent. */
enum otd_status store_address_get(struct otd_conn *c, int64_t id, struct otd_address *out,
                                  struct otd_error *err);

/* Number of addresses (not retired). */
enum otd_status store_address_count(struct otd_conn *c, int64_t *n, struct otd_error *err);

/* The gazetteer's generation: the id of the audit entry its latest import
 * wrote (in the import's own transaction, so it changes exactly when an
 * import commits, from this process or another); 0 before any import. One
 * read of an index: cheap enough to ask every second. */
enum otd_status store_gazetteer_generation(struct otd_conn *c, int64_t *generation,
                                           struct otd_error *err);

/* Called for each address by store_address_each_active; the strings live
 * only during the call. A status other than OTD_OK stops the walk. */
typedef enum otd_status (*store_address_fn)(void *ctx, int64_t id, const char *line1,
                                            const char *line2, const char *town,
                                            const char *postcode);

/* Calls fn for every address not retired, in id order, and returns the
 * first status fn returned that was not OTD_OK, or a read failure. */
enum otd_status store_address_each_active(struct otd_conn *c, store_address_fn fn, void *ctx,
                                          struct otd_error *err);

#endif
