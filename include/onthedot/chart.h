/* onthedot: small SVG charts for server-rendered pages, pure.
 *
 * A horizontal bar chart: one row per bar, its label on the left, the bar,
 * and its value as text after the bar, all inside the SVG so the chart
 * reads without colour or a legend. Accessible (WCAG 2.1 AA): role="img"
 * with aria-labelledby naming a <title> and a <desc>; the desc ends with
 * every value as text ("60-minute windows: 87%; ..."), so a screen reader
 * hears the data, not a picture of it. Colours: bars #1a5e2a on white
 * (contrast 7.6:1), text black (21:1), the axis #595959 (7:1).
 *
 * The site's Content-Security-Policy forbids inline styles: only
 * presentation attributes are written (fill=, font-size=), never style=.
 * Every text (title, desc, labels, value texts) is escaped with
 * otd_html_escape (onthedot/message.h), so "<img src=x onerror=...>" is
 * shown as text. The SVG is meant to be inlined in an HTML page; it has
 * no XML declaration. Numbers are written as whole pixels with %d, never
 * %f, so the locale cannot turn a point into a comma. */
#ifndef ONTHEDOT_CHART_H
#define ONTHEDOT_CHART_H

#include <stdbool.h>
#include <stddef.h>

#include "onthedot/mem.h"
#include "onthedot/status.h"

#define OTD_CHART_BARS_MAX 64 /* bars in one chart */
#define OTD_CHART_ID_MAX 48   /* bytes of a chart id */

/* One bar. */
struct otd_chart_bar {
	const char *label;      /* UTF-8; cut with an ellipsis to fit label_width */
	double value;           /* clamped to [0, scale]; NaN and infinities count as 0 */
	const char *value_text; /* shown after the bar; NULL: the value ("87%" or "12") */
};

struct otd_chart {
	const char *id;    /* unique in the page, [A-Za-z][A-Za-z0-9_-]*: prefixes the ids
	                    * of <title> (ID-title) and <desc> (ID-desc) */
	const char *title; /* the chart's accessible name; required */
	const char *desc;  /* a sentence before the values in <desc>; may be NULL */
	const struct otd_chart_bar *bars;
	size_t n_bars;          /* 0: the chart says empty_text */
	bool percent;           /* values are percentages: the scale is 0..100, texts "87%" */
	double max;             /* counts: the value of a full bar; <= 0: the largest value */
	const char *empty_text; /* shown when n_bars is 0; NULL: "No figures yet." */
	int width;              /* the SVG's width in px; 0: 640 (at least 200) */
	int label_width;        /* px for labels on the left; 0: a third of width. A
	                         * character is taken as 8.4 px (0.6 em at 14 px) */
	int value_width;        /* px for value texts on the right; 0: 96 (11 characters);
	                         * longer texts are cut with an ellipsis like labels
	                         * (the desc always has them whole) */
};

/* Appends the chart as an <svg> element to out. OTD_EINVAL naming the
 * member ("id", "title", "bars") when the id is malformed, the title
 * missing, a label NULL or there are more than OTD_CHART_BARS_MAX bars;
 * OTD_ETOOBIG when the chart does not fit under out's cap (then nothing is
 * appended). The SVG has width and height in px and a viewBox, so CSS
 * (svg.chart { max-width: 100%; height: auto; }) can scale it down on a
 * phone. Nothing is kept between calls; thread-safe. */
enum otd_status otd_chart_bars_svg(const struct otd_chart *c, struct otd_buf *out,
                                   struct otd_error *err);

#endif
