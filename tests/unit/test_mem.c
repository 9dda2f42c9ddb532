/* Unit tests: the aborting allocators and the capped buffer (core/mem.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "testutil.h"

START_TEST(string_helpers_copy_exactly)
{
	char *s = xstrdup("hello");
	ck_assert_str_eq(s, "hello");
	free(s);
	s = xstrndup("hello", 3);
	ck_assert_str_eq(s, "hel");
	free(s);
	s = xstrndup("hi", 10); /* n beyond the string stops at its end */
	ck_assert_str_eq(s, "hi");
	free(s);
	s = xstrdup("");
	ck_assert_str_eq(s, "");
	free(s);
	s = xasprintf("%s-%d-%05.1f", "x", -3, 2.25);
	ck_assert_str_eq(s, "x--3-002.2");
	free(s);
	/* Zero-size requests still give a pointer one can free. */
	void *p = xmalloc(0);
	ck_assert_ptr_nonnull(p);
	free(p);
	p = xcalloc(0, 8);
	ck_assert_ptr_nonnull(p);
	free(p);
	unsigned char *z = xcalloc(16, 4);
	for(int i = 0; i < 64; i++)
		ck_assert_int_eq(z[i], 0);
	z = xrealloc(z, 4096);
	ck_assert_int_eq(z[63], 0); /* kept */
	free(z);
}
END_TEST

START_TEST(append_up_to_the_cap_and_not_beyond)
{
	struct otd_buf b;
	otd_buf_init(&b, 5);
	ck_assert_ptr_null(b.data);
	ck_assert(otd_buf_append(&b, "abc", 3));
	ck_assert(otd_buf_append(&b, "de", 2)); /* exactly the cap */
	ck_assert_uint_eq(b.len, 5);
	ck_assert_str_eq(b.data, "abcde");
	char *before = b.data;
	size_t size = b.size;
	/* One byte over: refused, and nothing of it appended. */
	ck_assert(!otd_buf_append(&b, "f", 1));
	ck_assert(!otd_buf_puts(&b, "fg"));
	ck_assert(!otd_buf_printf(&b, "%d", 7));
	ck_assert_uint_eq(b.len, 5);
	ck_assert_uint_eq(b.size, size);
	ck_assert_ptr_eq(b.data, before);
	ck_assert_str_eq(b.data, "abcde");
	/* Nothing more always fits. */
	ck_assert(otd_buf_append(&b, "", 0));
	ck_assert(otd_buf_printf(&b, "%s", ""));
	ck_assert_str_eq(b.data, "abcde");
	/* A length that would overflow is refused, not wrapped. */
	ck_assert(!otd_buf_append(&b, "x", SIZE_MAX));
	ck_assert(!otd_buf_append(&b, "x", SIZE_MAX - 2));
	ck_assert_uint_eq(b.len, 5);
	otd_buf_cleanup(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	/* Reusable after cleanup, with the same cap. */
	ck_assert(otd_buf_puts(&b, "12345"));
	ck_assert(!otd_buf_puts(&b, "6"));
	ck_assert_str_eq(b.data, "12345");
	otd_buf_cleanup(&b);
}
END_TEST

START_TEST(a_refused_printf_leaves_the_buffer_as_it_was)
{
	struct otd_buf b;
	otd_buf_init(&b, 12);
	ck_assert(otd_buf_printf(&b, "%s=%d;", "a", 1));
	ck_assert_str_eq(b.data, "a=1;");
	ck_assert(!otd_buf_printf(&b, "%s=%d;", "longname", 12345));
	ck_assert_uint_eq(b.len, 4);
	ck_assert_str_eq(b.data, "a=1;");
	ck_assert(otd_buf_printf(&b, "%s=%d;", "bb", 22));
	ck_assert_str_eq(b.data, "a=1;bb=22;");
	ck_assert_uint_eq(b.len, 10);
	otd_buf_cleanup(&b);
}
END_TEST

START_TEST(unlimited_buffers_grow_and_stay_terminated)
{
	struct otd_buf b;
	otd_buf_init(&b, 0);
	/* An empty append already gives a terminated string. */
	ck_assert(otd_buf_append(&b, "", 0));
	ck_assert_ptr_nonnull(b.data);
	ck_assert_str_eq(b.data, "");
	for(int i = 0; i < 100000; i++)
		ck_assert(otd_buf_printf(&b, "%05d", i));
	ck_assert_uint_eq(b.len, 500000);
	ck_assert_uint_eq(strlen(b.data), 500000);
	ck_assert(memcmp(b.data, "000000000100002", 15) == 0);
	ck_assert(memcmp(b.data + b.len - 5, "99999", 5) == 0);
	ck_assert_uint_ge(b.size, b.len + 1);
	/* Binary data with a NUL inside counts in len. */
	otd_buf_cleanup(&b);
	ck_assert(otd_buf_append(&b, "a\0b", 3));
	ck_assert_uint_eq(b.len, 3);
	ck_assert_int_eq(b.data[1], '\0');
	ck_assert_int_eq(b.data[3], '\0');
	otd_buf_cleanup(&b);
}
END_TEST

START_TEST(steal_hands_over_the_data_and_empties_the_buffer)
{
	struct otd_buf b;
	otd_buf_init(&b, 100);
	char *s = otd_buf_steal(&b); /* empty: "" rather than NULL */
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "");
	free(s);
	ck_assert(otd_buf_puts(&b, "first"));
	s = otd_buf_steal(&b);
	ck_assert_str_eq(s, "first");
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_uint_eq(b.size, 0);
	/* The buffer starts again, cap kept; the stolen string is unaffected. */
	ck_assert(otd_buf_puts(&b, "second"));
	ck_assert_str_eq(b.data, "second");
	ck_assert_str_eq(s, "first");
	free(s);
	char big[101];
	memset(big, 'x', 100);
	big[100] = '\0';
	ck_assert(!otd_buf_puts(&b, big)); /* 6 + 100 > 100 */
	otd_buf_cleanup(&b);
	ck_assert(otd_buf_puts(&b, big));
	s = otd_buf_steal(&b);
	ck_assert_uint_eq(strlen(s), 100);
	free(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mem");
	TCase *tc = tcase_create("mem");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, string_helpers_copy_exactly);
	tcase_add_test(tc, append_up_to_the_cap_and_not_beyond);
	tcase_add_test(tc, a_refused_printf_leaves_the_buffer_as_it_was);
	tcase_add_test(tc, unlimited_buffers_grow_and_stay_terminated);
	tcase_add_test(tc, steal_hands_over_the_data_and_empties_the_buffer);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
