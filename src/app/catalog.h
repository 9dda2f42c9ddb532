/* onthedot catalog use cases: visitors (with skills and shifts) and
 * visit types, as the admin API and the imports change them. */
#ifndef OTD_APP_CATALOG_H
#define OTD_APP_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/app.h"
#include "onthedot/model.h"
#include "onthedot/shift.h"

/* An Idempotency-Key for a creating request: scope (the principal), the
 * key and a hash of the request. key NULL means none was given. */
struct otd_idem {
	char scope[64];
	const char *key;
	unsigned char hash[32];
};

/* Which fields of a visitor an update changes. */
enum {
	VISITOR_SET_NAME = 1 << 0,
	VISITOR_SET_ROLE_TITLE = 1 << 1,
	VISITOR_SET_PHONE = 1 << 2,
	VISITOR_SET_EMAIL = 1 << 3,
	VISITOR_SET_BASE = 1 << 4,
	VISITOR_SET_SKILLS = 1 << 5,
	VISITOR_SET_SHIFTS = 1 << 6,
};

/* Normalises (phone to E.164, email) and validates v in place. */
enum otd_status app_visitor_prepare(struct otd_app *app, struct otd_visitor *v,
                                    struct otd_error *err);

/* Creates v (validated by app_visitor_prepare first) and sets v->id. With
 * an idempotency key seen before for the same request, creates nothing and
 * sets v->id to what the first request created, and *replayed. The same
 * key with a different request is OTD_ESTATE. Audited. */
enum otd_status app_visitor_create(struct otd_app *app, const struct otd_principal *actor,
                                   struct otd_visitor *v, const struct otd_idem *idem,
                                   bool *replayed, struct otd_error *err);

/* Reads visitor id (cleanup with otd_visitor_cleanup). */
enum otd_status app_visitor_get(struct otd_app *app, int64_t id, struct otd_visitor *out,
                                struct otd_error *err);

/* Lists up to limit visitors after id after_id (active: -1 all, 0, 1).
 * *out is a heap array of *n visitors (clean each, free the array);
 * *next is the last id when more remain, else 0. */
enum otd_status app_visitor_list(struct otd_app *app, int64_t after_id, int limit, int active,
                                 struct otd_visitor **out, size_t *n, int64_t *next,
                                 struct otd_error *err);

/* Applies the fields of patch selected by set to visitor id. When the new
 * shifts leave an open appointment outside every shift and confirm is
 * false, nothing changes: OTD_ECONFLICT with the appointments in *affected
 * (heap, *n_affected; the caller frees). With confirm the change goes
 * through and each affected appointment gets a "visitor_change" event.
 * On success *out receives the updated visitor. */
enum otd_status app_visitor_update(struct otd_app *app, const struct otd_principal *actor,
                                   int64_t id, const struct otd_visitor *patch, unsigned set,
                                   bool confirm, struct otd_visitor *out,
                                   struct otd_appointment_brief **affected, size_t *n_affected,
                                   struct otd_error *err);

/* Deactivates (or reactivates) a visitor. Deactivating one who holds open
 * appointments without confirm is OTD_ECONFLICT with them in *affected. */
enum otd_status app_visitor_set_active(struct otd_app *app, const struct otd_principal *actor,
                                       int64_t id, bool active, bool confirm,
                                       struct otd_visitor *out,
                                       struct otd_appointment_brief **affected,
                                       size_t *n_affected, struct otd_error *err);

/* The visitor's shift occurrences overlapping [from, to) (UTC), sorted;
 * *out is a heap array the caller frees. At most 366 days. */
enum otd_status app_visitor_shifts(struct otd_app *app, int64_t id, int64_t from, int64_t to,
                                   struct otd_interval **out, size_t *n, struct otd_error *err);

/* Visit types, the same shapes. */
enum otd_status app_visit_type_create(struct otd_app *app, const struct otd_principal *actor,
                                      struct otd_visit_type *t, const struct otd_idem *idem,
                                      bool *replayed, struct otd_error *err);
enum otd_status app_visit_type_get(struct otd_app *app, int64_t id, struct otd_visit_type *out,
                                   struct otd_error *err);
enum otd_status app_visit_type_list(struct otd_app *app, int64_t after_id, int limit, int active,
                                    struct otd_visit_type **out, size_t *n, int64_t *next,
                                    struct otd_error *err);

enum {
	VISIT_TYPE_SET_CODE = 1 << 0,
	VISIT_TYPE_SET_NAME = 1 << 1,
	VISIT_TYPE_SET_SKILL = 1 << 2,
	VISIT_TYPE_SET_MEDIAN = 1 << 3,
	VISIT_TYPE_SET_SPREAD = 1 << 4,
	VISIT_TYPE_SET_WINDOW = 1 << 5,
	VISIT_TYPE_SET_ACTIVE = 1 << 6,
};

/* Applies the fields of patch selected by set to visit type id. */
enum otd_status app_visit_type_update(struct otd_app *app, const struct otd_principal *actor,
                                      int64_t id, const struct otd_visit_type *patch,
                                      unsigned set, struct otd_visit_type *out,
                                      struct otd_error *err);

#endif
