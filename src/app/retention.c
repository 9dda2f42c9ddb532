/* The retention pass (app/retention.h). */
#include "app/retention.h"

#include <jansson.h>
#include <stdatomic.h>
#include <string.h>

#include "app/audit.h"
#include "app/log.h"
#include "app/planning.h"
#include "app/privacy.h"
#include "app/trust.h"
#include "store/privacy.h"
#include "store/store.h"

#define DAYS_MAX 64

/* ---- contacts ---------------------------------------------------------------- */

struct contacts_job {
	int64_t now, cutoff;
	int64_t n;
	struct otd_erase_day days[DAYS_MAX];
	size_t n_days;
};

static enum otd_status contacts_write(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct contacts_job *j = arg;
	int64_t ids[OTD_RETENTION_CONTACTS];
	size_t n = 0;
	j->n = 0;
	j->n_days = 0;
	enum otd_status st =
	    store_retention_contacts_due(tx, j->cutoff, ids, OTD_RETENTION_CONTACTS, &n, err);
	for(size_t i = 0; st == OTD_OK && i < n; i++) {
		struct otd_erase_counts c;
		size_t nd = 0;
		st = store_privacy_erase(tx, ids[i], j->now, &c, j->days + j->n_days,
		                         DAYS_MAX - j->n_days, &nd, err);
		if(st)
			break;
		j->n_days += nd;
		json_t *detail = app_erase_counts_json(&c);
		json_object_set_new(detail, "retention_days",
		                    json_integer((j->now - j->cutoff) / 86400));
		/* NULL actor: the service itself. */
		st = app_audit(tx, NULL, j->now, "customer.anonymise", "customer", ids[i], detail,
		               err);
		j->n++;
	}
	return st;
}

static enum otd_status contacts_step(struct otd_app *app, int64_t now, int days, int64_t *total,
                                     struct otd_error *err)
{
	struct contacts_job j = {.now = now, .cutoff = now - (int64_t)days * 86400};
	for(int b = 0; b < OTD_RETENTION_BATCHES; b++) {
		enum otd_status st = store_write(app->store, contacts_write, &j, err);
		if(st)
			return st;
		*total += j.n;
		for(size_t i = 0; app->planner && i < j.n_days; i++)
			planner_day_invalidate(app->planner, j.days[i].visitor_id,
			                       j.days[i].local_date);
		if(j.n < OTD_RETENTION_CONTACTS)
			break;
	}
	return OTD_OK;
}

/* ---- row batches ---------------------------------------------------------------- */

typedef enum otd_status (*batch_fn)(struct otd_conn *tx, int64_t cutoff, int max, int64_t *n,
                                    struct otd_error *err);

struct batch_job {
	batch_fn fn;
	int64_t cutoff;
	int64_t n;
};

static enum otd_status batch_write(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct batch_job *j = arg;
	j->n = 0;
	return j->fn(tx, j->cutoff, OTD_RETENTION_BATCH, &j->n, err);
}

static enum otd_status batches(struct otd_app *app, batch_fn fn, int64_t now, int days,
                               int64_t *total, struct otd_error *err)
{
	struct batch_job j = {.fn = fn, .cutoff = now - (int64_t)days * 86400};
	for(int b = 0; b < OTD_RETENTION_BATCHES; b++) {
		enum otd_status st = store_write(app->store, batch_write, &j, err);
		if(st)
			return st;
		*total += j.n;
		if(j.n < OTD_RETENTION_BATCH)
			break;
	}
	return OTD_OK;
}

/* ---- the pass -------------------------------------------------------------------- */

enum otd_status app_retention_pass(struct otd_app *app, struct otd_retention_report *out,
                                   struct otd_error *err)
{
	struct otd_retention_report r;
	memset(&r, 0, sizeof(r));
	const struct otd_config *cfg = app->cfg;
	int64_t now = otd_clock_now(app->clock);
	enum otd_status st = OTD_OK;
	if(cfg->retention.contact_days > 0) {
		st = contacts_step(app, now, cfg->retention.contact_days, &r.contacts, err);
		if(st == OTD_OK)
			st = batches(app, store_retention_inbound, now, cfg->retention.contact_days,
			             &r.inbound, err);
	}
	if(st == OTD_OK && cfg->retention.evidence_days > 0)
		st = batches(app, store_retention_events, now, cfg->retention.evidence_days,
		             &r.events, err);
	if(st == OTD_OK && cfg->retention.evidence_days > 0)
		st = batches(app, store_retention_receipts, now, cfg->retention.evidence_days,
		             &r.receipts, err);
	if(st == OTD_OK && cfg->retention.position_days > 0)
		st = batches(app, store_retention_positions, now, cfg->retention.position_days,
		             &r.positions, err);
	if(st == OTD_OK && cfg->retention.ip_days > 0)
		st = batches(app, store_retention_ips, now, cfg->retention.ip_days, &r.ips, err);

	atomic_fetch_add(&app->retention.runs, 1);
	if(st)
		atomic_fetch_add(&app->retention.errors, 1);
	atomic_fetch_add(&app->retention.contacts, (uint64_t)r.contacts);
	atomic_fetch_add(&app->retention.inbound, (uint64_t)r.inbound);
	atomic_fetch_add(&app->retention.events, (uint64_t)r.events);
	atomic_fetch_add(&app->retention.receipts, (uint64_t)r.receipts);
	atomic_fetch_add(&app->retention.positions, (uint64_t)r.positions);
	atomic_fetch_add(&app->retention.ips, (uint64_t)r.ips);
	bool changed = r.contacts || r.inbound || r.events || r.receipts || r.positions || r.ips;
	if(r.contacts && app->trust)
		app_trust_invalidate(app);
	if(changed) {
		/* No old page image of what went stays in the log. */
		struct otd_error cerr;
		otd_error_clear(&cerr);
		store_checkpoint_truncate(app->store, &r.log_truncated, &cerr);
	}
	if(changed || st)
		otd_log(st ? OTD_LOG_WARN : OTD_LOG_INFO, "retention",
		        "{s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:s}", "contacts", (json_int_t)r.contacts,
		        "inbound", (json_int_t)r.inbound, "events", (json_int_t)r.events,
		        "receipts", (json_int_t)r.receipts, "positions", (json_int_t)r.positions,
		        "ips", (json_int_t)r.ips, "log_truncated", r.log_truncated, "result",
		        st ? otd_status_name(st) : "ok");
	if(out)
		*out = r;
	return st;
}

/* ---- the dry run ------------------------------------------------------------------ */

struct dry_job {
	const struct otd_config *cfg;
	int64_t now;
	struct otd_retention_report r;
	bool counted;
};

/* Runs fn until it finds nothing more, inside the one transaction. */
static enum otd_status dry_rule(struct otd_conn *tx, batch_fn fn, int64_t now, int days,
                                int64_t *total, struct otd_error *err)
{
	if(days <= 0)
		return OTD_OK;
	for(int b = 0; b < OTD_RETENTION_BATCHES; b++) {
		int64_t n = 0;
		enum otd_status st =
		    fn(tx, now - (int64_t)days * 86400, OTD_RETENTION_BATCH, &n, err);
		if(st)
			return st;
		*total += n;
		if(n < OTD_RETENTION_BATCH)
			break;
	}
	return OTD_OK;
}

static enum otd_status dry_write(struct otd_conn *tx, void *arg, struct otd_error *err)
{
	struct dry_job *j = arg;
	const struct otd_config *cfg = j->cfg;
	enum otd_status st = OTD_OK;
	if(cfg->retention.contact_days > 0) {
		int64_t cutoff = j->now - (int64_t)cfg->retention.contact_days * 86400;
		for(int b = 0; st == OTD_OK && b < OTD_RETENTION_BATCHES; b++) {
			int64_t ids[OTD_RETENTION_CONTACTS];
			size_t n = 0;
			st = store_retention_contacts_due(tx, cutoff, ids, OTD_RETENTION_CONTACTS,
			                                  &n, err);
			for(size_t i = 0; st == OTD_OK && i < n; i++)
				st = store_privacy_erase(tx, ids[i], j->now, NULL, NULL, 0, NULL,
				                         err);
			j->r.contacts += (int64_t)n;
			if(n < OTD_RETENTION_CONTACTS)
				break;
		}
		if(st == OTD_OK)
			st = dry_rule(tx, store_retention_inbound, j->now,
			              cfg->retention.contact_days, &j->r.inbound, err);
	}
	if(st == OTD_OK)
		st = dry_rule(tx, store_retention_events, j->now, cfg->retention.evidence_days,
		              &j->r.events, err);
	if(st == OTD_OK)
		st = dry_rule(tx, store_retention_receipts, j->now, cfg->retention.evidence_days,
		              &j->r.receipts, err);
	if(st == OTD_OK)
		st = dry_rule(tx, store_retention_positions, j->now, cfg->retention.position_days,
		              &j->r.positions, err);
	if(st == OTD_OK)
		st = dry_rule(tx, store_retention_ips, j->now, cfg->retention.ip_days, &j->r.ips,
		              err);
	if(st)
		return st;
	/* Counted: now undo it all (the writer rolls back a failed job). */
	j->counted = true;
	return otd_error_set(err, OTD_ECONFLICT, "dry_run", NULL, "A dry run changes nothing.");
}

enum otd_status app_retention_dry_run(struct otd_app *app, struct otd_retention_report *out,
                                      struct otd_error *err)
{
	memset(out, 0, sizeof(*out));
	struct dry_job j = {.cfg = app->cfg, .now = otd_clock_now(app->clock)};
	enum otd_status st = store_write(app->store, dry_write, &j, err);
	if(j.counted && st == OTD_ECONFLICT && err && strcmp(err->code, "dry_run") == 0) {
		otd_error_clear(err);
		*out = j.r;
		return OTD_OK;
	}
	return st;
}

enum otd_status app_retention_due(struct otd_app *app, bool *ran, struct otd_error *err)
{
	if(ran)
		*ran = false;
	const struct otd_config *cfg = app->cfg;
	if(!cfg->retention.contact_days && !cfg->retention.evidence_days &&
	   !cfg->retention.position_days && !cfg->retention.ip_days)
		return OTD_OK;
	int64_t now = otd_clock_now(app->clock);
	int64_t last = atomic_load(&app->retention.last_run);
	if(last != 0 && now - last < OTD_RETENTION_PERIOD && now >= last)
		return OTD_OK;
	/* Claim the pass: the ticker thread and a virtual clock's advance may
	 * both get here. */
	if(!atomic_compare_exchange_strong(&app->retention.last_run, &last, now))
		return OTD_OK;
	if(ran)
		*ran = true;
	return app_retention_pass(app, NULL, err);
}
