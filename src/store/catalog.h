/* onthedot store: visitors (with skills and shifts), visit types and the
 * appointments a change to them would affect. */
#ifndef OTD_STORE_CATALOG_H
#define OTD_STORE_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onthedot/model.h"
#include "onthedot/status.h"

struct otd_conn;

/* The id of skill code, created when create is true. OTD_ENOTFOUND when
 * absent and create is false. */
enum otd_status store_skill_id(struct otd_conn *tx, const char *code, bool create, int64_t *id,
                               struct otd_error *err);

/* Inserts v with its skills and shifts; sets v->id and the shift ids.
 * OTD_ECONFLICT (field "email") when another visitor has the email. */
enum otd_status store_visitor_insert(struct otd_conn *tx, struct otd_visitor *v, int64_t now,
                                     struct otd_error *err);

/* Replaces every stored field of visitor v->id with v's (skills and shifts
 * too). OTD_ENOTFOUND when there is no such visitor. */
enum otd_status store_visitor_update(struct otd_conn *tx, struct otd_visitor *v, int64_t now,
                                     struct otd_error *err);

/* Reads visitor id with skills and shifts into *out (cleanup with
 * otd_visitor_cleanup). OTD_ENOTFOUND when absent. */
enum otd_status store_visitor_get(struct otd_conn *c, int64_t id, struct otd_visitor *out,
                                  struct otd_error *err);

/* The id of the visitor with email, or OTD_ENOTFOUND. */
enum otd_status store_visitor_by_email(struct otd_conn *c, const char *email, int64_t *id,
                                       struct otd_error *err);

/* Up to limit visitor ids after after_id in id order; active < 0 for
 * all, else only that state. *n receives the count. */
enum otd_status store_visitor_ids(struct otd_conn *c, int64_t after_id, int limit, int active,
                                  int64_t *ids, size_t *n, struct otd_error *err);

/* Sets a visitor's active flag. */
enum otd_status store_visitor_set_active(struct otd_conn *tx, int64_t id, bool active,
                                         int64_t now, struct otd_error *err);

/* The visitor's appointments not yet finished whose window ends after
 * now, in window order (heap array the caller frees). */
enum otd_status store_visitor_open_appointments(struct otd_conn *c, int64_t visitor_id,
                                                int64_t now,
                                                struct otd_appointment_brief **out, size_t *n,
                                                struct otd_error *err);

/* Records an appointment event (evidence) of kind with a JSON detail. */
enum otd_status store_appointment_event(struct otd_conn *tx, int64_t appointment_id,
                                        const char *kind, int64_t at, const char *actor_kind,
                                        int64_t actor_id, const char *detail,
                                        struct otd_error *err);

/* Visit types: insert (sets t->id; OTD_ECONFLICT on a taken code), update
 * all fields of t->id, read by id or code, list ids. */
enum otd_status store_visit_type_insert(struct otd_conn *tx, struct otd_visit_type *t, int64_t now,
                                        struct otd_error *err);
enum otd_status store_visit_type_update(struct otd_conn *tx, const struct otd_visit_type *t,
                                        int64_t now, struct otd_error *err);
enum otd_status store_visit_type_get(struct otd_conn *c, int64_t id, struct otd_visit_type *out,
                                     struct otd_error *err);
enum otd_status store_visit_type_by_code(struct otd_conn *c, const char *code, int64_t *id,
                                         struct otd_error *err);
enum otd_status store_visit_type_ids(struct otd_conn *c, int64_t after_id, int limit, int active,
                                     int64_t *ids, size_t *n, struct otd_error *err);

/* A short text that changes whenever visitors, their shifts, visit types
 * or holidays change (counts and last update times), so a cache can tell
 * cheaply whether to rebuild. */
enum otd_status store_catalog_fingerprint(struct otd_conn *c, char *out, size_t size,
                                          struct otd_error *err);

/* Idempotency keys: the entity a (scope, key) created, with the hash of
 * the request that created it. OTD_ENOTFOUND when the key is new. */
enum otd_status store_idem_get(struct otd_conn *c, const char *scope, const char *key,
                               unsigned char hash[32], char *entity, size_t entity_size,
                               int64_t *entity_id, struct otd_error *err);
enum otd_status store_idem_put(struct otd_conn *tx, const char *scope, const char *key,
                               const unsigned char hash[32], const char *entity, int64_t entity_id,
                               int64_t now, struct otd_error *err);

#endif
