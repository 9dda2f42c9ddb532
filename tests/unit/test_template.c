/* Unit tests: message templates (core/template.c). Every parse error with
 * its exact message and line number, LF and CRLF alike; a realistic
 * template rendered whole with and without optional values; nested and
 * inverted blocks; HTML escaping of hostile values in [html] only; UTF-8
 * names intact; [subject] and [sms] always one line; values not given. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "onthedot/template.h"
#include "testutil.h"

#define NAME "at_risk.tmpl"
#define XSS "<img src=x onerror=alert(1)>"
#define XSS_HTML "&lt;img src=x onerror=alert(1)&gt;"

static const char *const known[] = {
    "customer_name", "visitor_first_name", "window", "held", "phone", "link", "a", "b", "c"};
#define N_KNOWN (sizeof(known) / sizeof(known[0]))

static struct otd_template *parse_ok(const char *text)
{
	struct otd_template *t = NULL;
	struct otd_error err;
	otd_error_clear(&err);
	enum otd_status st = otd_template_parse(NAME, text, strlen(text), known, N_KNOWN, &t, &err);
	ck_assert_msg(st == OTD_OK, "%s", err.message);
	ck_assert_ptr_nonnull(t);
	return t;
}

/* Renders section with NULL-terminated name/value pairs. */
static char *render(const struct otd_template *t, const char *section, ...)
{
	const char *names[16], *values[16];
	size_t n = 0;
	va_list ap;
	va_start(ap, section);
	for(const char *k; (k = va_arg(ap, const char *)) != NULL; n++) {
		ck_assert_uint_lt(n, 16);
		names[n] = k;
		values[n] = va_arg(ap, const char *);
	}
	va_end(ap);
	return otd_template_render(t, section, names, values, n);
}

static void assert_render(const struct otd_template *t, const char *section, const char *want,
                          char *got)
{
	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strcmp(got, want) == 0, "[%s]: got \"%s\", want \"%s\"", section, got, want);
	free(got);
}

/* ---- errors ---- */

struct bad {
	const char *text;
	size_t len; /* 0: strlen(text) */
	const char *code;
	const char *message;
};

static const struct bad bad[] = {
    /* The brief's example, on line 7. */
    {"# Sent when a visit may run late.\n"
     "\n"
     "[text]\n"
     "Hello {{customer_name}},\n"
     "{{#held}}\n"
     "held up at {{held}}\n"
     "{{/window}}\n",
     0, "template_syntax", NAME " line 7: {{/window}} closes {{#held}}"},
    {"[sms]\n{{^phone}}no phone{{/held}}\n", 0, "template_syntax",
     NAME " line 2: {{/held}} closes {{^phone}}"},
    {"[text]\n{{#a}}{{#b}}x{{/a}}{{/b}}\n", 0, "template_syntax",
     NAME " line 2: {{/a}} closes {{#b}}"},
    {"[sms]\nHi\nthere{{/phone}}\n", 0, "template_syntax",
     NAME " line 3: {{/phone}} closes nothing"},
    {"[text]\n{{^phone}}\nno phone\n\n[sms]\nx\n", 0, "template_syntax",
     NAME " line 2: {{^phone}} is not closed in [text]"},
    {"[subject]\nx\n[sms]\na\nb {{#phone}}c {{#held}}d{{/held}}", 0, "template_syntax",
     NAME " line 5: {{#phone}} is not closed in [sms]"},
    {"[subject]\nHi {{customer_name}\n", 0, "template_syntax",
     NAME " line 2: {{ without }} (a tag ends on its own line)"},
    {"[text]\nok {{a}}\n{{customer_\nname}}\n", 0, "template_syntax",
     NAME " line 3: {{ without }} (a tag ends on its own line)"},
    {"[text]\n{{a}} {{", 0, "template_syntax",
     NAME " line 2: {{ without }} (a tag ends on its own line)"},
    {"[text]\nHello {{customer_name}},\n\n{{windw}}\n", 0, "template_variable",
     NAME " line 4: unknown variable {{windw}}"},
    {"[text]\n{{#helt}}x{{/helt}}\n", 0, "template_variable",
     NAME " line 2: unknown variable {{#helt}}"},
    {"[html]\n<p>\n{{^Phone}}\n", 0, "template_variable",
     NAME " line 3: unknown variable {{^Phone}}"},
    {"[text]\n{{}}\n", 0, "template_variable",
     NAME " line 2: {{}} names no variable (a name is letters, digits and _)"},
    {"[text]\nDear {{ first name }}\n", 0, "template_variable",
     NAME " line 2: {{ first name }} names no variable (a name is letters, digits and _)"},
    {"[text]\n{{{a}}}\n", 0, "template_variable",
     NAME " line 2: {{{a}} names no variable (a name is letters, digits and _)"},
    {"[text]\n{{#}}\n", 0, "template_variable",
     NAME " line 2: {{#}} names no variable (a name is letters, digits and _)"},
    {"# c\n[subject]\nHi\n[body]\nx\n", 0, "template_section",
     NAME " line 4: unknown section [body] (the sections are [subject], [text], [html] and [sms])"},
    {"[Text]\nx\n", 0, "template_section",
     NAME " line 1: unknown section [Text] (the sections are [subject], [text], [html] and [sms])"},
    {"[text]\na\n\n[sms]\nb\n[text]  \nc\n", 0, "template_section",
     NAME " line 6: section [text] appears twice (first on line 1)"},
    {"# comment\n\nHello\n[text]\n", 0, "template_section",
     NAME " line 3: text before the first section (a section starts with a line like [text]; a "
          "comment line starts with #)"},
    {" [text]\nx\n", 0, "template_section",
     NAME " line 1: text before the first section (a section starts with a line like [text]; a "
          "comment line starts with #)"},
    {"# only comments\n\n", 0, "template_section",
     NAME " line 2: no section (a section starts with a line like [text])"},
    {"", 0, "template_section",
     NAME " line 1: no section (a section starts with a line like [text])"},
    {"[text]\nZo\xC3\n", 0, "template_encoding",
     NAME " line 2: invalid UTF-8 (byte 0xC3 at column 3)"},
    {"# caf\xE9\n[text]\n", 0, "template_encoding",
     NAME " line 1: invalid UTF-8 (byte 0xE9 at column 6)"},
    {"[text]\nok\n\xC0\xAF overlong\n", 0, "template_encoding",
     NAME " line 3: invalid UTF-8 (byte 0xC0 at column 1)"},
    {"[text]\n\xED\xA0\x80 surrogate\n", 0, "template_encoding",
     NAME " line 2: invalid UTF-8 (byte 0xED at column 1)"},
    {"[text]\na\0b\n", 10, "template_encoding", NAME " line 2: a NUL byte"},
    /* CRLF counts lines the same. */
    {"[text]\r\nHello\r\n{{#held}}\r\n{{/window}}\r\n", 0, "template_syntax",
     NAME " line 4: {{/window}} closes {{#held}}"},
    /* The error comes from the first bad line, even before a worse one. */
    {"[text]\n{{nope}}\n\xFF\n", 0, "template_variable", NAME " line 2: unknown variable {{nope}}"},
};

START_TEST(errors_name_the_template_and_line)
{
	const struct bad *b = &bad[_i];
	size_t len = b->len ? b->len : strlen(b->text);
	struct otd_template *t = (struct otd_template *)1;
	struct otd_error err;
	otd_error_clear(&err);
	enum otd_status st = otd_template_parse(NAME, b->text, len, known, N_KNOWN, &t, &err);
	ck_assert_int_eq(st, OTD_EINVAL);
	ck_assert_ptr_null(t);
	ck_assert_int_eq(err.status, OTD_EINVAL);
	ck_assert_str_eq(err.code, b->code);
	ck_assert_str_eq(err.message, b->message);
}
END_TEST

START_TEST(nesting_deeper_than_the_limit_is_an_error)
{
	struct otd_buf b;
	otd_buf_init(&b, 0);
	otd_buf_puts(&b, "[text]\n");
	for(int i = 0; i < OTD_TEMPLATE_MAX_DEPTH; i++)
		otd_buf_puts(&b, "{{#a}}\n");
	otd_buf_puts(&b, "deep\n");
	for(int i = 0; i < OTD_TEMPLATE_MAX_DEPTH; i++)
		otd_buf_puts(&b, "{{/a}}\n");
	struct otd_template *t = parse_ok(b.data);
	assert_render(t, "text", "deep", render(t, "text", "a", "1", NULL));
	assert_render(t, "text", "", render(t, "text", NULL));
	otd_template_free(t);

	otd_buf_cleanup(&b);
	otd_buf_puts(&b, "[text]\n");
	for(int i = 0; i <= OTD_TEMPLATE_MAX_DEPTH; i++)
		otd_buf_puts(&b, "{{#a}}\n");
	struct otd_error err;
	ck_assert_int_eq(otd_template_parse(NAME, b.data, b.len, known, N_KNOWN, &t, &err),
	                 OTD_EINVAL);
	ck_assert_str_eq(err.code, "template_syntax");
	ck_assert_str_eq(err.message, NAME " line 18: blocks nested deeper than 16");
	otd_buf_cleanup(&b);
}
END_TEST

START_TEST(only_known_variables_and_a_long_name_is_cut_whole)
{
	/* No known variables: any tag is unknown; plain text is fine. */
	struct otd_template *t = NULL;
	struct otd_error err;
	const char *text = "[sms]\nNo variables here, { not a tag } }} either.\n";
	ck_assert_int_eq(otd_template_parse("plain.tmpl", text, strlen(text), NULL, 0, &t, &err),
	                 OTD_OK);
	assert_render(t, "sms", "No variables here, { not a tag } }} either.",
	              render(t, "sms", NULL));
	otd_template_free(t);
	text = "[sms]\n{{a}}\n";
	ck_assert_int_eq(otd_template_parse("plain.tmpl", text, strlen(text), NULL, 0, &t, &err),
	                 OTD_EINVAL);
	ck_assert_str_eq(err.message, "plain.tmpl line 2: unknown variable {{a}}");

	/* A long template name in UTF-8 is cut between characters, and the
	 * message says it was cut. */
	struct otd_buf name;
	otd_buf_init(&name, 0);
	for(int i = 0; i < 100; i++)
		otd_buf_puts(&name, "é");
	ck_assert_int_eq(otd_template_parse(name.data, "x", 1, known, N_KNOWN, &t, &err),
	                 OTD_EINVAL);
	ck_assert_int_eq(strncmp(err.message, name.data, 80), 0);
	ck_assert_int_eq(strncmp(err.message + 80, " line 1: text before", 20), 0);
	otd_buf_cleanup(&name);
}
END_TEST

/* ---- rendering ---- */

static const char at_risk[] =
    "# Sent when a visit may run late.\n"
    "# Variables: customer_name, visitor_first_name, window, held, phone, link\n"
    "\n"
    "[subject]\n"
    "{{visitor_first_name}} may be late for your visit on {{window}}\n"
    "\n"
    "[text]\n"
    "Hello {{customer_name}},\n"
    "\n"
    "{{visitor_first_name}} is running late{{#held}}: held up at {{held}}{{/held}}.\n"
    "{{#phone}}\n"
    "Call us on {{phone}} if that time no longer suits you.\n"
    "{{/phone}}\n"
    "{{^phone}}\n"
    "Reply to this email if that time no longer suits you.\n"
    "{{/phone}}\n"
    "\n"
    "\n"
    "[html]\n"
    "<p>Hello {{ customer_name }},</p>\n"
    "<p><a href=\"{{link}}\">Change your visit</a></p>\n"
    "\n"
    "[sms]\n"
    "{{visitor_first_name}} may be late\n"
    "    for your visit {{window}}.\n"
    "\n"
    "{{#phone}}Call {{phone}}.{{/phone}}\n";

START_TEST(renders_every_section_with_and_without_optional_values)
{
	struct otd_template *t = parse_ok(at_risk);
	ck_assert(otd_template_has(t, "subject"));
	ck_assert(otd_template_has(t, "text"));
	ck_assert(otd_template_has(t, "html"));
	ck_assert(otd_template_has(t, "sms"));

#define ALL                                                                                        \
	"customer_name", "Ann", "visitor_first_name", "Sam", "window",                             \
	    "Tuesday 3 March, 10:00 to 11:00", "link", "https://v.example/a/X?b=1&c=2"
	assert_render(t, "subject",
	              "Sam may be late for your visit on Tuesday 3 March, 10:00 to 11:00",
	              render(t, "subject", ALL, NULL));
	assert_render(t, "text",
	              "Hello Ann,\n\nSam is running late: held up at the A14.\n"
	              "Call us on 01632 960123 if that time no longer suits you.",
	              render(t, "text", ALL, "held", "the A14", "phone", "01632 960123", NULL));
	assert_render(t, "text",
	              "Hello Ann,\n\nSam is running late.\n"
	              "Reply to this email if that time no longer suits you.",
	              render(t, "text", ALL, "held", "", NULL));
	assert_render(t, "html",
	              "<p>Hello Ann,</p>\n"
	              "<p><a href=\"https://v.example/a/X?b=1&amp;c=2\">Change your visit</a></p>",
	              render(t, "html", ALL, NULL));
	assert_render(t, "sms",
	              "Sam may be late for your visit Tuesday 3 March, 10:00 to 11:00. Call 01632 "
	              "960123.",
	              render(t, "sms", ALL, "phone", "01632 960123", NULL));
	assert_render(t, "sms", "Sam may be late for your visit Tuesday 3 March, 10:00 to 11:00.",
	              render(t, "sms", ALL, "phone", NULL, NULL));
#undef ALL
	otd_template_free(t);
}
END_TEST

START_TEST(crlf_and_a_byte_order_mark_render_the_same)
{
	struct otd_buf crlf;
	otd_buf_init(&crlf, 0);
	otd_buf_puts(&crlf, "\xEF\xBB\xBF");
	for(const char *c = at_risk; *c; c++)
		otd_buf_puts(&crlf, *c == '\n' ? "\r\n" : (char[]){*c, 0});
	struct otd_template *lf = parse_ok(at_risk), *t = parse_ok(crlf.data);
	static const char *const sections[] = {"subject", "text", "html", "sms"};
	for(int i = 0; i < 4; i++) {
		char *want = render(lf, sections[i], "customer_name", "Ann", "phone", "1", NULL);
		char *got = render(t, sections[i], "customer_name", "Ann", "phone", "1", NULL);
		ck_assert_ptr_null(strchr(got, '\r'));
		ck_assert_str_eq(got, want);
		free(want);
		free(got);
	}
	otd_template_free(lf);
	otd_template_free(t);
	otd_buf_cleanup(&crlf);
}
END_TEST

START_TEST(nested_and_inverted_blocks)
{
	struct otd_template *t = parse_ok("[text]\n"
	                                  "[{{#a}}A{{#b}}B{{/b}}{{^b}}b{{/b}}{{/a}}"
	                                  "{{^a}}-{{#c}}C{{/c}}{{/a}}]\n");
	assert_render(t, "text", "[AB]", render(t, "text", "a", "1", "b", "1", NULL));
	assert_render(t, "text", "[Ab]", render(t, "text", "a", "1", "b", "", NULL));
	assert_render(t, "text", "[Ab]", render(t, "text", "a", "1", NULL));
	assert_render(t, "text", "[-C]", render(t, "text", "b", "1", "c", "x", NULL));
	assert_render(t, "text", "[-]", render(t, "text", "a", "", "c", NULL, NULL));
	otd_template_free(t);

	/* The same variable inside itself; a close ends the innermost block. */
	t = parse_ok("[text]\n{{#a}}<{{^a}}never{{/a}}{{#a}}{{a}}{{/a}}>{{/a}}|\n");
	assert_render(t, "text", "<yes>|", render(t, "text", "a", "yes", NULL));
	assert_render(t, "text", "|", render(t, "text", NULL));
	otd_template_free(t);

	/* Blocks across lines: a line of only a block tag leaves no line. */
	t = parse_ok("[text]\n"
	             "Before\n"
	             "  {{#a}}  \n"
	             "\tIn a {{a}}\n"
	             "  {{#b}}\n"
	             "  In b\n"
	             "  {{/b}}\n"
	             "{{/a}}\n"
	             "{{^a}}\n"
	             "Not a\n"
	             "{{/a}}\n"
	             "After{{#c}} {{c}}{{/c}}\n");
	assert_render(t, "text", "Before\n\tIn a 1\n  In b\nAfter 3",
	              render(t, "text", "a", "1", "b", "2", "c", "3", NULL));
	assert_render(t, "text", "Before\n\tIn a 1\nAfter", render(t, "text", "a", "1", NULL));
	assert_render(t, "text", "Before\nNot a\nAfter", render(t, "text", NULL));
	otd_template_free(t);
}
END_TEST

START_TEST(html_section_escapes_values_and_text_does_not)
{
	struct otd_template *t = parse_ok("[text]\nName: {{customer_name}}\nNote: {{held}}\n"
	                                  "[html]\n<p title=\"{{held}}\">{{customer_name}}</p>\n"
	                                  "<p>{{held}}</p>\n"
	                                  "[sms]\n{{customer_name}} / {{held}}\n"
	                                  "[subject]\n{{customer_name}}\n");
	const char *q = "\"Tom & Jerry's\" 'quoted'";
	assert_render(t, "html",
	              "<p title=\"&quot;Tom &amp; Jerry&#39;s&quot; &#39;quoted&#39;\">" XSS_HTML
	              "</p>\n<p>&quot;Tom &amp; Jerry&#39;s&quot; &#39;quoted&#39;</p>",
	              render(t, "html", "customer_name", XSS, "held", q, NULL));
	assert_render(t, "text", "Name: " XSS "\nNote: \"Tom & Jerry's\" 'quoted'",
	              render(t, "text", "customer_name", XSS, "held", q, NULL));
	assert_render(t, "sms", XSS " / \"Tom & Jerry's\" 'quoted'",
	              render(t, "sms", "customer_name", XSS, "held", q, NULL));
	assert_render(t, "subject", XSS, render(t, "subject", "customer_name", XSS, NULL));
	/* The template's own markup is not escaped; an escaped-looking value
	 * is escaped again, not decoded. */
	assert_render(t, "html", "<p title=\"&amp;lt;\">&amp;amp;</p>\n<p>&amp;lt;</p>",
	              render(t, "html", "customer_name", "&amp;", "held", "&lt;", NULL));
	otd_template_free(t);
}
END_TEST

START_TEST(utf8_names_pass_through_intact)
{
	struct otd_template *t =
	    parse_ok("[subject]\nÀ bientôt, {{customer_name}}\n"
	             "[text]\nDear {{customer_name}}, {{visitor_first_name}} — café ✓\n"
	             "[html]\n<p>{{customer_name}} · {{visitor_first_name}}</p>\n"
	             "[sms]\n{{customer_name}}:\n{{visitor_first_name}} 🚐\n");
	const char *zoe = "Zoë O'Brien-Nguyễn";
	assert_render(t, "subject", "À bientôt, Zoë O'Brien-Nguyễn",
	              render(t, "subject", "customer_name", zoe, NULL));
	assert_render(
	    t, "text", "Dear Zoë O'Brien-Nguyễn, Łukasz — café ✓",
	    render(t, "text", "customer_name", zoe, "visitor_first_name", "Łukasz", NULL));
	assert_render(
	    t, "html", "<p>Zoë O&#39;Brien-Nguyễn · Łukasz</p>",
	    render(t, "html", "customer_name", zoe, "visitor_first_name", "Łukasz", NULL));
	assert_render(t, "sms", "Zoë O'Brien-Nguyễn: Łukasz 🚐",
	              render(t, "sms", "customer_name", zoe, "visitor_first_name", "Łukasz", NULL));
	otd_template_free(t);
}
END_TEST

START_TEST(subject_and_sms_are_one_line_whatever_the_values)
{
	struct otd_template *t = parse_ok("[subject]\n"
	                                  "Your visit\n"
	                                  "  with {{visitor_first_name}}  \n"
	                                  "\n"
	                                  "[sms]\n"
	                                  "\tHi {{customer_name}},\n"
	                                  "\n"
	                                  "   see you {{window}}.   \n"
	                                  "\n"
	                                  "[text]\n"
	                                  "{{customer_name}}\n"
	                                  "  indented\n");
	/* A value with line ends cannot add a header line to a subject. */
	assert_render(
	    t, "subject", "Your visit with Sam Bcc: victim@example.org",
	    render(t, "subject", "visitor_first_name", "Sam\r\nBcc: victim@example.org", NULL));
	char *sms =
	    render(t, "sms", "customer_name", "Ann\n\n", "window", "Tue 3 Mar,\n10:00-11:00", NULL);
	ck_assert_ptr_null(strpbrk(sms, "\r\n"));
	assert_render(t, "sms", "Hi Ann , see you Tue 3 Mar, 10:00-11:00.", sms);
	/* Only [subject] and [sms] are joined; text keeps lines and indents. */
	assert_render(t, "text", "A\nB\n  indented",
	              render(t, "text", "customer_name", "A\nB", NULL));
	otd_template_free(t);
}
END_TEST

START_TEST(missing_values_render_empty)
{
	struct otd_template *t = parse_ok(at_risk);
	assert_render(t, "subject", "may be late for your visit on",
	              otd_template_render(t, "subject", NULL, NULL, 0));
	assert_render(t, "text",
	              "Hello ,\n\n is running late.\n"
	              "Reply to this email if that time no longer suits you.",
	              otd_template_render(t, "text", NULL, NULL, 0));
	assert_render(t, "html", "<p>Hello ,</p>\n<p><a href=\"\">Change your visit</a></p>",
	              otd_template_render(t, "html", NULL, NULL, 0));
	/* Names the template does not use are ignored; NULL names skipped. */
	const char *names[] = {NULL, "unused", "customer_name"};
	const char *values[] = {"x", "y", "Ann"};
	assert_render(t, "html", "<p>Hello Ann,</p>\n<p><a href=\"\">Change your visit</a></p>",
	              otd_template_render(t, "html", names, values, 3));
	otd_template_free(t);
}
END_TEST

START_TEST(sections_absent_or_unknown_render_null)
{
	struct otd_template *t = parse_ok("# only sms\n[sms]\n\n\n");
	ck_assert(otd_template_has(t, "sms"));
	ck_assert(!otd_template_has(t, "text"));
	ck_assert(!otd_template_has(t, "body"));
	ck_assert(!otd_template_has(t, NULL));
	ck_assert(!otd_template_has(NULL, "sms"));
	ck_assert_ptr_null(otd_template_render(t, "text", NULL, NULL, 0));
	ck_assert_ptr_null(otd_template_render(t, "body", NULL, NULL, 0));
	/* An empty section renders "", not NULL. */
	assert_render(t, "sms", "", otd_template_render(t, "sms", NULL, NULL, 0));
	otd_template_free(t);
	otd_template_free(NULL);

	/* A section's trailing newlines go; its leading ones and '#' lines
	 * inside a section stay: they are text. */
	t = parse_ok("[text]\n\n# Not a comment\nx\n\n\n\n[html]\n<p>x</p>\n\n");
	assert_render(t, "text", "\n# Not a comment\nx",
	              otd_template_render(t, "text", NULL, NULL, 0));
	assert_render(t, "html", "<p>x</p>", otd_template_render(t, "html", NULL, NULL, 0));
	otd_template_free(t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("template");
	TCase *tp = tcase_create("parse");
	tcase_set_timeout(tp, 30);
	tcase_add_loop_test(tp, errors_name_the_template_and_line, 0,
	                    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_test(tp, nesting_deeper_than_the_limit_is_an_error);
	tcase_add_test(tp, only_known_variables_and_a_long_name_is_cut_whole);
	suite_add_tcase(s, tp);
	TCase *tr = tcase_create("render");
	tcase_set_timeout(tr, 30);
	tcase_add_test(tr, renders_every_section_with_and_without_optional_values);
	tcase_add_test(tr, crlf_and_a_byte_order_mark_render_the_same);
	tcase_add_test(tr, nested_and_inverted_blocks);
	tcase_add_test(tr, html_section_escapes_values_and_text_does_not);
	tcase_add_test(tr, utf8_names_pass_through_intact);
	tcase_add_test(tr, subject_and_sms_are_one_line_whatever_the_values);
	tcase_add_test(tr, missing_values_render_empty);
	tcase_add_test(tr, sections_absent_or_unknown_render_null);
	suite_add_tcase(s, tr);
	return testutil_run(s);
}
