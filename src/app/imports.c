/* CSV imports: parse and check every row, then write all in one job. */
#include "app/imports.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/audit.h"
#include "app/catalog.h"
#include "app/planning.h"
#include "onthedot/csv.h"
#include "onthedot/import.h"
#include "onthedot/mem.h"
#include "onthedot/tz.h"
#include "onthedot/validate.h"
#include "store/catalog.h"
#include "store/gazetteer.h"
#include "store/store.h"

#define ROW_MAX_BYTES 65536
#define FIELDS_MAX 64

void otd_import_report_cleanup(struct otd_import_report *r)
{
	free(r->problems);
	memset(r, 0, sizeof(*r));
}

/* Collects per-row problems; the import fails when there is any. */
struct problems {
	struct otd_buf text;
	size_t count;
	const char *name;
};

static void problem(struct problems *p, size_t line, const struct otd_error *e)
{
	p->count++;
	if(p->count > OTD_IMPORT_MAX_ERRORS)
		return;
	if(line == 0) /* the reader's own message already names the line */
		otd_buf_printf(&p->text, "%s: %s\n", p->name, e->message);
	else if(e->field[0])
		otd_buf_printf(&p->text, "%s line %zu: %s (column %s)\n", p->name, line, e->message,
		               e->field);
	else
		otd_buf_printf(&p->text, "%s line %zu: %s\n", p->name, line, e->message);
}

static enum otd_status finish_problems(struct problems *p, struct otd_import_report *r,
                                       struct otd_error *err)
{
	r->bad_rows = p->count;
	if(p->count > OTD_IMPORT_MAX_ERRORS)
		otd_buf_printf(&p->text, "%s: %zu more rows with problems not shown\n", p->name,
		               p->count - OTD_IMPORT_MAX_ERRORS);
	r->problems = otd_buf_steal(&p->text);
	if(p->count)
		return otd_error_set(err, OTD_EINVAL, "import_rejected", NULL,
		                     "%s: %zu row%s with problems; nothing was imported.", p->name,
		                     p->count, p->count == 1 ? "" : "s");
	return OTD_OK;
}

/* Opens the reader and maps the header. On a broken header or an empty
 * file the import stops at once. */
static enum otd_status open_csv(struct otd_csv *csv, const char *name, const char *data,
                                size_t len, const char *const *cols, size_t n_required,
                                size_t n_cols, int *idx, struct otd_error *err)
{
	otd_csv_init(csv, data, len, ROW_MAX_BYTES, FIELDS_MAX);
	struct otd_csv_row row;
	struct otd_error e;
	enum otd_status st = otd_csv_next(csv, &row, &e);
	if(st == OTD_ENOTFOUND)
		return otd_error_set(err, OTD_EINVAL, "empty_file", NULL,
		                     "%s is empty; it needs a header line such as: %s,%s,...", name,
		                     cols[0], cols[1]);
	if(st == OTD_OK)
		st = otd_csv_header(&row, cols, n_required, n_cols, idx, &e);
	if(st)
		return otd_error_set(err, st == OTD_ETOOBIG ? OTD_ETOOBIG : OTD_EINVAL, e.code, e.field,
		                     "%s: %s", name, e.message);
	return OTD_OK;
}

/* Sorted keys with their lines, to report duplicates inside one file. */
struct key_line {
	const char *key;
	size_t line;
};

static int key_cmp(const void *a, const void *b)
{
	const struct key_line *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : (x->line < y->line ? -1 : x->line > y->line);
}

static void find_duplicates(struct key_line *keys, size_t n, const char *what,
                            struct problems *p)
{
	qsort(keys, n, sizeof(*keys), key_cmp);
	for(size_t i = 1; i < n; i++) {
		if(strcmp(keys[i].key, keys[i - 1].key) == 0) {
			struct otd_error e;
			otd_error_set(&e, OTD_EINVAL, "duplicate", what,
			              "the same %s as line %zu (\"%.60s\")", what, keys[i - 1].line,
			              keys[i].key);
			problem(p, keys[i].line, &e);
		}
	}
}

/* ---- gazetteer --------------------------------------------------------- */

struct gazetteer_job {
	const struct otd_principal *actor;
	struct otd_address *rows;
	size_t n;
	const char *name;
	int64_t now;
	struct otd_import_report *r;
	size_t bad_line;
};

static enum otd_status gazetteer_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct gazetteer_job *j = arg;
	enum otd_status st = store_gazetteer_begin(tx, err);
	j->r->inserted = j->r->updated = 0;
	for(size_t i = 0; i < j->n && st == OTD_OK; i++) {
		bool inserted;
		st = store_address_upsert(tx, &j->rows[i], j->now, &inserted, err);
		if(st)
			break;
		if(inserted)
			j->r->inserted++;
		else
			j->r->updated++;
	}
	if(st == OTD_OK)
		st = store_gazetteer_finish(tx, j->now, &j->r->removed, &j->r->retired, err);
	if(st == OTD_OK)
		st = app_audit(tx, j->actor, j->now, "import.gazetteer", "gazetteer", 0,
		               json_pack("{s:s,s:I,s:I,s:I,s:I,s:I}", "file", j->name, "rows",
		                         (json_int_t)j->n, "inserted", (json_int_t)j->r->inserted,
		                         "updated", (json_int_t)j->r->updated, "removed",
		                         (json_int_t)j->r->removed, "retired",
		                         (json_int_t)j->r->retired),
		               err);
	return st;
}

enum otd_status app_import_gazetteer(struct otd_app *app, const struct otd_principal *actor,
                                     const char *name, const char *data, size_t len,
                                     struct otd_import_report *r, struct otd_error *err)
{
	memset(r, 0, sizeof(*r));
	struct otd_csv csv;
	int idx[OTD_GAZETTEER_COUNT];
	enum otd_status st = open_csv(&csv, name, data, len, OTD_GAZETTEER_COLUMNS,
	                              OTD_GAZETTEER_REQUIRED, OTD_GAZETTEER_COUNT, idx, err);
	if(st) {
		otd_csv_cleanup(&csv);
		return st;
	}
	struct problems p = {.name = name};
	otd_buf_init(&p.text, 0);
	size_t cap = 1024, n = 0;
	struct otd_address *rows = xcalloc(cap, sizeof(*rows));
	size_t *lines = xcalloc(cap, sizeof(*lines));
	struct otd_csv_row row;
	struct otd_error e;
	while((st = otd_csv_next(&csv, &row, &e)) == OTD_OK) {
		if(n == cap) {
			cap *= 2;
			rows = xrealloc(rows, cap * sizeof(*rows));
			lines = xrealloc(lines, cap * sizeof(*lines));
		}
		if(otd_gazetteer_row(&row, idx, &rows[n], &e) != OTD_OK) {
			problem(&p, row.line, &e);
			otd_address_cleanup(&rows[n]);
			continue;
		}
		lines[n] = row.line;
		n++;
	}
	if(st != OTD_ENOTFOUND) /* the reader stopped at a broken line */
		problem(&p, 0, &e);
	r->rows = n + p.count;
	/* Duplicates inside the file: the same UPRN, or the same address. */
	struct key_line *keys = xcalloc(n ? n : 1, sizeof(*keys));
	size_t nk = 0;
	for(size_t i = 0; i < n; i++)
		if(rows[i].uprn[0])
			keys[nk++] = (struct key_line){rows[i].uprn, lines[i]};
	find_duplicates(keys, nk, "uprn", &p);
	nk = 0;
	for(size_t i = 0; i < n; i++)
		if(!rows[i].uprn[0])
			keys[nk++] = (struct key_line){rows[i].match_key, lines[i]};
	find_duplicates(keys, nk, "address", &p);
	free(keys);
	st = finish_problems(&p, r, err);
	if(st == OTD_OK) {
		struct gazetteer_job job = {actor, rows, n, name, otd_clock_now(app->clock), r, 0};
		st = store_write(app->store, gazetteer_job, &job, err);
	}
	for(size_t i = 0; i < n; i++)
		otd_address_cleanup(&rows[i]);
	free(rows);
	free(lines);
	otd_csv_cleanup(&csv);
	return st;
}

/* ---- visit types ------------------------------------------------------- */

struct visit_types_job {
	const struct otd_principal *actor;
	struct otd_visit_type *rows;
	size_t n;
	const char *name;
	int64_t now;
	struct otd_import_report *r;
};

static enum otd_status visit_types_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct visit_types_job *j = arg;
	enum otd_status st = OTD_OK;
	j->r->inserted = j->r->updated = 0;
	for(size_t i = 0; i < j->n && st == OTD_OK; i++) {
		struct otd_visit_type *t = &j->rows[i];
		int64_t id;
		st = store_visit_type_by_code(tx, t->code, &id, err);
		if(st == OTD_OK) {
			t->id = id;
			st = store_visit_type_update(tx, t, j->now, err);
			j->r->updated++;
		} else if(st == OTD_ENOTFOUND) {
			otd_error_clear(err);
			st = store_visit_type_insert(tx, t, j->now, err);
			j->r->inserted++;
		}
		if(st == OTD_OK)
			st = app_audit(tx, j->actor, j->now, "visit_type.import", "visit_type", t->id,
			               json_pack("{s:s,s:s}", "file", j->name, "code", t->code), err);
	}
	return st;
}

enum otd_status app_import_visit_types(struct otd_app *app, const struct otd_principal *actor,
                                       const char *name, const char *data, size_t len,
                                       struct otd_import_report *r, struct otd_error *err)
{
	memset(r, 0, sizeof(*r));
	struct otd_csv csv;
	int idx[OTD_VISIT_TYPE_COUNT];
	enum otd_status st = open_csv(&csv, name, data, len, OTD_VISIT_TYPE_COLUMNS,
	                              OTD_VISIT_TYPE_REQUIRED, OTD_VISIT_TYPE_COUNT, idx, err);
	if(st) {
		otd_csv_cleanup(&csv);
		return st;
	}
	struct problems p = {.name = name};
	otd_buf_init(&p.text, 0);
	size_t n = 0;
	struct otd_visit_type *rows = NULL;
	size_t *lines = NULL;
	struct otd_csv_row row;
	struct otd_error e;
	while((st = otd_csv_next(&csv, &row, &e)) == OTD_OK) {
		rows = xrealloc(rows, (n + 1) * sizeof(*rows));
		if(otd_visit_type_row(&row, idx, &rows[n], &e) != OTD_OK) {
			problem(&p, row.line, &e);
			otd_visit_type_cleanup(&rows[n]);
			continue;
		}
		lines = xrealloc(lines, (n + 1) * sizeof(*lines));
		lines[n] = row.line;
		n++;
	}
	if(st != OTD_ENOTFOUND)
		problem(&p, 0, &e);
	r->rows = n + p.count;
	struct key_line *keys = xcalloc(n ? n : 1, sizeof(*keys));
	for(size_t i = 0; i < n; i++)
		keys[i] = (struct key_line){rows[i].code, lines[i]};
	find_duplicates(keys, n, "code", &p);
	free(keys);
	free(lines);
	st = finish_problems(&p, r, err);
	if(st == OTD_OK) {
		struct visit_types_job job = {actor, rows, n, name, otd_clock_now(app->clock), r};
		st = store_write(app->store, visit_types_job, &job, err);
		if(st == OTD_OK && app->planner)
			planner_catalog_invalidate(app->planner);
	}
	for(size_t i = 0; i < n; i++)
		otd_visit_type_cleanup(&rows[i]);
	free(rows);
	otd_csv_cleanup(&csv);
	return st;
}

/* ---- visitors ---------------------------------------------------------- */

struct visitors_job {
	struct otd_app *app;
	const struct otd_principal *actor;
	struct otd_visitor *rows;
	size_t n;
	const char *name;
	bool confirm;
	int64_t now;
	struct otd_import_report *r;
};

static enum otd_status visitors_job(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct visitors_job *j = arg;
	enum otd_status st = OTD_OK;
	j->r->inserted = j->r->updated = 0;
	for(size_t i = 0; i < j->n && st == OTD_OK; i++) {
		struct otd_visitor *v = &j->rows[i];
		int64_t id;
		st = store_visitor_by_email(tx, v->email, &id, err);
		if(st == OTD_OK) {
			v->id = id;
			/* An import updates details and shifts; whether the visitor
			 * is active is changed only by (audited) deactivate and
			 * activate. */
			struct otd_visitor cur;
			st = store_visitor_get(tx, id, &cur, err);
			v->active = cur.active;
			otd_visitor_cleanup(&cur);
			if(st)
				break;
			struct otd_appointment_brief *open = NULL;
			size_t n_open = 0;
			st = store_visitor_open_appointments(tx, id, j->now, &open, &n_open, err);
			for(size_t k = 0; st == OTD_OK && k < n_open; k++) {
				if(otd_window_in_shifts(v->shifts, v->n_shifts, j->app->tz,
				                        open[k].window_start, open[k].window_end))
					continue;
				if(!j->confirm) {
					st = otd_error_set(err, OTD_ECONFLICT, "promises_affected", "shift_rrule",
					                   "%s: the new shifts of %s leave appointment %s outside "
					                   "every shift; nothing was imported (use "
					                   "--confirm-affected to go ahead).",
					                   j->name, v->email, open[k].reference);
					break;
				}
				char detail[96];
				snprintf(detail, sizeof(detail),
				         "{\"reason\":\"shift_changed\",\"visitor_id\":%lld}", (long long)id);
				st = store_appointment_event(tx, open[k].id, "visitor_change", j->now, "cli",
				                             0, detail, err);
			}
			free(open);
			if(st == OTD_OK)
				st = store_visitor_update(tx, v, j->now, err);
			j->r->updated++;
		} else if(st == OTD_ENOTFOUND) {
			otd_error_clear(err);
			st = store_visitor_insert(tx, v, j->now, err);
			j->r->inserted++;
		}
		if(st == OTD_OK)
			st = app_audit(tx, j->actor, j->now, "visitor.import", "visitor", v->id,
			               json_pack("{s:s,s:i}", "file", j->name, "shifts", (int)v->n_shifts),
			               err);
	}
	return st;
}

/* Validation names fields as the API does ("shifts[0].rrule", "base.lat",
 * "skills[2]"); a person fixing the file needs the CSV column. */
static void visitor_field_to_column(struct otd_error *e)
{
	static const struct {
		const char *suffix, *column;
	} shift_cols[] = {{".start", "shift_start"},
	                  {".duration_minutes", "shift_minutes"},
	                  {".rrule", "shift_rrule"},
	                  {".exdates", "shift_exdates"}};
	const char *column = NULL;
	if(strcmp(e->field, "base.lat") == 0)
		column = "base_lat";
	else if(strcmp(e->field, "base.lon") == 0)
		column = "base_lon";
	else if(strncmp(e->field, "skills[", 7) == 0)
		column = "skills";
	else if(strncmp(e->field, "shifts[", 7) == 0) {
		const char *dot = strchr(e->field, '.');
		size_t n = sizeof(shift_cols) / sizeof(shift_cols[0]);
		for(size_t i = 0; dot && !column && i < n; i++)
			if(strcmp(dot, shift_cols[i].suffix) == 0)
				column = shift_cols[i].column;
	}
	if(column)
		snprintf(e->field, sizeof(e->field), "%s", column);
}

static bool same_details(const struct otd_visitor *a, const struct otd_visitor *b)
{
	if(strcmp(a->name, b->name) || strcmp(a->role_title, b->role_title) ||
	   strcmp(a->phone, b->phone) || a->base_lat != b->base_lat || a->base_lon != b->base_lon ||
	   a->n_skills != b->n_skills)
		return false;
	for(size_t i = 0; i < a->n_skills; i++)
		if(strcmp(a->skills[i], b->skills[i]))
			return false;
	return true;
}

enum otd_status app_import_visitors(struct otd_app *app, const struct otd_principal *actor,
                                    const char *name, const char *data, size_t len,
                                    bool confirm_affected, struct otd_import_report *r,
                                    struct otd_error *err)
{
	memset(r, 0, sizeof(*r));
	struct otd_csv csv;
	int idx[OTD_VISITOR_COUNT];
	enum otd_status st = open_csv(&csv, name, data, len, OTD_VISITOR_COLUMNS,
	                              OTD_VISITOR_REQUIRED, OTD_VISITOR_COUNT, idx, err);
	if(st) {
		otd_csv_cleanup(&csv);
		return st;
	}
	struct problems p = {.name = name};
	otd_buf_init(&p.text, 0);
	size_t n = 0;
	struct otd_visitor *rows = NULL;
	size_t *first_line = NULL;
	struct otd_csv_row row;
	struct otd_error e;
	size_t total = 0;
	while((st = otd_csv_next(&csv, &row, &e)) == OTD_OK) {
		total++;
		struct otd_visitor v;
		struct otd_shift sh;
		bool has_shift;
		if(otd_visitor_row(&row, idx, &v, &sh, &has_shift, &e) != OTD_OK ||
		   app_visitor_prepare(app, &v, &e) != OTD_OK) {
			visitor_field_to_column(&e);
			problem(&p, row.line, &e);
			otd_visitor_cleanup(&v);
			otd_shift_cleanup(&sh);
			continue;
		}
		/* Rows with an email seen before add a shift to that visitor. */
		size_t k = 0;
		while(k < n && strcmp(rows[k].email, v.email) != 0)
			k++;
		if(k == n) {
			rows = xrealloc(rows, (n + 1) * sizeof(*rows));
			first_line = xrealloc(first_line, (n + 1) * sizeof(*first_line));
			rows[n] = v;
			first_line[n] = row.line;
			n++;
		} else {
			if(!same_details(&rows[k], &v)) {
				otd_error_set(&e, OTD_EINVAL, "conflicting_rows", "email",
				              "%s is on line %zu with different details; rows for one "
				              "visitor differ only in their shift",
				              v.email, first_line[k]);
				problem(&p, row.line, &e);
			}
			otd_visitor_cleanup(&v);
		}
		if(has_shift) {
			struct otd_visitor *t = &rows[k];
			snprintf(sh.tzid, sizeof(sh.tzid), "%s", otd_tz_name(app->tz));
			t->shifts = xrealloc(t->shifts, (t->n_shifts + 1) * sizeof(*t->shifts));
			t->shifts[t->n_shifts++] = sh;
			if(otd_visitor_validate(t, app->tz, &e) != OTD_OK) {
				visitor_field_to_column(&e);
				problem(&p, row.line, &e);
			}
		} else {
			otd_shift_cleanup(&sh);
		}
	}
	if(st != OTD_ENOTFOUND)
		problem(&p, 0, &e);
	r->rows = total;
	st = finish_problems(&p, r, err);
	if(st == OTD_OK) {
		struct visitors_job job = {app, actor, rows, n, name, confirm_affected,
		                           otd_clock_now(app->clock), r};
		st = store_write(app->store, visitors_job, &job, err);
		if(st == OTD_OK && app->planner)
			planner_catalog_invalidate(app->planner);
	}
	for(size_t i = 0; i < n; i++)
		otd_visitor_cleanup(&rows[i]);
	free(rows);
	free(first_line);
	otd_csv_cleanup(&csv);
	return st;
}
