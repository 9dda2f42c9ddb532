/* Unit tests: the simulator's report (src/sim/report.c). A report.json is
 * built here as the engine writes it (two runs: one with a broken promise,
 * one without, so its warned and lead figures are null) and rendered; the
 * page is checked as a reader gets it: every figure of the summary, every
 * SVG closed and well formed, no script, every text escaped, the day's
 * timeline with a row per visitor. A report that breaks the contract is
 * refused naming the member, and a report folder holds the four files,
 * report.json equal to what was given. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "onthedot/mem.h"
#include "sim/report.h"
#include "testutil.h"

#define NAME "Utility <b>& region"

static const char BASELINE[] =
    "{\"policy\": \"baseline\", \"width_minutes\": 240,"
    " \"requests\": 420, \"booked\": 390, \"turned_away\": 30, \"appointments\": 390,"
    " \"outcomes\": {\"kept\": 350, \"broken\": 10, \"cancelled\": 15, \"moved\": 15},"
    " \"kept_rate\": 0.972, \"early_arrivals\": 3, \"reassigned\": 0,"
    " \"utilisation\": 0.78, \"service_hours\": 300.5, \"travel_hours\": 80.2,"
    " \"shift_hours\": 490.0, \"travel_km\": 1234.5,"
    " \"at_risk_promises\": 40, \"apologies\": 40, \"false_alarms\": 8,"
    " \"false_alarm_share\": 0.2, \"updates\": 5, \"back_on_time\": 6,"
    " \"broken_warned\": 9, \"warned_share\": 0.9, \"warned_60_share\": 0.8,"
    " \"lead_minutes\": {\"median\": 95, \"p10\": 40, \"histogram\": ["
    "   {\"from\": 0, \"to\": 15, \"count\": 1}, {\"from\": 15, \"to\": 30, \"count\": 0},"
    "   {\"from\": 30, \"to\": 60, \"count\": 1}, {\"from\": 60, \"to\": 120, \"count\": 4},"
    "   {\"from\": 120, \"to\": 240, \"count\": 2}, {\"from\": 240, \"to\": null, \"count\": 1}]},"
    " \"messages\": 450, \"messages_per_customer\": 1.15,"
    " \"messages_by_kind\": {\"on_the_way\": 380, \"apology\": 40},"
    " \"held_windows\": {\"offered\": 60, \"taken\": 12},"
    " \"guarantee_cases\": 10, \"compensation_minor\": 123400, \"currency\": \"GBP\","
    " \"timeline\": {\"date\": \"2026-03-03\", \"day_start_minute\": 420,"
    "   \"day_end_minute\": 1140, \"visitors\": ["
    "   {\"name\": \"Engineer 1\", \"shift\": [480, 990], \"sick_from\": null, \"stops\": ["
    "     {\"reference\": \"OTD-AAA111\", \"window\": [480, 720], \"arrived\": 700,"
    "      \"done\": 760, \"outcome\": \"kept\", \"warned\": null}]}]},"
    " \"accounting\": {\"unaccounted\": 0, \"broken_without_case\": 0}}";

/* No broken promise: warned_* and the lead median/p10 are null; no
 * apology: false_alarm_share is null. Its timeline (the one drawn) has
 * three visitors, one off sick from 10:00. */
static const char ONTHEDOT[] =
    "{\"policy\": \"onthedot\", \"width_minutes\": 60,"
    " \"requests\": 420, \"booked\": 400, \"turned_away\": 20, \"appointments\": 400,"
    " \"outcomes\": {\"kept\": 380, \"broken\": 0, \"cancelled\": 12, \"moved\": 8},"
    " \"kept_rate\": 1.0, \"early_arrivals\": 1, \"reassigned\": 12,"
    " \"utilisation\": 0.805, \"service_hours\": 310.25, \"travel_hours\": 72.5,"
    " \"shift_hours\": 490.0, \"travel_km\": 998.0,"
    " \"at_risk_promises\": 0, \"apologies\": 0, \"false_alarms\": 0,"
    " \"false_alarm_share\": null, \"updates\": 0, \"back_on_time\": 0,"
    " \"broken_warned\": 0, \"warned_share\": null, \"warned_60_share\": null,"
    " \"lead_minutes\": {\"median\": null, \"p10\": null, \"histogram\": []},"
    " \"messages\": 420, \"messages_per_customer\": 1.05,"
    " \"messages_by_kind\": {\"on_the_way\": 400, \"confirmation\": 20},"
    " \"held_windows\": {\"offered\": 0, \"taken\": 0},"
    " \"guarantee_cases\": 0, \"compensation_minor\": 12340, \"currency\": \"EUR\","
    " \"timeline\": {\"date\": \"2026-03-03\", \"day_start_minute\": 420,"
    "   \"day_end_minute\": 1140, \"visitors\": ["
    "   {\"name\": \"Engineer <1>\", \"shift\": [480, 990], \"sick_from\": null, \"stops\": ["
    "     {\"reference\": \"OTD-BBB222\", \"window\": [540, 600], \"arrived\": 555,"
    "      \"done\": 610, \"outcome\": \"kept\", \"warned\": null},"
    "     {\"reference\": \"OTD-CCC333\", \"window\": [630, 690], \"arrived\": null,"
    "      \"done\": null, \"outcome\": \"cancelled\", \"warned\": null}]},"
    "   {\"name\": \"Engineer 2\", \"shift\": [480, 990], \"sick_from\": 600, \"stops\": ["
    "     {\"reference\": \"OTD-DDD444\", \"window\": [540, 600], \"arrived\": 560,"
    "      \"done\": 590, \"outcome\": \"kept\", \"warned\": null},"
    "     {\"reference\": \"OTD-EEE555\", \"window\": [660, 720], \"arrived\": 700,"
    "      \"done\": 740, \"outcome\": \"moved\", \"warned\": 610}]},"
    "   {\"name\": \"Engineer 3\", \"shift\": [600, 1110], \"sick_from\": null, \"stops\": []}"
    "   ]},"
    " \"accounting\": {\"unaccounted\": 0, \"broken_without_case\": 0}}";

static json_t *make_report(void)
{
	char *text = xasprintf(
	    "{\"scenario\": {\"name\": \"%s\", \"description\": \"Sixty engineers, one region.\","
	    " \"visitors\": 60, \"first_day\": \"2026-03-03\", \"days\": 1, \"booking_days\": 5,"
	    " \"seed\": 7, \"timezone\": \"Europe/London\"},"
	    " \"definitions\": {\"utilisation\": \"(service + travel) / shift time.\","
	    "   \"kept\": \"Arrived by the end of the window as first promised.\","
	    "   \"false_alarm\": \"An apology for a window then kept.\"},"
	    " \"runs\": [%s, %s]}",
	    NAME, BASELINE, ONTHEDOT);
	json_error_t je;
	json_t *r = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	ck_assert_msg(r != NULL, "fixture: %s at %d", je.text, je.position);
	free(text);
	return r;
}

static json_t *run_of(json_t *report, size_t i)
{
	return json_array_get(json_object_get(report, "runs"), i);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for(const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* The elements of one <svg>...</svg> open and close in order. */
static void assert_svg_well_formed(const char *svg, size_t len)
{
	char stack[32][16];
	int depth = 0;
	const char *end_all = svg + len;
	for(const char *p = svg; p < end_all && (p = memchr(p, '<', (size_t)(end_all - p)));) {
		const char *end = memchr(p, '>', (size_t)(end_all - p));
		ck_assert_ptr_nonnull(end);
		ck_assert_ptr_null(memchr(p + 1, '<', (size_t)(end - p - 1)));
		/* Whole pixels only: no "12.5" inside a tag (%f would follow the locale). */
		for(const char *q = p + 1; q + 2 < end; q++)
			ck_assert_msg(!(q[0] >= '0' && q[0] <= '9' && q[1] == '.' && q[2] >= '0' &&
			                q[2] <= '9'),
			              "a decimal in %.*s", (int)(end - p + 1), p);
		bool closing = p[1] == '/';
		bool self = end[-1] == '/';
		const char *name = p + (closing ? 2 : 1);
		size_t n = strcspn(name, " />");
		ck_assert(n > 0 && n < 16);
		if(closing) {
			ck_assert_int_gt(depth, 0);
			depth--;
			ck_assert_msg(strncmp(stack[depth], name, n) == 0 &&
			                  stack[depth][n] == '\0',
			              "</%.*s> closes <%s>", (int)n, name, stack[depth]);
		} else if(!self) {
			ck_assert_int_lt(depth, 32);
			memcpy(stack[depth], name, n);
			stack[depth][n] = '\0';
			depth++;
		}
		p = end + 1;
	}
	ck_assert_int_eq(depth, 0);
}

/* Checks every <svg> of page; returns how many there are. */
static int check_svgs(const char *page)
{
	int n = 0;
	for(const char *p = page; (p = strstr(p, "<svg "));) {
		const char *end = strstr(p, "</svg>");
		ck_assert_ptr_nonnull(end);
		const char *next = strstr(p + 1, "<svg ");
		ck_assert_msg(!next || next > end, "an <svg> inside an <svg>");
		end += strlen("</svg>");
		assert_svg_well_formed(p, (size_t)(end - p));
		char *svg = xstrndup(p, (size_t)(end - p));
		ck_assert_ptr_null(strstr(svg, "style="));
		ck_assert_ptr_nonnull(strstr(svg, "role=\"img\""));
		ck_assert_ptr_nonnull(strstr(svg, "<title id=\""));
		ck_assert_ptr_nonnull(strstr(svg, "<desc id=\""));
		free(svg);
		n++;
		p = end;
	}
	ck_assert_int_eq(n, count(page, "</svg>"));
	return n;
}

static char *html_of(const json_t *report)
{
	struct otd_buf b;
	otd_buf_init(&b, 0);
	struct otd_error err;
	otd_error_clear(&err);
	enum otd_status st = sim_report_html(report, &b, &err);
	ck_assert_msg(st == OTD_OK, "%s (%s)", err.message, err.field);
	return otd_buf_steal(&b);
}

static char *markdown_of(const json_t *report)
{
	struct otd_buf b;
	otd_buf_init(&b, 0);
	struct otd_error err;
	otd_error_clear(&err);
	enum otd_status st = sim_report_markdown(report, &b, &err);
	ck_assert_msg(st == OTD_OK, "%s (%s)", err.message, err.field);
	return otd_buf_steal(&b);
}

/* The text of the timeline's <svg>, or fails. */
static char *timeline_of(const char *page)
{
	const char *p = strstr(page, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart "
	                             "timeline\"");
	ck_assert_ptr_nonnull(p);
	const char *end = strstr(p, "</svg>");
	ck_assert_ptr_nonnull(end);
	return xstrndup(p, (size_t)(end - p + 6));
}

START_TEST(html_page_holds_every_run_and_chart)
{
	json_t *report = make_report();
	char *page = html_of(report);
	ck_assert(strncmp(page, "<!DOCTYPE html>\n<html lang=\"en\">", 32) == 0);
	ck_assert_ptr_null(strstr(page, "<script"));
	ck_assert_ptr_null(strstr(page, "<link"));
	ck_assert_ptr_null(strstr(page, "src="));
	ck_assert(strcmp(page + strlen(page) - 8, "</html>\n") == 0);
	/* Kept rate, table and chart, both runs (the second had no broken one). */
	ck_assert_ptr_nonnull(strstr(page, "97.2% (350 of 360)"));
	ck_assert_ptr_nonnull(strstr(page, "100.0% (380 of 380)"));
	ck_assert_ptr_nonnull(strstr(page, "baseline 240 min: 97.2%"));
	ck_assert_ptr_nonnull(strstr(page, "onthedot 60 min: 100.0%"));
	/* Nulls read as such, not as zero. */
	ck_assert_ptr_nonnull(strstr(page, "<td>n/a (none broken)</td>"));
	ck_assert_ptr_nonnull(strstr(page, "0 of 0 apologies (n/a)"));
	ck_assert_ptr_nonnull(strstr(page, "90.0% (9 of 10)"));
	ck_assert_ptr_nonnull(strstr(page, "<td>95 min</td><td>40 min</td>"));
	/* Money, travel, messages, utilisation, held windows. */
	ck_assert_ptr_nonnull(strstr(page, "\xc2\xa3"
	                                   "1,234.00"));
	ck_assert_ptr_nonnull(strstr(page, "123.40 EUR"));
	ck_assert_ptr_nonnull(strstr(page, "1,234.5 km, 80.2 h"));
	ck_assert_ptr_nonnull(strstr(page, "<td>1.15</td>"));
	ck_assert_ptr_nonnull(strstr(page, "<td>80.5%</td>"));
	ck_assert_ptr_nonnull(strstr(page, "12 of 60 offered"));
	/* The scenario's name escaped everywhere, never as markup. */
	ck_assert_ptr_null(strstr(page, "<b>"));
	ck_assert_ptr_nonnull(
	    strstr(page, "<title>Simulation: Utility &lt;b&gt;&amp; region</title>"));
	ck_assert_ptr_nonnull(strstr(page, "<h1>Simulation: Utility &lt;b&gt;&amp; region</h1>"));
	ck_assert_ptr_nonnull(strstr(page, "Engineer &lt;1&gt;"));
	/* Definitions and facts. */
	ck_assert_ptr_nonnull(strstr(page, "<dt>False alarm</dt><dd>An apology for a window"));
	ck_assert_ptr_nonnull(strstr(page, "Europe/London"));
	/* Charts: kept rate, one lead histogram (the onthedot run), false
	 * alarms, messages, held, compensation, travel, utilisation, and the
	 * timeline; each closed and well formed. */
	ck_assert_int_eq(check_svgs(page), 9);
	const char *ids[] = {"kept-rate",    "lead-2", "false-alarms", "messages", "held-windows",
	                     "compensation", "travel", "utilisation",  "timeline"};
	for(size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		char *want = xasprintf("aria-labelledby=\"%s-title %s-desc\"", ids[i], ids[i]);
		ck_assert_msg(strstr(page, want), "no chart %s", ids[i]);
		free(want);
	}
	ck_assert_ptr_null(strstr(page, "lead-1-title"));
	ck_assert_ptr_nonnull(strstr(page, "No broken promise was warned."));
	free(page);
	json_decref(report);
}
END_TEST

START_TEST(timeline_has_a_row_per_visitor)
{
	json_t *report = make_report();
	char *page = html_of(report);
	char *tl = timeline_of(page);
	/* The onthedot 60-minute run is drawn, not the first. */
	ck_assert_ptr_nonnull(strstr(tl, "The day of 2026-03-03, onthedot 60 min</title>"));
	ck_assert_int_eq(count(tl, "<g class=\"tl-row\">"), 3);
	ck_assert_int_eq(count(tl, "<g class=\"tl-stop\">"), 4);
	ck_assert_ptr_null(strstr(tl, "OTD-AAA111"));
	/* Each mark says its outcome in words; the sick time is hatched. */
	ck_assert_ptr_nonnull(strstr(tl, "<title>OTD-BBB222: window 09:00\xe2\x80\x93"
	                                 "10:00, arrived 09:15, done 10:10: kept</title>"));
	ck_assert_ptr_nonnull(strstr(tl, "OTD-CCC333: window 10:30\xe2\x80\x93"
	                                 "11:30, no arrival: cancelled</title>"));
	ck_assert_ptr_nonnull(strstr(tl, "warned at 10:10, arrived 11:40, done 12:20: moved"));
	ck_assert_ptr_nonnull(strstr(tl, "fill=\"url(#timeline-sick)\""));
	ck_assert_ptr_nonnull(strstr(tl, "<title>Off sick from 10:00</title>"));
	ck_assert_ptr_nonnull(strstr(tl, "Engineer 2: shift 08:00\xe2\x80\x93"
	                                 "16:30, off sick from 10:00, 2 stops</title>"));
	/* Hour ticks 07:00 to 19:00 along the top. */
	ck_assert_ptr_nonnull(strstr(tl, ">07:00</text>"));
	ck_assert_ptr_nonnull(strstr(tl, ">19:00</text>"));
	ck_assert_ptr_nonnull(strstr(tl, "3 visitors shown, 4 stops: 2 kept, 0 broken, 1 moved, "
	                                 "1 cancelled.</desc>"));
	free(tl);
	free(page);

	/* More than twelve visitors: twelve rows, and the chart says so. */
	json_t *visitors =
	    json_object_get(json_object_get(run_of(report, 1), "timeline"), "visitors");
	for(int i = 0; i < 12; i++)
		json_array_append(visitors, json_array_get(visitors, 2));
	page = html_of(report);
	tl = timeline_of(page);
	ck_assert_int_eq(count(tl, "<g class=\"tl-row\">"), 12);
	ck_assert_ptr_nonnull(strstr(tl, "12 visitors shown of 15"));
	free(tl);
	free(page);

	/* Without an onthedot 60-minute run, the first run's day is drawn. */
	json_object_set_new(run_of(report, 1), "width_minutes", json_integer(30));
	page = html_of(report);
	tl = timeline_of(page);
	ck_assert_ptr_nonnull(strstr(tl, "baseline 240 min</title>"));
	ck_assert_int_eq(count(tl, "<g class=\"tl-row\">"), 1);
	ck_assert_ptr_nonnull(strstr(tl, "OTD-AAA111"));
	free(tl);
	free(page);
	json_decref(report);
}
END_TEST

START_TEST(markdown_has_a_row_per_run)
{
	json_t *report = make_report();
	char *md = markdown_of(report);
	const char *head = "# Simulation: Utility \\<b\\>\\& region\n";
	ck_assert(strncmp(md, head, strlen(head)) == 0);
	ck_assert_int_eq(count(md, "\n| baseline | 240 min | 390 | 30 | 97.2% (350 of 360) |"), 1);
	ck_assert_int_eq(count(md, "\n| onthedot | 60 min | 400 | 20 | 100.0% (380 of 380) |"), 1);
	ck_assert_int_eq(count(md, "\n| Policy | Window |"), 1);
	ck_assert_ptr_nonnull(strstr(md, "- **Utilisation**: (service + travel) / shift time."));
	ck_assert_ptr_nonnull(strstr(md, "- Seed: 7\n"));
	ck_assert_ptr_nonnull(strstr(md, "| \xc2\xa3"
	                                 "1,234.00 (10 cases) |"));
	/* Every table row has as many cells as the header. */
	int header_bars = -1;
	for(const char *line = strstr(md, "\n| Policy"); line && line[1] == '|';
	    line = strchr(line + 1, '\n')) {
		int bars = 0;
		for(const char *p = line + 1; *p && *p != '\n'; p++)
			bars += *p == '|' && p[-1] != '\\';
		if(header_bars < 0)
			header_bars = bars;
		ck_assert_int_eq(bars, header_bars);
	}
	ck_assert_int_eq(header_bars, 19);
	ck_assert_ptr_null(strstr(md, "<svg"));
	free(md);
	json_decref(report);
}
END_TEST

/* Renders report, expecting OTD_EINVAL naming field; out stays empty. */
static void assert_refused(json_t *report, const char *field)
{
	struct otd_buf b;
	otd_buf_init(&b, 0);
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(sim_report_html(report, &b, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "bad_report");
	ck_assert_str_eq(err.field, field);
	ck_assert_msg(strstr(err.message, field), "%s", err.message);
	ck_assert_uint_eq(b.len, 0);
	otd_error_clear(&err);
	ck_assert_int_eq(sim_report_markdown(report, &b, &err), OTD_EINVAL);
	ck_assert_str_eq(err.field, field);
	ck_assert_uint_eq(b.len, 0);
	otd_buf_cleanup(&b);
	json_decref(report);
}

START_TEST(a_bad_report_is_refused_naming_the_member)
{
	json_t *r = make_report();
	json_object_set_new(r, "runs", json_string("all of them"));
	assert_refused(r, "runs");

	r = make_report();
	json_object_del(run_of(r, 0), "policy");
	assert_refused(r, "runs[0].policy");

	r = make_report();
	json_object_set_new(run_of(r, 1), "kept_rate", json_string("97%"));
	assert_refused(r, "runs[1].kept_rate");

	r = make_report();
	json_object_set_new(run_of(r, 0), "travel_hours", json_null()); /* not nullable */
	assert_refused(r, "runs[0].travel_hours");

	r = make_report();
	json_object_set_new(run_of(r, 0), "utilisation", json_string("high"));
	assert_refused(r, "runs[0].utilisation");

	r = make_report();
	json_object_set_new(json_object_get(run_of(r, 0), "outcomes"), "kept", json_integer(-1));
	assert_refused(r, "runs[0].outcomes.kept");

	r = make_report();
	json_object_del(json_object_get(r, "scenario"), "name");
	assert_refused(r, "scenario.name");

	r = make_report();
	json_object_set_new(json_object_get(r, "definitions"), "kept", json_integer(1));
	assert_refused(r, "definitions.kept");

	r = make_report();
	json_t *stop = json_array_get(
	    json_object_get(
	        json_array_get(
	            json_object_get(json_object_get(run_of(r, 1), "timeline"), "visitors"), 1),
	        "stops"),
	    1);
	json_object_set_new(stop, "outcome", json_string("late"));
	assert_refused(r, "runs[1].timeline.visitors[1].stops[1].outcome");

	r = make_report();
	json_object_set_new(json_object_get(run_of(r, 1), "timeline"), "day_end_minute",
	                    json_integer(420));
	assert_refused(r, "runs[1].timeline.day_end_minute");

	r = make_report();
	json_t *bucket = json_array_get(
	    json_object_get(json_object_get(run_of(r, 0), "lead_minutes"), "histogram"), 5);
	json_object_set_new(bucket, "count", json_real(1.5));
	assert_refused(r, "runs[0].lead_minutes.histogram[5].count");

	r = make_report();
	json_object_set_new(json_object_get(run_of(r, 0), "accounting"), "unaccounted",
	                    json_string("none"));
	assert_refused(r, "runs[0].accounting.unaccounted");

	r = make_report();
	json_object_set_new(run_of(r, 0), "currency", json_string("pounds"));
	assert_refused(r, "runs[0].currency");

	r = make_report();
	json_array_set_new(json_object_get(r, "runs"), 1, json_string("run"));
	assert_refused(r, "runs[1]");

	/* Not an object at all. */
	json_t *arr = json_array();
	struct otd_buf b;
	otd_buf_init(&b, 0);
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(sim_report_html(arr, &b, &err), OTD_EINVAL);
	ck_assert_str_eq(err.field, "report");
	otd_buf_cleanup(&b);
	json_decref(arr);

	/* No runs at all is a report, if a thin one. */
	r = make_report();
	json_object_set_new(r, "runs", json_array());
	char *page = html_of(r);
	ck_assert_int_eq(check_svgs(page), 7); /* no lead histogram, no timeline */
	ck_assert_ptr_nonnull(strstr(page, "No runs."));
	free(page);
	json_decref(r);
}
END_TEST

/* Ratios without a denominator are null; members the renderer does not
 * use (the engine adds some) are no error; a minute before midnight
 * (an arrival the evening before) is drawn at the left edge. */
START_TEST(null_ratios_and_extra_members)
{
	json_t *report = make_report();
	json_t *run = run_of(report, 1);
	json_object_set_new(run, "utilisation", json_null());
	json_object_set_new(run, "messages_per_customer", json_null());
	json_object_set_new(json_object_get(run, "lead_minutes"), "values",
	                    json_pack("[i,i]", 5, 70));
	json_object_set_new(run, "taps", json_pack("{s:i}", "sent", 3));
	json_t *stop = json_array_get(
	    json_object_get(
	        json_array_get(json_object_get(json_object_get(run, "timeline"), "visitors"), 0),
	        "stops"),
	    0);
	json_object_set_new(stop, "arrived", json_integer(-30));
	char *page = html_of(report);
	ck_assert_int_eq(check_svgs(page), 9);
	ck_assert_ptr_nonnull(strstr(page, "<td>12</td><td>n/a</td><td>n/a (none broken)</td>"));
	ck_assert_ptr_nonnull(strstr(page, "onthedot 60 min: n/a"));
	ck_assert_ptr_nonnull(strstr(page, "arrived 23:30"));
	char *md = markdown_of(report);
	ck_assert_ptr_nonnull(strstr(md, "| 8 | 12 | n/a | n/a (none broken) |"));
	free(md);
	free(page);
	json_decref(report);
}
END_TEST

/* Renders root, expecting OK or, with must_fail, OTD_EINVAL naming path
 * (or the array holding it: "window" for "window[1]"). */
static void render_expect(json_t *root, const char *path, bool must_fail)
{
	struct otd_buf b;
	otd_buf_init(&b, 0);
	struct otd_error err;
	otd_error_clear(&err);
	enum otd_status st = sim_report_html(root, &b, &err);
	otd_buf_cleanup(&b);
	if(st == OTD_OK) {
		ck_assert_msg(!must_fail, "%s: accepted", path);
		return;
	}
	ck_assert_msg(st == OTD_EINVAL, "%s: status %d", path, (int)st);
	size_t n = strlen(err.field);
	ck_assert_msg(strcmp(err.field, path) == 0 ||
	                  (strncmp(err.field, path, n) == 0 && path[n] == '['),
	              "%s: the error names %s", path, err.field);
}

/* Members of maps whose keys are free (a kind of message, a check). */
static bool open_map(const char *path)
{
	return strncmp(path, "definitions.", 12) == 0 || strstr(path, ".messages_by_kind.") ||
	       strstr(path, ".accounting.");
}

/* Every member of node, one at a time: replaced by true (a type nothing
 * takes) must be refused naming it; removed, refused naming it or (a
 * member of an open map) accepted. Never a crash, whatever is missing. */
static void mutate_all(json_t *root, json_t *node, const char *path)
{
	if(json_is_object(node)) {
		/* Copies: removing a member frees its key. */
		char *keys[64];
		size_t n = 0;
		const char *k;
		json_t *v;
		json_object_foreach(node, k, v)
		{
			ck_assert_uint_lt(n, 64);
			keys[n++] = xstrdup(k);
		}
		for(size_t i = 0; i < n; i++) {
			char *sub = path[0] ? xasprintf("%s.%s", path, keys[i]) : xstrdup(keys[i]);
			json_t *old = json_incref(json_object_get(node, keys[i]));
			json_object_set_new(node, keys[i], json_true());
			render_expect(root, sub, true);
			json_object_del(node, keys[i]);
			render_expect(root, sub, !open_map(sub));
			json_object_set_new(node, keys[i], old);
			mutate_all(root, old, sub);
			free(sub);
			free(keys[i]);
		}
	} else if(json_is_array(node)) {
		for(size_t i = 0; i < json_array_size(node); i++) {
			char *sub = xasprintf("%s[%zu]", path, i);
			json_t *old = json_incref(json_array_get(node, i));
			json_array_set_new(node, i, json_true());
			render_expect(root, sub, true);
			json_array_set_new(node, i, old);
			mutate_all(root, old, sub);
			free(sub);
		}
	}
}

START_TEST(every_member_is_checked)
{
	json_t *report = make_report();
	/* Three visitors and their stops are enough to walk. */
	mutate_all(report, report, "");
	render_expect(report, "", false);
	json_decref(report);
}
END_TEST

START_TEST(a_page_over_the_cap_is_too_big)
{
	json_t *report = make_report();
	struct otd_buf b;
	otd_buf_init(&b, 4096);
	otd_buf_puts(&b, "<p>");
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(sim_report_html(report, &b, &err), OTD_ETOOBIG);
	ck_assert_str_eq(b.data, "<p>");
	otd_buf_cleanup(&b);
	json_decref(report);
}
END_TEST

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	struct otd_buf b;
	otd_buf_init(&b, 0);
	char chunk[4096];
	size_t n;
	while((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		otd_buf_append(&b, chunk, n);
	fclose(f);
	return otd_buf_steal(&b);
}

START_TEST(write_makes_the_folder_of_four_files)
{
	json_t *report = make_report();
	json_t *timings = json_pack("{s:[{s:s,s:i,s:f}]}", "runs", "policy", "onthedot",
	                            "width_minutes", 60, "seconds", 1.25);
	char *dir = xasprintf("%s/report-out", testutil_tmpdir());
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_msg(sim_report_write(report, timings, dir, &err) == OTD_OK, "%s", err.message);

	const char *names[] = {"report.json", "timings.json", "report.html", "report.md"};
	for(size_t i = 0; i < 4; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);
		char *text = slurp(path);
		ck_assert_msg(strlen(text) > 2 && text[strlen(text) - 1] == '\n', "%s", path);
		free(text);
		free(path);
	}
	char *path = xasprintf("%s/report.json", dir);
	json_error_t je;
	json_t *back = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	ck_assert_msg(back != NULL, "%s", je.text);
	ck_assert(json_equal(back, report));
	json_decref(back);
	char *text = slurp(path);
	ck_assert(strncmp(text, "{\n  \"definitions\": {", 20) == 0); /* indented, sorted */
	free(text);
	free(path);
	path = xasprintf("%s/timings.json", dir);
	back = json_load_file(path, 0, &je);
	ck_assert(back && json_equal(back, timings));
	json_decref(back);
	free(path);
	path = xasprintf("%s/report.html", dir);
	text = slurp(path);
	char *page = html_of(report);
	ck_assert_str_eq(text, page); /* the page as rendered */
	free(page);
	free(text);
	free(path);

	/* Written again over the old files, no temporary file is left. */
	ck_assert(sim_report_write(report, NULL, dir, &err) == OTD_OK);
	path = xasprintf("%s/timings.json", dir);
	text = slurp(path);
	ck_assert_str_eq(text, "{}\n");
	free(text);
	free(path);
	char *cmd = xasprintf("test \"$(ls -A '%s' | wc -l)\" -eq 4", dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);

	/* A bad report writes nothing, not even the folder. */
	char *dir2 = xasprintf("%s/report-bad", testutil_tmpdir());
	json_object_set_new(run_of(report, 0), "kept_rate", json_string("high"));
	ck_assert_int_eq(sim_report_write(report, timings, dir2, &err), OTD_EINVAL);
	struct stat sb;
	ck_assert_int_ne(stat(dir2, &sb), 0);

	/* A folder that cannot be made is named. */
	json_object_set_new(run_of(report, 0), "kept_rate", json_real(0.5));
	char *dir3 = xasprintf("%s/no/such/parent", testutil_tmpdir());
	otd_error_clear(&err);
	ck_assert_int_eq(sim_report_write(report, timings, dir3, &err), OTD_EIO);
	ck_assert_msg(strstr(err.message, dir3), "%s", err.message);

	free(dir);
	free(dir2);
	free(dir3);
	json_decref(timings);
	json_decref(report);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sim_report");
	TCase *tc = tcase_create("sim_report");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, html_page_holds_every_run_and_chart);
	tcase_add_test(tc, timeline_has_a_row_per_visitor);
	tcase_add_test(tc, markdown_has_a_row_per_run);
	tcase_add_test(tc, a_bad_report_is_refused_naming_the_member);
	tcase_add_test(tc, null_ratios_and_extra_members);
	tcase_add_test(tc, every_member_is_checked);
	tcase_add_test(tc, a_page_over_the_cap_is_too_big);
	tcase_add_test(tc, write_makes_the_folder_of_four_files);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
