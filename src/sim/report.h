/* onthedot simulator: the report, rendered from report.json.
 *
 * The engine (src/sim/engine.c) writes the figures of every run as one
 * JSON object (the report.json contract in issue 9: "scenario",
 * "definitions", "runs"); this file turns it into a self-contained HTML
 * page with SVG charts and a Markdown summary, and writes the files of a
 * report folder. Nothing here reads a clock or a path into the report, so
 * a report is as deterministic as its JSON.
 *
 * Everything read is checked: a missing or wrongly typed member is
 * OTD_EINVAL with code "bad_report" and the member's path as the field
 * ("runs[1].kept_rate"); null is accepted only where the contract allows
 * it (kept_rate, false_alarm_share, warned_share, warned_60_share,
 * lead_minutes.median and .p10, a histogram bucket's "to", a visitor's
 * sick_from, a stop's arrived, done and warned) and where a ratio has no
 * denominator (utilisation without shift time, messages_per_customer
 * without a customer visited); null is shown as "n/a". Members the
 * renderer does not use (lead_minutes.values, taps, ...) are ignored. At most
 * SIM_REPORT_RUNS_MAX runs; a timeline shows at most
 * SIM_REPORT_TIMELINE_ROWS visitors (more are left out, and the chart
 * says so). */
#ifndef OTD_SIM_REPORT_H
#define OTD_SIM_REPORT_H

#include <jansson.h>

#include "onthedot/mem.h"
#include "onthedot/status.h"

#define SIM_REPORT_RUNS_MAX 64      /* runs in one report (a chart's bars) */
#define SIM_REPORT_TIMELINE_ROWS 12 /* visitors drawn in the day's timeline */
#define SIM_REPORT_BUCKETS_MAX 16   /* buckets of the lead-time histogram */

/* Appends the report as one HTML page to out: lang="en", no script and no
 * external resource (a <style> block only), the scenario's facts and the
 * definitions, a summary table with a row per run, bar charts (kept rate,
 * warning lead, false alarms, messages per customer, held windows taken,
 * compensation owed, travel, utilisation) and the timeline of one day
 * (the onthedot run with 60-minute windows if there is one, else the
 * first run). Every text from the report is escaped; the SVGs use
 * presentation attributes only and whole-pixel numbers. OTD_EINVAL naming
 * the member when report breaks the contract; OTD_ETOOBIG when the page
 * does not fit under out's cap. On failure out may hold part of a page
 * (the caller discards it). Thread-safe; report is only read. */
enum otd_status sim_report_html(const json_t *report, struct otd_buf *out, struct otd_error *err);

/* Appends the report as Markdown to out: the scenario's facts, the
 * definitions and the summary table (a row per run), every text from the
 * report escaped for Markdown. Errors as sim_report_html. */
enum otd_status sim_report_markdown(const json_t *report, struct otd_buf *out,
                                    struct otd_error *err);

/* Writes the report folder dir: report.json (report, indented, keys
 * sorted, reals with 6 significant digits, a newline at the end),
 * timings.json (timings likewise; NULL writes {}), report.html and
 * report.md. Creates dir when missing (one level, not its parents). All
 * four are rendered before anything is written, so a report that breaks
 * the contract writes nothing (OTD_EINVAL as above); each file goes to a
 * temporary name in dir and is renamed over the old one, so a reader sees
 * the old file or the new one, never half of it. OTD_EIO naming dir (or
 * the file) when the folder cannot be made or a file written. */
enum otd_status sim_report_write(const json_t *report, const json_t *timings, const char *dir,
                                 struct otd_error *err);

#endif
