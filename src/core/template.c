/* Message templates: sections of text with {{var}}, {{#var}} and {{^var}}
 * (a small subset of Mustache), parsed into a flat list of operations. */
#include "onthedot/template.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "onthedot/message.h"
#include "onthedot/utf8.h"

enum section_id { SEC_SUBJECT, SEC_TEXT, SEC_HTML, SEC_SMS, SEC_COUNT };

static const char *const section_names[SEC_COUNT] = {"subject", "text", "html", "sms"};

/* Section names and variable names in messages are echoed at most this
 * long; the template's name at most NAME_ECHO bytes. */
#define WORD_ECHO 40
#define NAME_ECHO 80

enum op_kind {
	OP_TEXT,    /* src[off, off + len) */
	OP_NEWLINE, /* "\n" (the file's line end, CRLF or LF) */
	OP_VAR,     /* the value of the variable named src[off, off + len) */
	OP_OPEN,    /* {{#name}} or {{^name}}: when the test fails, go to jump */
	OP_CLOSE,   /* {{/name}} */
};

struct op {
	enum op_kind kind;
	bool inverted; /* OP_OPEN: {{^name}} */
	size_t off, len;
	size_t jump; /* OP_OPEN: the index of its OP_CLOSE */
};

struct section {
	bool present;
	size_t first, count; /* ops[first, first + count) */
};

struct otd_template {
	char *src; /* a copy of the file; ops point into it */
	struct op *ops;
	size_t n_ops, ops_size;
	struct section sections[SEC_COUNT];
};

struct open_block {
	size_t op, line;
};

struct parser {
	const char *name;
	size_t name_len;
	const char *const *known;
	size_t n_known;
	struct otd_template *t;
	struct otd_error *err;
	size_t line;
	int section; /* -1 before the first */
	size_t header_line[SEC_COUNT];
	struct open_block stack[OTD_TEMPLATE_MAX_DEPTH];
	size_t depth;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* The longest prefix of s[0, n) of at most max bytes that does not cut a
 * UTF-8 sequence, so an echo in a message stays valid UTF-8. */
static int echo_len(const char *s, size_t n, size_t max)
{
	if(n <= max)
		return (int)n;
	while(max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return (int)max;
}

static enum otd_status fail(struct parser *p, size_t line, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum otd_status fail(struct parser *p, size_t line, const char *code, const char *fmt, ...)
{
	char what[OTD_ERR_MESSAGE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return otd_error_set(p->err, OTD_EINVAL, code, NULL, "%.*s line %zu: %s",
	                     echo_len(p->name, p->name_len, NAME_ECHO), p->name, line, what);
}

static size_t emit(struct otd_template *t, enum op_kind kind, size_t off, size_t len)
{
	if(t->n_ops == t->ops_size) {
		t->ops_size = t->ops_size ? 2 * t->ops_size : 32;
		t->ops = xrealloc(t->ops, t->ops_size * sizeof(*t->ops));
	}
	t->ops[t->n_ops] = (struct op){.kind = kind, .off = off, .len = len};
	return t->n_ops++;
}

static bool known(const struct parser *p, const char *s, size_t n)
{
	for(size_t i = 0; i < p->n_known; i++)
		if(p->known[i] && strlen(p->known[i]) == n && memcmp(p->known[i], s, n) == 0)
			return true;
	return false;
}

/* Handles the tag whose inside ("#held", " window ") is src[off, off + n). */
static enum otd_status tag(struct parser *p, size_t off, size_t n)
{
	const char *s = p->t->src + off;
	char sigil = n > 0 && (s[0] == '#' || s[0] == '^' || s[0] == '/') ? s[0] : 0;
	size_t a = sigil ? 1 : 0, b = n;
	while(a < b && is_blank(s[a]))
		a++;
	while(b > a && is_blank(s[b - 1]))
		b--;
	bool valid = a < b;
	for(size_t i = a; i < b; i++)
		valid = valid && is_name_char(s[i]);
	if(!valid)
		return fail(p, p->line, "template_variable",
		            "{{%.*s}} names no variable (a name is letters, digits and _)",
		            echo_len(s, n, WORD_ECHO), s);
	const char *name = s + a;
	int name_len = echo_len(name, b - a, WORD_ECHO);

	if(sigil == '/') {
		if(p->depth == 0)
			return fail(p, p->line, "template_syntax", "{{/%.*s}} closes nothing",
			            name_len, name);
		struct open_block *top = &p->stack[p->depth - 1];
		struct op *open = &p->t->ops[top->op];
		if(open->len != b - a || memcmp(p->t->src + open->off, name, b - a) != 0)
			return fail(p, p->line, "template_syntax", "{{/%.*s}} closes {{%c%.*s}}",
			            name_len, name, open->inverted ? '^' : '#',
			            echo_len(p->t->src + open->off, open->len, WORD_ECHO),
			            p->t->src + open->off);
		size_t close = emit(p->t, OP_CLOSE, off + a, b - a);
		p->t->ops[top->op].jump = close;
		p->depth--;
		return OTD_OK;
	}
	if(!known(p, name, b - a))
		return fail(p, p->line, "template_variable", "unknown variable {{%.*s%.*s}}",
		            sigil ? 1 : 0, s, name_len, name);
	if(!sigil) {
		emit(p->t, OP_VAR, off + a, b - a);
		return OTD_OK;
	}
	if(p->depth == OTD_TEMPLATE_MAX_DEPTH)
		return fail(p, p->line, "template_syntax", "blocks nested deeper than %d",
		            OTD_TEMPLATE_MAX_DEPTH);
	size_t i = emit(p->t, OP_OPEN, off + a, b - a);
	p->t->ops[i].inverted = sigil == '^';
	p->stack[p->depth++] = (struct open_block){.op = i, .line = p->line};
	return OTD_OK;
}

/* True when src[off, off + n) is one block tag and blanks: such a line
 * leaves no line behind. Sets the tag's inside. */
static bool standalone(const char *src, size_t off, size_t n, size_t *tag_off, size_t *tag_n)
{
	const char *s = src + off;
	size_t a = 0, b = n;
	while(a < b && is_blank(s[a]))
		a++;
	while(b > a && is_blank(s[b - 1]))
		b--;
	if(b - a < 5 || memcmp(s + a, "{{", 2) != 0 || memcmp(s + b - 2, "}}", 2) != 0)
		return false;
	if(s[a + 2] != '#' && s[a + 2] != '^' && s[a + 2] != '/')
		return false;
	const char *close = memmem(s + a + 2, b - a - 2, "}}", 2);
	if(close != s + b - 2)
		return false;
	*tag_off = off + a + 2;
	*tag_n = b - a - 4;
	return true;
}

/* A line of a section: src[off, off + n), without its line end. */
static enum otd_status content_line(struct parser *p, size_t off, size_t n)
{
	const char *src = p->t->src;
	size_t tag_off, tag_n;
	if(standalone(src, off, n, &tag_off, &tag_n))
		return tag(p, tag_off, tag_n);

	size_t i = 0;
	while(i < n) {
		const char *s = src + off;
		const char *open = memmem(s + i, n - i, "{{", 2);
		size_t j = open ? (size_t)(open - s) : n;
		if(j > i)
			emit(p->t, OP_TEXT, off + i, j - i);
		if(!open)
			break;
		const char *close = memmem(s + j + 2, n - j - 2, "}}", 2);
		if(!close)
			return fail(p, p->line, "template_syntax",
			            "{{ without }} (a tag ends on its own line)");
		enum otd_status st = tag(p, off + j + 2, (size_t)(close - (s + j + 2)));
		if(st)
			return st;
		i = (size_t)(close - s) + 2;
	}
	emit(p->t, OP_NEWLINE, 0, 0);
	return OTD_OK;
}

/* Closes the current section, if any. */
static enum otd_status end_section(struct parser *p)
{
	if(p->section < 0)
		return OTD_OK;
	if(p->depth > 0) {
		const struct open_block *top = &p->stack[p->depth - 1];
		const struct op *open = &p->t->ops[top->op];
		return fail(p, top->line, "template_syntax", "{{%c%.*s}} is not closed in [%s]",
		            open->inverted ? '^' : '#',
		            echo_len(p->t->src + open->off, open->len, WORD_ECHO),
		            p->t->src + open->off, section_names[p->section]);
	}
	struct section *sec = &p->t->sections[p->section];
	sec->count = p->t->n_ops - sec->first;
	return OTD_OK;
}

/* When src[off, off + n) is a section line "[name]" (blanks may follow),
 * sets the name's position and returns true. */
static bool header(const char *src, size_t off, size_t n, size_t *name_off, size_t *name_n)
{
	const char *s = src + off;
	if(n < 3 || s[0] != '[')
		return false;
	size_t i = 1;
	while(i < n && (is_name_char(s[i]) || s[i] == '-'))
		i++;
	if(i == 1 || i == n || s[i] != ']')
		return false;
	for(size_t j = i + 1; j < n; j++)
		if(!is_blank(s[j]))
			return false;
	*name_off = off + 1;
	*name_n = i - 1;
	return true;
}

static enum otd_status start_section(struct parser *p, size_t name_off, size_t name_n)
{
	const char *name = p->t->src + name_off;
	enum otd_status st = end_section(p);
	if(st)
		return st;
	int id = -1;
	for(int i = 0; i < SEC_COUNT; i++)
		if(strlen(section_names[i]) == name_n &&
		   memcmp(section_names[i], name, name_n) == 0)
			id = i;
	if(id < 0)
		return fail(
		    p, p->line, "template_section",
		    "unknown section [%.*s] (the sections are [subject], [text], [html] and "
		    "[sms])",
		    echo_len(name, name_n, WORD_ECHO), name);
	if(p->t->sections[id].present)
		return fail(p, p->line, "template_section",
		            "section [%s] appears twice (first on line %zu)", section_names[id],
		            p->header_line[id]);
	p->section = id;
	p->header_line[id] = p->line;
	p->t->sections[id].present = true;
	p->t->sections[id].first = p->t->n_ops;
	return OTD_OK;
}

/* Checks that src[off, off + n) is UTF-8 without NUL bytes. */
static enum otd_status check_encoding(struct parser *p, size_t off, size_t n)
{
	const unsigned char *s = (const unsigned char *)p->t->src + off;
	for(size_t i = 0; i < n;) {
		if(s[i] == 0)
			return fail(p, p->line, "template_encoding", "a NUL byte");
		size_t k = otd_utf8_char(s + i, n - i);
		if(k == 0)
			return fail(p, p->line, "template_encoding",
			            "invalid UTF-8 (byte 0x%02X at column %zu)", s[i], i + 1);
		i += k;
	}
	return OTD_OK;
}

static enum otd_status parse_lines(struct parser *p, size_t len)
{
	const char *src = p->t->src;
	size_t pos = 0;
	enum otd_status st;

	/* Editors on Windows write a byte order mark; it is not text. */
	if(len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0)
		pos = 3;
	for(p->line = 1; pos < len; p->line++) {
		const char *nl = memchr(src + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - src) : len;
		size_t next = nl ? end + 1 : len;
		size_t n = end - pos;
		if(n > 0 && src[end - 1] == '\r')
			n--;
		st = check_encoding(p, pos, end - pos);
		if(st)
			return st;

		size_t name_off, name_n;
		if(header(src, pos, n, &name_off, &name_n)) {
			st = start_section(p, name_off, name_n);
		} else if(p->section >= 0) {
			st = content_line(p, pos, n);
		} else {
			bool blank = true;
			for(size_t i = 0; i < n; i++)
				blank = blank && is_blank(src[pos + i]);
			if(!blank && src[pos] != '#')
				st = fail(
				    p, p->line, "template_section",
				    "text before the first section (a section starts with a line "
				    "like [text]; a comment line starts with #)");
		}
		if(st)
			return st;
		pos = next;
	}
	/* p->line is one past the last line. */
	size_t last = p->line > 1 ? p->line - 1 : 1;
	if(p->section < 0)
		return fail(p, last, "template_section",
		            "no section (a section starts with a line like [text])");
	return end_section(p);
}

enum otd_status otd_template_parse(const char *name, const char *text, size_t len,
                                   const char *const *known_vars, size_t n_known,
                                   struct otd_template **out, struct otd_error *err)
{
	struct otd_template *t = xcalloc(1, sizeof(*t));
	struct parser p = {
	    .name = name ? name : "template",
	    .known = known_vars,
	    .n_known = known_vars ? n_known : 0,
	    .t = t,
	    .err = err,
	    .section = -1,
	};
	p.name_len = strlen(p.name);
	t->src = xmalloc(len + 1);
	if(len)
		memcpy(t->src, text, len);
	t->src[len] = '\0';

	enum otd_status st = parse_lines(&p, len);
	if(st) {
		otd_template_free(t);
		*out = NULL;
		return st;
	}
	*out = t;
	return OTD_OK;
}

static int section_id(const char *section)
{
	for(int i = 0; section && i < SEC_COUNT; i++)
		if(strcmp(section, section_names[i]) == 0)
			return i;
	return -1;
}

bool otd_template_has(const struct otd_template *t, const char *section)
{
	int id = section_id(section);
	return t && id >= 0 && t->sections[id].present;
}

/* The value given for the variable of op, or NULL. */
static const char *lookup(const struct otd_template *t, const struct op *op,
                          const char *const *names, const char *const *values, size_t n)
{
	const char *name = t->src + op->off;
	for(size_t i = 0; i < n; i++)
		if(names[i] && strlen(names[i]) == op->len && memcmp(names[i], name, op->len) == 0)
			return values[i];
	return NULL;
}

/* Joins the lines of s into one, in place: each stripped of blanks, empty
 * ones dropped, the rest separated by one space. */
static void join_lines(char *s)
{
	char *w = s;
	const char *r = s;
	bool first = true;
	while(*r) {
		const char *e = r + strcspn(r, "\r\n");
		const char *a = r, *z = e;
		while(a < z && is_blank(*a))
			a++;
		while(z > a && is_blank(z[-1]))
			z--;
		if(z > a) {
			/* w stays behind a: at least the line end just passed lies between. */
			if(!first)
				*w++ = ' ';
			memmove(w, a, (size_t)(z - a));
			w += z - a;
			first = false;
		}
		r = *e ? e + 1 : e;
	}
	*w = '\0';
}

char *otd_template_render(const struct otd_template *t, const char *section,
                          const char *const *names, const char *const *values, size_t n)
{
	int id = section_id(section);
	if(!t || id < 0 || !t->sections[id].present)
		return NULL;
	const struct section *sec = &t->sections[id];
	struct otd_buf b;
	otd_buf_init(&b, 0);
	for(size_t i = sec->first; i < sec->first + sec->count; i++) {
		const struct op *op = &t->ops[i];
		const char *v;
		switch(op->kind) {
		case OP_TEXT: otd_buf_append(&b, t->src + op->off, op->len); break;
		case OP_NEWLINE: otd_buf_append(&b, "\n", 1); break;
		case OP_VAR:
			v = lookup(t, op, names, values, n);
			if(v && id == SEC_HTML)
				otd_html_escape(&b, v);
			else if(v)
				otd_buf_puts(&b, v);
			break;
		case OP_OPEN:
			v = lookup(t, op, names, values, n);
			if((v && v[0]) == op->inverted) {
				assert(op->jump > i && op->jump < sec->first + sec->count);
				i = op->jump; /* past its OP_CLOSE */
			}
			break;
		case OP_CLOSE: break;
		}
	}
	char *s = otd_buf_steal(&b);
	size_t len = strlen(s);
	while(len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		s[--len] = '\0';
	if(id == SEC_SUBJECT || id == SEC_SMS)
		join_lines(s);
	return s;
}

void otd_template_free(struct otd_template *t)
{
	if(!t)
		return;
	free(t->src);
	free(t->ops);
	free(t);
}
