/* onthedot: allocation that never returns NULL, and a capped growable buffer.
 *
 * The x* wrappers abort the process on out-of-memory: there is no sensible
 * recovery in a request thread, and a NULL check at every call site is
 * where bugs hide. Input-driven growth goes through struct otd_buf, whose
 * cap turns "too much input" into an error the caller reports (413, a line
 * number), never a silent truncation. */
#ifndef ONTHEDOT_MEM_H
#define ONTHEDOT_MEM_H

#include <stdbool.h>
#include <stddef.h>

/* malloc/calloc/realloc/strdup/strndup that abort with a message on failure.
 * The caller owns the result and frees it with free(). */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* printf into a new heap string the caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct otd_buf {
	char *data;  /* always NUL-terminated when len > 0 or after any append */
	size_t len;  /* bytes used, excluding the NUL */
	size_t size; /* bytes allocated */
	size_t cap;  /* hard limit on len; 0 means unlimited */
};

/* Starts an empty buffer that may hold at most cap bytes (0: unlimited). */
void otd_buf_init(struct otd_buf *b, size_t cap);

/* Frees the buffer's memory and leaves it empty and reusable. */
void otd_buf_cleanup(struct otd_buf *b);

/* Appends n bytes. Returns false, appending nothing, when the result would
 * exceed the cap. */
bool otd_buf_append(struct otd_buf *b, const void *data, size_t n);

/* Appends a NUL-terminated string; false when over the cap. */
bool otd_buf_puts(struct otd_buf *b, const char *s);

/* Appends printf output; false when over the cap. */
bool otd_buf_printf(struct otd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hands the data to the caller (who frees it) and leaves b empty. Never
 * NULL: an empty buffer yields "". */
char *otd_buf_steal(struct otd_buf *b);

#endif
