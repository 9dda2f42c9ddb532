/* libFuzzer target: the message template parser on arbitrary bytes, and
 * the renderer on what it accepts.
 *
 * A rejected file gives OTD_EINVAL, no template, one of the documented
 * codes and a valid UTF-8 message "fuzz.tmpl line N: ..." with N within
 * the file. An accepted one renders every section it has (and only those)
 * with every variable set, unset and hostile, and checks what the
 * renderer promises: valid UTF-8 out (all inputs being valid UTF-8), no
 * trailing line end, [subject] and [sms] on one line without blanks at
 * either end, and in [html] no markup character that a value brought in:
 * hostile values and plain ones give the same count of < > " '. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/template.h"
#include "onthedot/utf8.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if(!(cond)) {                                                                      \
			fprintf(stderr, "fuzz_template: %s:%d: check failed: %s\n", __FILE__,      \
			        __LINE__, #cond);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while(0)

#define NAME "fuzz.tmpl"

static const char *const known[] = {"a", "b", "customer_name", "link", "phone"};
#define N_KNOWN (sizeof(known) / sizeof(known[0]))

static const char *const sections[] = {"subject", "text", "html", "sms"};

static int valid_utf8(const char *s)
{
	size_t n = strlen(s);
	for(size_t i = 0; i < n;) {
		size_t k = otd_utf8_char((const unsigned char *)s + i, n - i);
		if(k == 0)
			return 0;
		i += k;
	}
	return 1;
}

static size_t count_markup(const char *s)
{
	size_t n = 0;
	for(; *s; s++)
		n += *s == '<' || *s == '>' || *s == '"' || *s == '\'';
	return n;
}

/* Renders section with every known variable set to value (NULL: none
 * given) and checks the output. The caller frees the result. */
static char *render(const struct otd_template *t, int section, const char *value)
{
	const char *values[N_KNOWN];
	for(size_t i = 0; i < N_KNOWN; i++)
		values[i] = value;
	char *s = otd_template_render(t, sections[section], value ? known : NULL, values,
	                              value ? N_KNOWN : 0);
	CHECK(s != NULL);
	CHECK(valid_utf8(s));
	size_t len = strlen(s);
	CHECK(len == 0 || (s[len - 1] != '\n' && s[len - 1] != '\r'));
	if(section == 0 || section == 3) {
		CHECK(strpbrk(s, "\r\n") == NULL);
		CHECK(len == 0 || (s[0] != ' ' && s[0] != '\t'));
		CHECK(len == 0 || (s[len - 1] != ' ' && s[len - 1] != '\t'));
	}
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct otd_template *t = (struct otd_template *)&t;
	struct otd_error err;
	enum otd_status st =
	    otd_template_parse(NAME, (const char *)data, size, known, N_KNOWN, &t, &err);

	if(st != OTD_OK) {
		CHECK(st == OTD_EINVAL && t == NULL && err.status == OTD_EINVAL);
		CHECK(!strcmp(err.code, "template_encoding") ||
		      !strcmp(err.code, "template_section") ||
		      !strcmp(err.code, "template_variable") ||
		      !strcmp(err.code, "template_syntax"));
		CHECK(valid_utf8(err.message));
		CHECK(strncmp(err.message, NAME " line ", strlen(NAME " line ")) == 0);
		char *end;
		unsigned long line = strtoul(err.message + strlen(NAME " line "), &end, 10);
		size_t lines = 1;
		for(size_t i = 0; i + 1 < size; i++)
			lines += data[i] == '\n';
		CHECK(line >= 1 && line <= lines && end[0] == ':' && end[1] == ' ');
		return 0;
	}

	CHECK(t != NULL);
	int any = 0;
	for(int i = 0; i < 4; i++) {
		if(!otd_template_has(t, sections[i])) {
			CHECK(otd_template_render(t, sections[i], NULL, NULL, 0) == NULL);
			continue;
		}
		any = 1;
		free(render(t, i, NULL));
		free(render(t, i, ""));
		char *plain = render(t, i, "x");
		char *hostile = render(t, i, "<img src=\"x\" onerror='alert(1)'>\n\t & Zoë");
		if(i == 2)
			CHECK(count_markup(plain) == count_markup(hostile));
		free(plain);
		free(hostile);
	}
	CHECK(any);
	CHECK(!otd_template_has(t, "body"));
	otd_template_free(t);
	return 0;
}
