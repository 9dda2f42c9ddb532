/* onthedot store: cheap reads for health and metrics. */
#ifndef OTD_STORE_SYSTEM_H
#define OTD_STORE_SYSTEM_H

#include <stdint.h>

#include "onthedot/status.h"

struct otd_conn;

/* A trivial read proving the database answers. */
enum otd_status store_ping(struct otd_conn *c, struct otd_error *err);

/* Outbox rows waiting to be sent (pending or sending) and uncertain ones. */
enum otd_status store_outbox_depth(struct otd_conn *c, int64_t *pending, int64_t *uncertain,
                                   struct otd_error *err);

#endif
