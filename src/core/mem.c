/* Aborting allocators and the capped buffer. */
#include "onthedot/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
	/* fprintf may itself allocate; write a fixed message instead. */
	static const char msg[] = "onthedot: out of memory\n";
	(void)n;
	fwrite(msg, 1, sizeof(msg) - 1, stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if(!p)
		oom(n);
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);
	if(!p)
		oom(count * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if(!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if(n < 0)
		oom(0);
	char *p = xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return p;
}

void otd_buf_init(struct otd_buf *b, size_t cap)
{
	b->data = NULL;
	b->len = 0;
	b->size = 0;
	b->cap = cap;
}

void otd_buf_cleanup(struct otd_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->size = 0;
}

static bool reserve(struct otd_buf *b, size_t extra)
{
	if(b->cap && (extra > b->cap || b->len > b->cap - extra))
		return false;
	size_t need = b->len + extra + 1;
	if(need <= b->size)
		return true;
	size_t size = b->size ? b->size : 256;
	while(size < need)
		size *= 2;
	b->data = xrealloc(b->data, size);
	b->size = size;
	return true;
}

bool otd_buf_append(struct otd_buf *b, const void *data, size_t n)
{
	if(!reserve(b, n))
		return false;
	if(n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return true;
}

bool otd_buf_puts(struct otd_buf *b, const char *s)
{
	return otd_buf_append(b, s, strlen(s));
}

bool otd_buf_printf(struct otd_buf *b, const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if(n < 0 || !reserve(b, (size_t)n)) {
		va_end(ap2);
		return false;
	}
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	b->len += (size_t)n;
	return true;
}

char *otd_buf_steal(struct otd_buf *b)
{
	char *p = b->data;
	if(!p)
		p = xstrdup("");
	b->data = NULL;
	b->len = 0;
	b->size = 0;
	return p;
}
