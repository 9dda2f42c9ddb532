/* Unit tests: the SVG bar chart (core/chart.c). The output is checked as a
 * reader and a screen reader get it: well-formed elements, an accessible
 * name and description with every value as text, bars as long as their
 * values (0 and 100 included), every text escaped (a label that is an
 * HTML tag is shown as text), no inline style (the CSP forbids it),
 * colours with WCAG AA contrast on white, and the empty chart saying so. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/chart.h"
#include "onthedot/mem.h"
#include "testutil.h"

static char *render(const struct otd_chart *c)
{
	struct otd_buf b;
	otd_buf_init(&b, 0);
	struct otd_error err;
	otd_error_clear(&err);
	enum otd_status st = otd_chart_bars_svg(c, &b, &err);
	ck_assert_msg(st == OTD_OK, "%s", err.message);
	return otd_buf_steal(&b);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for(const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* The element names open and close in order (a small XML shape check:
 * no attribute holds '<' or '>' because everything is escaped). */
static void assert_well_formed(const char *svg)
{
	char stack[32][16];
	int depth = 0, elements = 0;
	for(const char *p = svg; (p = strchr(p, '<'));) {
		const char *end = strchr(p, '>');
		ck_assert_ptr_nonnull(end);
		ck_assert_ptr_null(memchr(p + 1, '<', (size_t)(end - p - 1)));
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
		elements++;
		p = end + 1;
	}
	ck_assert_int_eq(depth, 0);
	ck_assert_int_gt(elements, 3);
	ck_assert(strncmp(svg, "<svg ", 5) == 0);
	ck_assert(strcmp(svg + strlen(svg) - 6, "</svg>") == 0);
}

static int atoi_safe(const char *s)
{
	return (int)strtol(s, NULL, 10);
}

/* The width="N" of the n-th (0-based) <rect whose fill is the bar colour,
 * or -1 when there are fewer. */
static int bar_width(const char *svg, int nth)
{
	const char *p = svg;
	for(int i = 0; (p = strstr(p, "<rect ")); p++) {
		const char *end = strchr(p, '>');
		if(!strstr(p, "fill=\"#1a5e2a\"") || strstr(p, "fill=\"#1a5e2a\"") > end)
			continue;
		if(i++ == nth) {
			const char *w = strstr(p, " width=\"");
			ck_assert(w && w < end);
			return atoi_safe(w + 8);
		}
	}
	return -1;
}

START_TEST(percent_bars_are_as_long_as_their_values)
{
	struct otd_chart_bar bars[] = {
	    {"1-hour windows", 100, NULL},
	    {"2-hour windows", 50, NULL},
	    {"4-hour windows", 0, NULL},
	};
	struct otd_chart c = {.id = "kept30",
	                      .title = "Promises kept, last 30 days",
	                      .desc = "By window width.",
	                      .bars = bars,
	                      .n_bars = 3,
	                      .percent = true};
	char *svg = render(&c);
	assert_well_formed(svg);
	/* 640 wide, labels 213, axis at 221, values 96: bars up to 315 px. */
	ck_assert_ptr_nonnull(strstr(svg, "width=\"640\" height=\"112\" viewBox=\"0 0 640 112\""));
	ck_assert_int_eq(bar_width(svg, 0), 315);
	ck_assert_int_eq(bar_width(svg, 1), 158); /* 157.5 rounded */
	ck_assert_int_eq(bar_width(svg, 2), -1);  /* nothing drawn for 0 */
	ck_assert_ptr_nonnull(strstr(svg, ">100%</text>"));
	ck_assert_ptr_nonnull(strstr(svg, ">50%</text>"));
	ck_assert_ptr_nonnull(strstr(svg, ">0%</text>"));
	/* The value of a full bar sits after it, inside the picture. */
	ck_assert_ptr_nonnull(strstr(svg, "<text x=\"544\""));
	free(svg);
}
END_TEST

START_TEST(accessible_name_and_description_with_the_data)
{
	struct otd_chart_bar bars[] = {{"1-hour windows", 87, NULL},
	                               {"2-hour windows", 93.9, NULL}};
	struct otd_chart c = {.id = "k",
	                      .title = "Promises kept",
	                      .desc = "The last 30 days.",
	                      .bars = bars,
	                      .n_bars = 2,
	                      .percent = true};
	char *svg = render(&c);
	ck_assert_ptr_nonnull(strstr(svg, " role=\"img\" aria-labelledby=\"k-title k-desc\""));
	ck_assert_ptr_nonnull(strstr(svg, "<title id=\"k-title\">Promises kept</title>"));
	/* Rounded down: 93.9 is not shown as 94. */
	ck_assert_ptr_nonnull(strstr(svg, "<desc id=\"k-desc\">The last 30 days. 1-hour windows: "
	                                  "87%; 2-hour windows: 93%.</desc>"));
	ck_assert_int_eq(count(svg, "<title"), 1);
	ck_assert_int_eq(count(svg, "<desc"), 1);
	free(svg);
}
END_TEST

START_TEST(every_text_is_escaped)
{
	struct otd_chart_bar bars[] = {{"<img src=x onerror=alert(1)>", 10, "\"5\" & <b>"}};
	struct otd_chart c = {.id = "x",
	                      .title = "Tom & Jerry's <chart>",
	                      .desc = "<script>alert(1)</script>",
	                      .bars = bars,
	                      .n_bars = 1,
	                      .percent = false,
	                      .max = 20,
	                      .label_width = 400,
	                      .width = 1000};
	char *svg = render(&c);
	assert_well_formed(svg);
	ck_assert_ptr_null(strstr(svg, "<img"));
	ck_assert_ptr_null(strstr(svg, "<script"));
	ck_assert_ptr_null(strstr(svg, "<b>"));
	ck_assert_ptr_nonnull(strstr(svg, "&lt;img src=x onerror=alert(1)&gt;</text>"));
	ck_assert_ptr_nonnull(strstr(svg, "Tom &amp; Jerry&#39;s &lt;chart&gt;</title>"));
	ck_assert_ptr_nonnull(strstr(svg, "&quot;5&quot; &amp; &lt;b&gt;</text>"));
	ck_assert_ptr_nonnull(strstr(svg, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	free(svg);
}
END_TEST

START_TEST(no_inline_style_and_contrasting_colours)
{
	struct otd_chart_bar bars[] = {{"a", 30, NULL}, {"b", 70, NULL}};
	struct otd_chart c = {.id = "c", .title = "t", .bars = bars, .n_bars = 2, .percent = true};
	char *svg = render(&c);
	ck_assert_ptr_null(strstr(svg, "style"));
	ck_assert_ptr_null(strstr(svg, "<script"));
	/* Every colour used for a bar, text or line against the white ground:
	 * WCAG 2.1 contrast at least 4.5:1 (text) and 3:1 (graphics). */
	int n = 0;
	for(const char *p = svg; (p = strstr(p, "=\"#")); p += 3) {
		unsigned r, g, b;
		ck_assert_int_eq(sscanf(p + 3, "%2x%2x%2x", &r, &g, &b), 3);
		if(r == 255 && g == 255 && b == 255)
			continue; /* the ground itself */
		double ch[3] = {r / 255.0, g / 255.0, b / 255.0};
		for(int i = 0; i < 3; i++)
			ch[i] =
			    ch[i] <= 0.03928 ? ch[i] / 12.92 : pow((ch[i] + 0.055) / 1.055, 2.4);
		double lum = 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2];
		double contrast = 1.05 / (lum + 0.05);
		ck_assert_msg(contrast >= 4.5, "#%02x%02x%02x has contrast %.2f", r, g, b,
		              contrast);
		n++;
	}
	ck_assert_int_ge(n, 5); /* two bars, texts, the axis */
	ck_assert_ptr_nonnull(strstr(svg, "fill=\"#1a5e2a\""));
	ck_assert_ptr_nonnull(strstr(svg, "fill=\"#000000\""));
	free(svg);
}
END_TEST

START_TEST(empty_data_says_so)
{
	struct otd_chart c = {.id = "e", .title = "Promises kept", .percent = true};
	char *svg = render(&c);
	assert_well_formed(svg);
	ck_assert_int_eq(bar_width(svg, 0), -1);
	ck_assert_ptr_nonnull(strstr(svg, "<desc id=\"e-desc\">No figures yet.</desc>"));
	ck_assert_ptr_nonnull(strstr(svg, ">No figures yet.</text>"));
	free(svg);
	c.empty_text = "Nothing was due <yet>.";
	svg = render(&c);
	ck_assert_ptr_nonnull(strstr(svg, ">Nothing was due &lt;yet&gt;.</text>"));
	free(svg);
}
END_TEST

START_TEST(counts_scale_to_the_largest_or_the_given_max)
{
	struct otd_chart_bar bars[] = {{"good", 8, NULL}, {"neutral", 2, NULL}, {"bad", 4, NULL}};
	struct otd_chart c = {.id = "fb", .title = "Feedback", .bars = bars, .n_bars = 3};
	char *svg = render(&c);
	ck_assert_int_eq(bar_width(svg, 0), 315);
	ck_assert_int_eq(bar_width(svg, 1), 79); /* 78.75 */
	ck_assert_int_eq(bar_width(svg, 2), 158);
	ck_assert_ptr_nonnull(strstr(svg, ">8</text>"));
	free(svg);
	c.max = 16;
	svg = render(&c);
	ck_assert_int_eq(bar_width(svg, 0), 158);
	free(svg);
	/* All zero: nothing drawn, no division by zero. */
	struct otd_chart_bar zero[] = {{"a", 0, NULL}, {"b", 0, NULL}};
	struct otd_chart z = {.id = "z", .title = "Zero", .bars = zero, .n_bars = 2};
	svg = render(&z);
	ck_assert_int_eq(bar_width(svg, 0), -1);
	ck_assert_int_eq(count(svg, ">0</text>"), 2);
	free(svg);
	/* A fraction keeps one decimal, rounded down, without %f. */
	struct otd_chart_bar frac[] = {{"a", 2.57, NULL}};
	struct otd_chart f = {.id = "f", .title = "F", .bars = frac, .n_bars = 1};
	svg = render(&f);
	ck_assert_ptr_nonnull(strstr(svg, ">2.5</text>"));
	free(svg);
}
END_TEST

START_TEST(values_are_clamped)
{
	struct otd_chart_bar bars[] = {{"over", 250, NULL},
	                               {"under", -5, NULL},
	                               {"nan", NAN, NULL},
	                               {"tiny", 0.01, NULL},
	                               {"inf", INFINITY, NULL}};
	struct otd_chart c = {.id = "c", .title = "t", .bars = bars, .n_bars = 5, .percent = true};
	char *svg = render(&c);
	ck_assert_int_eq(bar_width(svg, 0), 315);
	ck_assert_int_eq(bar_width(svg, 1), 1); /* "tiny": something is not nothing */
	ck_assert_int_eq(bar_width(svg, 2), -1);
	/* under, nan, tiny (rounded down), inf */
	ck_assert_int_eq(count(svg, ">0%</text>"), 4);
	free(svg);
	/* Counts: an infinity does not become the scale; a huge value prints. */
	struct otd_chart_bar counts[] = {
	    {"inf", INFINITY, NULL}, {"ten", 10, NULL}, {"huge", 1e300, NULL}};
	struct otd_chart k = {.id = "k", .title = "t", .bars = counts, .n_bars = 2};
	svg = render(&k);
	ck_assert_int_eq(bar_width(svg, 0), 315);
	ck_assert_int_eq(bar_width(svg, 1), -1);
	free(svg);
	k.n_bars = 3;
	svg = render(&k);
	ck_assert_ptr_nonnull(strstr(svg, "huge: 1000000000000000.</desc>"));
	free(svg);
}
END_TEST

START_TEST(widths_and_long_labels)
{
	/* 30 characters of label in 120 px: cut with an ellipsis to what fits
	 * (116 px / 8.4 px = 13 characters), the whole label in the desc. */
	struct otd_chart_bar bars[] = {{"Zoë's very long window label!", 40, NULL}};
	struct otd_chart c = {.id = "w",
	                      .title = "t",
	                      .bars = bars,
	                      .n_bars = 1,
	                      .percent = true,
	                      .width = 400,
	                      .label_width = 120,
	                      .value_width = 60};
	char *svg = render(&c);
	assert_well_formed(svg);
	ck_assert_ptr_nonnull(strstr(svg, "width=\"400\""));
	/* 12 characters and the ellipsis */
	ck_assert_ptr_nonnull(strstr(svg, ">Zoë&#39;s very l\xe2\x80\xa6</text>"));
	ck_assert_ptr_nonnull(strstr(svg, "Zoë&#39;s very long window label!: 40%."));
	/* bar area: 400 - (120 + 8) - 8 - 60 = 204; 40% is 82 (81.6). */
	ck_assert_int_eq(bar_width(svg, 0), 82);
	free(svg);
	/* Too narrow a width is raised to 200; label and value columns are
	 * kept within a half and a quarter of it. */
	c.width = 50;
	c.label_width = 500;
	c.value_width = 500;
	svg = render(&c);
	ck_assert_ptr_nonnull(strstr(svg, "width=\"200\""));
	/* bar area: 200 - (100 + 8) - 8 - 50 = 34; 40% is 14 (13.6). */
	ck_assert_int_eq(bar_width(svg, 0), 14);
	free(svg);
	/* Invalid UTF-8 in a label is shown as U+FFFD, never passed on. */
	struct otd_chart_bar bad[] = {{"a\xff"
	                               "b",
	                               10, NULL}};
	struct otd_chart d = {.id = "d", .title = "t", .bars = bad, .n_bars = 1, .percent = true};
	svg = render(&d);
	ck_assert_ptr_nonnull(strstr(svg, ">a\xef\xbf\xbd"
	                                  "b</text>"));
	free(svg);
}
END_TEST

START_TEST(bad_charts_are_refused)
{
	struct otd_buf b;
	otd_buf_init(&b, 0);
	struct otd_error err;
	struct otd_chart_bar bars[OTD_CHART_BARS_MAX + 1];
	for(size_t i = 0; i < OTD_CHART_BARS_MAX + 1; i++)
		bars[i] = (struct otd_chart_bar){"x", 1, NULL};
	struct otd_chart c = {.id = "ok", .title = "t", .bars = bars, .n_bars = 1};
	const char *ids[] = {NULL, "", "1abc", "a b", "a\"", "x<y"};
	for(size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		c.id = ids[i];
		otd_error_clear(&err);
		ck_assert_int_eq(otd_chart_bars_svg(&c, &b, &err), OTD_EINVAL);
		ck_assert_str_eq(err.field, "id");
	}
	c.id = "ok";
	c.title = "";
	ck_assert_int_eq(otd_chart_bars_svg(&c, &b, &err), OTD_EINVAL);
	ck_assert_str_eq(err.field, "title");
	c.title = "t";
	c.n_bars = OTD_CHART_BARS_MAX + 1;
	ck_assert_int_eq(otd_chart_bars_svg(&c, &b, &err), OTD_EINVAL);
	ck_assert_str_eq(err.field, "bars");
	c.n_bars = 1;
	bars[0].label = NULL;
	ck_assert_int_eq(otd_chart_bars_svg(&c, &b, &err), OTD_EINVAL);
	ck_assert_str_eq(err.field, "bars");
	ck_assert_uint_eq(b.len, 0);
	otd_buf_cleanup(&b);

	/* A buffer whose cap is reached takes nothing. */
	bars[0].label = "x";
	otd_buf_init(&b, 100);
	otd_buf_puts(&b, "<p>");
	ck_assert_int_eq(otd_chart_bars_svg(&c, &b, &err), OTD_ETOOBIG);
	ck_assert_str_eq(b.data, "<p>");
	otd_buf_cleanup(&b);
	/* Appended after what the buffer holds. */
	otd_buf_init(&b, 0);
	otd_buf_puts(&b, "<figure>");
	ck_assert_int_eq(otd_chart_bars_svg(&c, &b, &err), OTD_OK);
	ck_assert(strncmp(b.data, "<figure><svg ", 13) == 0);
	otd_buf_cleanup(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("chart");
	TCase *tc = tcase_create("chart");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, percent_bars_are_as_long_as_their_values);
	tcase_add_test(tc, accessible_name_and_description_with_the_data);
	tcase_add_test(tc, every_text_is_escaped);
	tcase_add_test(tc, no_inline_style_and_contrasting_colours);
	tcase_add_test(tc, empty_data_says_so);
	tcase_add_test(tc, counts_scale_to_the_largest_or_the_given_max);
	tcase_add_test(tc, values_are_clamped);
	tcase_add_test(tc, widths_and_long_labels);
	tcase_add_test(tc, bad_charts_are_refused);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
