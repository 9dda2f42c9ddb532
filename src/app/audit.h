/* onthedot audit trail: every write use case records who, what, which
 * record, when and from where, in its own transaction. */
#ifndef OTD_APP_AUDIT_H
#define OTD_APP_AUDIT_H

#include <jansson.h>
#include <stdint.h>

#include "app/app.h"

struct otd_conn;

/* Appends an audit entry for actor inside write job tx. detail (may be
 * NULL) is a JSON object of ids and changed field names (never personal
 * data); it is stolen. */
enum otd_status app_audit(struct otd_conn *tx, const struct otd_principal *actor, int64_t now,
                          const char *action, const char *entity, int64_t entity_id, json_t *detail,
                          struct otd_error *err);

/* A principal for the onthedot command run on the server's machine. */
void app_principal_cli(struct otd_principal *p);

#endif
