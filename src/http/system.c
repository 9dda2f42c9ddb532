/* System routes: /healthz, /metrics, the test-only virtual clock and the
 * OpenAPI document. */
#include <stdio.h>
#include <string.h>

#include "app/bus.h"
#include "app/system.h"
#include "http/decode.h"
#include "http/handlers.h"
#include "http/json_in.h"
#include "http/metrics.h"
#include "http/server.h"
#include "onthedot/asset.h"
#include "onthedot/civil.h"

struct http_metrics *http_server_metrics(struct otd_server *srv);

enum otd_status h_healthz(struct otd_req *req)
{
	enum otd_status st = app_health(req->app, &req->err);
	if(st) {
		req_reply_json(req, 503, json_pack("{s:s,s:s}", "status", "unavailable", "reason",
		                                   req->err.message));
		return OTD_OK;
	}
	req_reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
	return OTD_OK;
}

enum otd_status h_metrics(struct otd_req *req)
{
	struct otd_app_metrics m = {0};
	enum otd_status st = app_metrics(req->app, &m, &req->err);
	struct otd_buf out;
	otd_buf_init(&out, 0);
	http_metrics_render(http_server_metrics(req->srv), &out);
	otd_buf_printf(
	    &out,
	    "# HELP otd_db_errors_total Database errors other than busy and constraint.\n"
	    "# TYPE otd_db_errors_total counter\notd_db_errors_total %llu\n"
	    "# HELP otd_db_busy_total Writes refused or retried because the database "
	    "or the writer queue was busy.\n"
	    "# TYPE otd_db_busy_total counter\notd_db_busy_total %llu\n"
	    "# HELP otd_writer_queue_depth Write jobs waiting for the writer.\n"
	    "# TYPE otd_writer_queue_depth gauge\notd_writer_queue_depth %d\n"
	    "# HELP otd_writer_jobs_total Write jobs submitted.\n"
	    "# TYPE otd_writer_jobs_total counter\notd_writer_jobs_total %llu\n"
	    "# HELP otd_writer_commits_total COMMITs (one may carry several jobs).\n"
	    "# TYPE otd_writer_commits_total counter\notd_writer_commits_total %llu\n"
	    "# HELP otd_writer_pages_total Database pages the writer wrote to the log.\n"
	    "# TYPE otd_writer_pages_total counter\notd_writer_pages_total %llu\n"
	    "# HELP otd_writer_busy_seconds_total Time the writer spent in "
	    "transactions.\n"
	    "# TYPE otd_writer_busy_seconds_total counter\n"
	    "otd_writer_busy_seconds_total %.6f\n"
	    "# HELP otd_writer_commit_seconds_total Of which in COMMIT (the log written; "
	    "synced there only when no syncer runs).\n"
	    "# TYPE otd_writer_commit_seconds_total counter\n"
	    "otd_writer_commit_seconds_total %.6f\n"
	    "# HELP otd_store_syncs_total Syncs of the log by the syncer, each "
	    "answering the writes committed before it.\n"
	    "# TYPE otd_store_syncs_total counter\notd_store_syncs_total %llu\n"
	    "# HELP otd_store_sync_seconds_total Time the syncer spent syncing the "
	    "log, beside the writer.\n"
	    "# TYPE otd_store_sync_seconds_total counter\n"
	    "otd_store_sync_seconds_total %.6f\n"
	    "# HELP otd_db_wal_bytes Size of the write-ahead log.\n"
	    "# TYPE otd_db_wal_bytes gauge\notd_db_wal_bytes %lld\n",
	    (unsigned long long)m.store.db_errors, (unsigned long long)m.store.busy_rejections,
	    m.store.writer_queue_depth, (unsigned long long)m.store.write_jobs,
	    (unsigned long long)m.store.commits, (unsigned long long)m.store.pages_written,
	    m.store.busy_seconds, m.store.commit_seconds, (unsigned long long)m.store.syncs,
	    m.store.sync_seconds, (long long)m.store.wal_bytes);
	otd_buf_puts(&out, "# HELP otd_store_write_errors_total Writes refused or lost by kind: "
	                   "busy (writer queue full or wait over, or another process held the "
	                   "database), full (disk full), io (I/O error).\n"
	                   "# TYPE otd_store_write_errors_total counter\n");
	for(int k = STORE_FAULT_BUSY; k < STORE_FAULT_COUNT; k++)
		otd_buf_printf(&out, "otd_store_write_errors_total{kind=\"%s\"} %llu\n",
		               store_fault_name((enum otd_store_fault)k),
		               (unsigned long long)m.store.write_errors[k]);
	otd_buf_printf(&out,
	               "# HELP otd_store_writer_reopens_total Writer connections replaced after an "
	               "I/O error.\n# TYPE otd_store_writer_reopens_total counter\n"
	               "otd_store_writer_reopens_total %llu\n",
	               (unsigned long long)m.store.writer_reopens);
	otd_buf_printf(&out,
	               "# HELP otd_store_serialization_retries_total Write jobs run again after a "
	               "serialization failure or deadlock (PostgreSQL; 0 under SQLite).\n"
	               "# TYPE otd_store_serialization_retries_total counter\n"
	               "otd_store_serialization_retries_total %llu\n",
	               (unsigned long long)m.store.serialization_retries);
	otd_buf_printf(&out,
	               "# HELP otd_store_writes_run_alone_total Write jobs that met repeated "
	               "serialization failures and then ran alone (PostgreSQL; 0 under SQLite).\n"
	               "# TYPE otd_store_writes_run_alone_total counter\n"
	               "otd_store_writes_run_alone_total %llu\n",
	               (unsigned long long)m.store.writes_run_alone);
	if(st == OTD_OK)
		otd_buf_printf(&out,
		               "# HELP otd_outbox_depth Messages waiting to be sent.\n"
		               "# TYPE otd_outbox_depth gauge\notd_outbox_depth %lld\n"
		               "# HELP otd_outbox_uncertain Sends cut off by a crash, not yet "
		               "resolved.\n# TYPE otd_outbox_uncertain gauge\notd_outbox_uncertain "
		               "%lld\n"
		               "# HELP otd_outbox_uncertain_total Sends ever cut off by a crash "
		               "(each may have reached the customer twice).\n"
		               "# TYPE otd_outbox_uncertain_total counter\n"
		               "otd_outbox_uncertain_total %lld\n"
		               "# HELP otd_outbox_sent Messages a gateway accepted.\n"
		               "# TYPE otd_outbox_sent gauge\notd_outbox_sent %lld\n"
		               "# HELP otd_outbox_failed Messages that failed for good.\n"
		               "# TYPE otd_outbox_failed gauge\notd_outbox_failed %lld\n",
		               (long long)m.outbox_pending, (long long)m.outbox_uncertain,
		               (long long)m.outbox_uncertain_total, (long long)m.outbox_sent,
		               (long long)m.outbox_failed);
	otd_buf_printf(&out,
	               "# HELP otd_delivery_running Whether the delivery worker runs (1) or no "
	               "provider is configured (0).\n"
	               "# TYPE otd_delivery_running gauge\notd_delivery_running %d\n"
	               "# HELP otd_delivery_in_flight Transfers to gateways running now.\n"
	               "# TYPE otd_delivery_in_flight gauge\notd_delivery_in_flight %d\n"
	               "# HELP otd_delivery_transfers_total Transfers to gateways started.\n"
	               "# TYPE otd_delivery_transfers_total counter\n"
	               "otd_delivery_transfers_total %llu\n"
	               "# HELP otd_delivery_outcome_errors_total Outcomes of sends that could "
	               "not be stored.\n"
	               "# TYPE otd_delivery_outcome_errors_total counter\n"
	               "otd_delivery_outcome_errors_total %llu\n",
	               atomic_load(&req->app->delivery.running) ? 1 : 0,
	               atomic_load(&req->app->delivery.in_flight),
	               (unsigned long long)atomic_load(&req->app->delivery.transfers),
	               (unsigned long long)atomic_load(&req->app->delivery.outcome_errors));
	size_t parked = 0, streams = req->app->bus ? bus_open_count(req->app->bus, &parked) : 0;
	otd_buf_printf(&out,
	               "# HELP otd_streams_open Live streams (Server-Sent Events) open.\n"
	               "# TYPE otd_streams_open gauge\notd_streams_open %zu\n"
	               "# HELP otd_streams_waiting Open live streams suspended until news.\n"
	               "# TYPE otd_streams_waiting gauge\notd_streams_waiting %zu\n",
	               streams, parked);
	http_server_tls_metrics(req->srv, &out);
	otd_buf_printf(
	    &out,
	    "# HELP otd_delivery_worker_errors_total Failed claims and reads of the delivery "
	    "worker (each retried after a pause that doubles).\n"
	    "# TYPE otd_delivery_worker_errors_total counter\n"
	    "otd_delivery_worker_errors_total %llu\n"
	    "# HELP otd_ticker_passes_total Passes of the ticker (risk, holds, reminders).\n"
	    "# TYPE otd_ticker_passes_total counter\notd_ticker_passes_total %llu\n"
	    "# HELP otd_ticker_errors_total Failed steps of ticker passes (each retried on a "
	    "later pass).\n"
	    "# TYPE otd_ticker_errors_total counter\notd_ticker_errors_total %llu\n"
	    "# HELP otd_ticker_last_success_timestamp_seconds Wall-clock time of the last ticker "
	    "pass without a failed step (0: none yet).\n"
	    "# TYPE otd_ticker_last_success_timestamp_seconds gauge\n"
	    "otd_ticker_last_success_timestamp_seconds %lld\n",
	    (unsigned long long)atomic_load(&req->app->delivery.errors),
	    (unsigned long long)atomic_load(&req->app->ticker.passes),
	    (unsigned long long)atomic_load(&req->app->ticker.errors),
	    (long long)atomic_load(&req->app->ticker.last_success));
	if(st == OTD_OK)
		otd_buf_printf(
		    &out,
		    "# HELP otd_outbox_oldest_due_age_seconds How long the longest-waiting pending "
		    "message has been due (0: none).\n"
		    "# TYPE otd_outbox_oldest_due_age_seconds gauge\n"
		    "otd_outbox_oldest_due_age_seconds %lld\n"
		    "# HELP otd_appointments_at_risk_unmessaged Appointments at risk with no "
		    "apology "
		    "sent yet.\n"
		    "# TYPE otd_appointments_at_risk_unmessaged gauge\n"
		    "otd_appointments_at_risk_unmessaged %lld\n"
		    "# HELP otd_guarantee_cases_due_within_day Open guarantee cases whose deadline is "
		    "within 24 hours.\n"
		    "# TYPE otd_guarantee_cases_due_within_day gauge\notd_guarantee_cases_due_within_day %lld\n"
		    "# HELP otd_guarantee_cases_overdue Open guarantee cases past their deadline.\n"
		    "# TYPE otd_guarantee_cases_overdue gauge\notd_guarantee_cases_overdue %lld\n",
		    (long long)m.ops.oldest_due_age, (long long)m.ops.at_risk_unmessaged,
		    (long long)m.ops.guarantee_due_24h, (long long)m.ops.guarantee_overdue);
	http_metrics_render_retention(req->app, &out);
	otd_buf_printf(&out,
	               "# HELP otd_clock_seconds The service's notion of now (virtual in tests).\n"
	               "# TYPE otd_clock_seconds gauge\notd_clock_seconds %lld\n",
	               (long long)m.now);
	size_t len = out.len;
	req_reply_raw(req, 200, "text/plain; version=0.0.4; charset=utf-8", otd_buf_steal(&out),
	              len);
	return OTD_OK;
}

enum otd_status clock_decode(const json_t *body, int64_t *seconds, int64_t *to,
                             struct otd_error *err)
{
	static const struct field_spec spec[] = {
	    {"seconds", FIELD_INT, false, 0, 366.0 * 86400, false},
	    {"to", FIELD_STRING, false, 1, 40, false},
	};
	*seconds = 0;
	*to = 0;
	enum otd_status st = json_check(body, spec, 2, NULL, err);
	if(st)
		return st;
	if(json_has(body, "seconds") == json_has(body, "to"))
		return otd_error_set(err, OTD_EINVAL, "missing_field", "seconds",
		                     "Give either \"seconds\" to move forward or \"to\" (RFC 3339).");
	if(json_has(body, "to")) {
		st = otd_rfc3339_parse(json_get_str(body, "to"), to, err);
		if(st) {
			snprintf(err->field, sizeof(err->field), "to");
			return st;
		}
	}
	*seconds = json_get_int(body, "seconds", 0);
	return OTD_OK;
}

enum otd_status h_clock(struct otd_req *req)
{
	json_t *body = req_body_object(req);
	if(!body)
		return OTD_EINVAL;
	int64_t seconds, to;
	enum otd_status st = clock_decode(body, &seconds, &to, &req->err);
	json_decref(body);
	if(st)
		return st;
	int64_t now;
	st = app_clock_advance(req->app, &req->principal, seconds, to, &now, &req->err);
	if(st)
		return st;
	char text[32];
	otd_rfc3339_format(now, text, sizeof(text));
	req_reply_json(req, 200, json_pack("{s:s}", "now", text));
	return OTD_OK;
}

enum otd_status h_openapi(struct otd_req *req)
{
	const struct otd_asset *a = otd_web_find("openapi.json");
	if(!a)
		return otd_error_set(&req->err, OTD_ENOTFOUND, "not_found", NULL,
		                     "This build has no API document.");
	req_reply_static(req, 200, "application/json", a->data, a->len);
	req_add_header(req, "Cache-Control", "public, max-age=300");
	return OTD_OK;
}

enum otd_status h_index(struct otd_req *req)
{
	const struct otd_asset *a = otd_web_find("index.html");
	if(!a)
		return otd_error_set(&req->err, OTD_ENOTFOUND, "not_found", NULL,
		                     "There is nothing at this address.");
	req_reply_static(req, 200, "text/html; charset=utf-8", a->data, a->len);
	return OTD_OK;
}
