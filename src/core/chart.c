/* Horizontal bar charts as accessible SVG. */
#include "onthedot/chart.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "onthedot/message.h"
#include "onthedot/utf8.h"

#define BAR_FILL "#1a5e2a"  /* 7.6:1 on white */
#define TEXT_FILL "#000000" /* 21:1 */
#define AXIS_STROKE "#595959"
#define FONT_SIZE 14
#define ROW_H 32
#define BAR_H 20
#define MARGIN 8
#define GAP 8 /* between a label and the axis, and a bar and its value */
#define EMPTY_H 48
/* An estimate of a character's advance at FONT_SIZE in a sans-serif font
 * (0.6 em), in tenths of a pixel: labels are cut to what fits. */
#define CHAR_TENTHS 84

static bool id_valid(const char *id)
{
	if(!id || !((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= 'A' && id[0] <= 'Z')))
		return false;
	size_t n = 0;
	for(const char *p = id; *p; p++, n++) {
		char ch = *p;
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		          (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
		if(!ok)
			return false;
	}
	return n <= OTD_CHART_ID_MAX;
}

/* s as valid UTF-8 (an ill-formed byte becomes U+FFFD), at most max
 * characters: a longer text keeps max - 1 and ends with an ellipsis.
 * Appended to b unescaped (the caller escapes). */
static void cut_text(struct otd_buf *b, const char *s, size_t max)
{
	size_t total = 0;
	for(size_t i = 0, n = strlen(s); i < n; total++) {
		size_t k = otd_utf8_char((const unsigned char *)s + i, n - i);
		i += k ? k : 1;
	}
	size_t keep = total <= max ? total : (max ? max - 1 : 0);
	size_t i = 0, n = strlen(s);
	for(size_t c = 0; c < keep && i < n; c++) {
		size_t k = otd_utf8_char((const unsigned char *)s + i, n - i);
		if(k)
			otd_buf_append(b, s + i, k);
		else
			otd_buf_puts(b, "\xef\xbf\xbd");
		i += k ? k : 1;
	}
	if(keep < total)
		otd_buf_puts(b, "\xe2\x80\xa6"); /* … */
}

static void escaped(struct otd_buf *b, const char *s, size_t max)
{
	struct otd_buf t;
	otd_buf_init(&t, 0);
	cut_text(&t, s, max);
	otd_html_escape(b, t.len ? t.data : "");
	otd_buf_cleanup(&t);
}

static double clean(double v, double scale)
{
	if(!isfinite(v) || v < 0)
		return 0; /* NaN and infinities mean nothing to draw */
	return v > scale ? scale : v;
}

/* The default text of a value: "87%" (rounded down, so 99.6 is not shown
 * as 100) or a count ("12", "2.5" with one decimal rounded down). No %f:
 * the locale's decimal separator must not matter. */
static void value_text(char *buf, size_t size, double v, bool percent)
{
	if(v > 1e15)
		v = 1e15; /* beyond any count, and within long long */
	double whole = floor(v);
	long long w = (long long)whole;
	int tenth = (int)floor((v - whole) * 10.0 + 1e-9);
	if(percent)
		snprintf(buf, size, "%lld%%", w);
	else if(tenth <= 0)
		snprintf(buf, size, "%lld", w);
	else
		snprintf(buf, size, "%lld.%d", w, tenth > 9 ? 9 : tenth);
}

enum otd_status otd_chart_bars_svg(const struct otd_chart *c, struct otd_buf *out,
                                   struct otd_error *err)
{
	if(!id_valid(c->id))
		return otd_error_set(
		    err, OTD_EINVAL, "bad_chart", "id",
		    "A chart id is a letter then letters, digits, '_' or '-' (at most "
		    "%d).",
		    OTD_CHART_ID_MAX);
	if(!c->title || !c->title[0])
		return otd_error_set(err, OTD_EINVAL, "bad_chart", "title",
		                     "A chart needs a title: it is its accessible name.");
	if(c->n_bars > OTD_CHART_BARS_MAX || (c->n_bars && !c->bars))
		return otd_error_set(err, OTD_EINVAL, "bad_chart", "bars",
		                     "A chart has at most %d bars.", OTD_CHART_BARS_MAX);
	for(size_t i = 0; i < c->n_bars; i++)
		if(!c->bars[i].label)
			return otd_error_set(err, OTD_EINVAL, "bad_chart", "bars",
			                     "Bar %zu has no label.", i + 1);

	int width = c->width > 0 ? c->width : 640;
	if(width < 200)
		width = 200;
	int label_w = c->label_width > 0 ? c->label_width : width / 3;
	int value_w = c->value_width > 0 ? c->value_width : 96;
	if(label_w > width / 2)
		label_w = width / 2;
	if(value_w > width / 4)
		value_w = width / 4;
	int bar_x = label_w + GAP;
	int bar_area = width - bar_x - GAP - value_w;
	size_t label_chars = (size_t)((label_w - 4) * 10 / CHAR_TENTHS);
	size_t value_chars = (size_t)((value_w - 2) * 10 / CHAR_TENTHS);

	double scale = 100.0;
	if(!c->percent) {
		scale = c->max;
		if(!(scale > 0)) {
			scale = 0;
			for(size_t i = 0; i < c->n_bars; i++)
				if(isfinite(c->bars[i].value) && c->bars[i].value > scale)
					scale = c->bars[i].value;
		}
		if(!(scale > 0) || !isfinite(scale))
			scale = 1;
	}

	/* Built whole, then appended once, so out's cap either takes all of it
	 * or none (otd_html_escape cannot report a cap reached midway). */
	struct otd_buf b;
	otd_buf_init(&b, 0);
	int height = c->n_bars ? 2 * MARGIN + (int)c->n_bars * ROW_H : EMPTY_H;
	otd_buf_printf(&b,
	               "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" "
	               "aria-labelledby=\"%s-title %s-desc\" width=\"%d\" height=\"%d\" "
	               "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"%d\">",
	               c->id, c->id, width, height, width, height, FONT_SIZE);
	otd_buf_printf(&b, "<title id=\"%s-title\">", c->id);
	otd_html_escape(&b, c->title);
	otd_buf_printf(&b, "</title><desc id=\"%s-desc\">", c->id);
	if(c->desc && c->desc[0]) {
		otd_html_escape(&b, c->desc);
		otd_buf_puts(&b, " ");
	}
	const char *empty = c->empty_text ? c->empty_text : "No figures yet.";
	char text[64];
	for(size_t i = 0; i < c->n_bars; i++) {
		const struct otd_chart_bar *bar = &c->bars[i];
		value_text(text, sizeof(text), clean(bar->value, scale), c->percent);
		otd_html_escape(&b, bar->label);
		otd_buf_puts(&b, ": ");
		otd_html_escape(&b, bar->value_text ? bar->value_text : text);
		otd_buf_puts(&b, i + 1 < c->n_bars ? "; " : ".");
	}
	if(!c->n_bars)
		otd_html_escape(&b, empty);
	otd_buf_puts(&b, "</desc>");
	otd_buf_printf(&b, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>",
	               width, height);

	if(!c->n_bars) {
		otd_buf_printf(&b,
		               "<text x=\"%d\" y=\"%d\" fill=\"%s\" dominant-baseline=\"central\">",
		               MARGIN, EMPTY_H / 2, TEXT_FILL);
		otd_html_escape(&b, empty);
		otd_buf_puts(&b, "</text>");
	} else {
		otd_buf_printf(&b,
		               "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
		               "stroke-width=\"1\"/>",
		               bar_x, MARGIN, bar_x, height - MARGIN, AXIS_STROKE);
	}
	for(size_t i = 0; i < c->n_bars; i++) {
		const struct otd_chart_bar *bar = &c->bars[i];
		double v = clean(bar->value, scale);
		int len = (int)floor(v / scale * bar_area + 0.5);
		if(v > 0 && len < 1)
			len = 1; /* something is not nothing */
		int top = MARGIN + (int)i * ROW_H;
		int mid = top + ROW_H / 2;
		otd_buf_printf(&b,
		               "<g><text x=\"%d\" y=\"%d\" fill=\"%s\" text-anchor=\"end\" "
		               "dominant-baseline=\"central\">",
		               label_w, mid, TEXT_FILL);
		escaped(&b, bar->label, label_chars);
		otd_buf_puts(&b, "</text>");
		if(len > 0)
			otd_buf_printf(&b,
			               "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
			               "fill=\"%s\"/>",
			               bar_x, mid - BAR_H / 2, len, BAR_H, BAR_FILL);
		value_text(text, sizeof(text), v, c->percent);
		otd_buf_printf(&b,
		               "<text x=\"%d\" y=\"%d\" fill=\"%s\" dominant-baseline=\"central\">",
		               bar_x + len + GAP, mid, TEXT_FILL);
		escaped(&b, bar->value_text ? bar->value_text : text, value_chars);
		otd_buf_puts(&b, "</text></g>");
	}
	otd_buf_puts(&b, "</svg>");
	bool ok = otd_buf_append(out, b.data, b.len);
	otd_buf_cleanup(&b);
	if(!ok)
		return otd_error_set(err, OTD_ETOOBIG, "too_big", NULL,
		                     "The chart does not fit in the page's buffer.");
	return OTD_OK;
}
