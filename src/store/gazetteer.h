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

#endif
