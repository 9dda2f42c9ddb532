/* Unit tests: email header fields (core/mail.c). Every header built here
 * is taken apart again as a mail reader would: lines split at CRLF (each
 * fold must be CRLF + space, no bare CR or LF, no line over 78 characters,
 * or 76 where it carries an encoded word), encoded words base64-decoded
 * and compared with what went in, each word on its own valid UTF-8. Names
 * as people type them (Zoë O'Brien-Nguyễn, Łukasz), a hostile name that is
 * plain ASCII with specials, header injection through the subject, the
 * name and the address; dates and stable Message-IDs (expected values
 * from Python's datetime and hashlib.blake2b(digest_size=16)). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "onthedot/mail.h"
#include "onthedot/mem.h"
#include "onthedot/utf8.h"
#include "testutil.h"

#define XSS "<img src=x onerror=alert(1)>"

static bool valid_utf8(const unsigned char *s, size_t n)
{
	for(size_t i = 0; i < n;) {
		size_t k = otd_utf8_char(s + i, n - i);
		if(k == 0)
			return false;
		i += k;
	}
	return true;
}

/* Checks the shape of header field h, then returns its value unfolded
 * (CRLF removed) with encoded words decoded (white space between two
 * encoded words dropped, RFC 2047 section 6.2), as a heap string. Counts
 * the encoded words in *words. */
static char *read_header(const char *h, const char *name, int *words)
{
	size_t nlen = strlen(name);
	ck_assert_msg(strncmp(h, name, nlen) == 0 && h[nlen] == ':' && h[nlen + 1] == ' ', "%s", h);
	/* Lines: CRLF only as a fold, each line within its limit. */
	for(const char *line = h;;) {
		const char *end = strstr(line, "\r\n");
		size_t len = end ? (size_t)(end - line) : strlen(line);
		ck_assert_ptr_null(memchr(line, '\r', len));
		ck_assert_ptr_null(memchr(line, '\n', len));
		bool encoded = memmem(line, len, "=?", 2) != NULL;
		ck_assert_msg(len <= (encoded ? 76u : 78u), "line of %zu: %.*s", len, (int)len,
		              line);
		ck_assert_msg(len > 0 && strspn(line, " ") < len, "empty or blank line in %s", h);
		if(!end)
			break;
		ck_assert_msg(end[2] == ' ', "CRLF not followed by a space in %s", h);
		line = end + 2;
	}
	struct otd_buf out;
	otd_buf_init(&out, 0);
	*words = 0;
	const char *p = h + nlen + 2;
	bool after_word = false;
	size_t word_end = 0;
	while(*p) {
		if(strncmp(p, "\r\n", 2) == 0) {
			p += 2;
			continue;
		}
		if(strncmp(p, "=?", 2) == 0) {
			ck_assert_msg(strncmp(p, "=?UTF-8?B?", 10) == 0, "%s", p);
			const char *b64 = p + 10, *end = strstr(b64, "?=");
			ck_assert_ptr_nonnull(end);
			ck_assert_int_le(end + 2 - p, 75);
			/* After an encoded word: white space, then another or the end
			 * (or '<' in a mailbox), never glued to text. */
			ck_assert(end[2] == '\0' || end[2] == ' ' || end[2] == '\r');
			unsigned char bin[64];
			size_t n = 0;
			ck_assert_int_eq(sodium_base642bin(bin, sizeof(bin), b64,
			                                   (size_t)(end - b64), NULL, &n, NULL,
			                                   sodium_base64_VARIANT_ORIGINAL),
			                 0);
			ck_assert_msg(valid_utf8(bin, n), "a word splits a character: %.*s",
			              (int)(end + 2 - p), p);
			/* Drop the white space between two encoded words. */
			if(after_word)
				out.len = word_end;
			otd_buf_append(&out, bin, n);
			word_end = out.len;
			(*words)++;
			p = end + 2;
			after_word = true;
			continue;
		}
		if(*p != ' ')
			after_word = false;
		otd_buf_append(&out, p, 1);
		p++;
	}
	return otd_buf_steal(&out);
}

/* Builds Subject: text, checks it decodes back to text, and returns it. */
static char *subject(const char *text, int *words)
{
	char *h = NULL;
	struct otd_error e;
	otd_error_clear(&e);
	ck_assert_int_eq(otd_mail_header_text("Subject", text, &h, &e), OTD_OK);
	char *back = read_header(h, "Subject", words);
	ck_assert_str_eq(back, text);
	free(back);
	return h;
}

START_TEST(plain_subject_stays_as_it_is)
{
	int words;
	char *h = subject("Your visit on Tuesday 3 March, 10:00 to 11:00", &words);
	ck_assert_str_eq(h, "Subject: Your visit on Tuesday 3 March, 10:00 to 11:00");
	ck_assert_int_eq(words, 0);
	free(h);
	h = subject("", &words);
	ck_assert_str_eq(h, "Subject: ");
	free(h);
	/* Specials mean nothing in unstructured text. */
	h = subject(XSS " \"quoted\" (c) a@b; x=y ?= =", &words);
	ck_assert_str_eq(h, "Subject: " XSS " \"quoted\" (c) a@b; x=y ?= =");
	free(h);
}
END_TEST

START_TEST(long_plain_subject_folds_before_spaces)
{
	const char *text = "Ann, your gas engineer, will come on Tuesday 3 March between 10:00 "
	                   "and 11:00 to repair the boiler at 1 High St, Flat A, Wrenfield, AB1 "
	                   "2CD; call Priya Shah on 01632 960123 to change it";
	int words;
	char *h = subject(text, &words);
	ck_assert_int_eq(words, 0);
	ck_assert_ptr_nonnull(strstr(h, "\r\n "));
	ck_assert_str_eq(
	    h, "Subject: Ann, your gas engineer, will come on Tuesday 3 March between "
	       "10:00\r\n and 11:00 to repair the boiler at 1 High St, Flat A, Wrenfield, "
	       "AB1 2CD; call\r\n Priya Shah on 01632 960123 to change it");
	free(h);
	/* Runs of spaces survive, and no line is only spaces. */
	char *spaced = xasprintf("%70s%70s%s", "a   b", "c  ", "   d");
	h = subject(spaced, &words);
	ck_assert_int_eq(words, 0);
	free(h);
	free(spaced);
	/* A word too long for any line cannot be folded: encoded instead. */
	char long_word[101];
	memset(long_word, 'x', 100);
	long_word[100] = '\0';
	h = subject(long_word, &words);
	ck_assert_str_eq(
	    h, "Subject: =?UTF-8?B?eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4?=\r\n"
	       " =?UTF-8?B?eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4?=\r\n"
	       " =?UTF-8?B?eHh4eHh4eHh4eHh4eHh4eA==?=");
	ck_assert_int_eq(words, 3);
	free(h);
}
END_TEST

START_TEST(non_ascii_subject_is_encoded_words)
{
	int words;
	char *h = subject("Zoë O'Brien-Nguyễn, your visit is booked", &words);
	ck_assert_str_eq(h,
	                 "Subject: =?UTF-8?B?Wm/DqyBPJ0JyaWVuLU5ndXnhu4VuLCB5b3VyIHZpc2l0IGlzIGJv?="
	                 "\r\n =?UTF-8?B?b2tlZA==?=");
	ck_assert_int_eq(words, 2);
	free(h);
	h = subject("Łukasz", &words);
	ck_assert_str_eq(h, "Subject: =?UTF-8?B?xYF1a2Fzeg==?=");
	free(h);
}
END_TEST

START_TEST(encoded_words_never_split_a_character)
{
	/* Three-, two- and four-byte characters at every offset against the
	 * 39- and 45-byte word limits. */
	const char *units[] = {"ễ", "ë", "😀", "aễ", "abễ", "a😀", "ab😀", "abc😀", "€ë"};
	for(size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		struct otd_buf b;
		otd_buf_init(&b, 0);
		for(int i = 0; i < 60; i++)
			otd_buf_puts(&b, units[u]);
		int words;
		char *h = subject(b.data, &words);
		ck_assert_int_ge(words, 2);
		free(h);
		otd_buf_cleanup(&b);
	}
	/* The longest header value accepted. */
	char *big = xmalloc(OTD_MAIL_TEXT_MAX + 2);
	for(int i = 0; i < OTD_MAIL_TEXT_MAX; i++)
		big[i] = (char)('a' + i % 26);
	big[OTD_MAIL_TEXT_MAX] = '\0';
	int words;
	char *h = subject(big, &words);
	free(h);
	/* One byte more is refused, not cut. */
	big[OTD_MAIL_TEXT_MAX] = 'a';
	big[OTD_MAIL_TEXT_MAX + 1] = '\0';
	struct otd_error e;
	otd_error_clear(&e);
	ck_assert_int_eq(otd_mail_header_text("Subject", big, &h, &e), OTD_ETOOBIG);
	ck_assert_ptr_null(h);
	ck_assert_str_eq(e.code, "text_too_long");
	free(big);
}
END_TEST

START_TEST(subject_cannot_inject_a_header)
{
	const char *attacks[] = {"x\r\nBcc: evil@x", "x\nBcc: evil@x", "x\rBcc: evil@x",
	                         "x\r\n\r\nbody",    "tab\there",      "=?UTF-8?B?SGk=?="};
	for(size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
		int words;
		char *h = subject(attacks[i], &words);
		ck_assert_int_ge(words, 1);
		ck_assert_ptr_null(strstr(h, "Bcc"));
		free(h);
	}
}
END_TEST

START_TEST(bad_subject_input_is_refused)
{
	char *h = (char *)"untouched";
	struct otd_error e;
	otd_error_clear(&e);
	ck_assert_int_eq(otd_mail_header_text("Subject", "Zo\xc3", &h, &e), OTD_EINVAL);
	ck_assert_ptr_null(h);
	ck_assert_str_eq(e.code, "invalid_utf8");
	const char *names[] = {"",
	                       "Sub ject",
	                       "X:Y",
	                       "Subject\r\nBcc",
	                       "Ünterwerfen",
	                       "A-very-long-header-field-name-over-30"};
	for(size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ck_assert_int_eq(otd_mail_header_text(names[i], "x", &h, &e), OTD_EINVAL);
		ck_assert_str_eq(e.code, "invalid_header_name");
		ck_assert_ptr_null(h);
	}
	ck_assert_int_eq(otd_mail_header_text("Subject", "\xff", &h, NULL), OTD_EINVAL);
}
END_TEST

/* Builds a mailbox field, checks its shape and that the display name
 * decodes back, and returns it. */
static char *mailbox(const char *display, const char *addr, int *words)
{
	char *h = NULL;
	struct otd_error e;
	otd_error_clear(&e);
	ck_assert_int_eq(otd_mail_header_mailbox("To", display, addr, &h, &e), OTD_OK);
	char *back = read_header(h, "To", words);
	if(*words > 0) {
		char *want = xasprintf("%s <%s>", display, addr);
		ck_assert_str_eq(back, want);
		free(want);
	}
	free(back);
	return h;
}

START_TEST(mailbox_with_ascii_name_is_quoted)
{
	int words;
	char *h = mailbox("Ann Smith", "ann@example.org", &words);
	ck_assert_str_eq(h, "To: \"Ann Smith\" <ann@example.org>");
	free(h);
	h = mailbox(XSS, "x@example.org", &words);
	ck_assert_str_eq(h, "To: \"" XSS "\" <x@example.org>");
	free(h);
	h = mailbox("Ann \"The Gasket\" O\\Brien, Esq.", "ann@example.org", &words);
	ck_assert_str_eq(h, "To: \"Ann \\\"The Gasket\\\" O\\\\Brien, Esq.\" <ann@example.org>");
	ck_assert_int_eq(words, 0);
	free(h);
	/* A long name: the address goes to the next line. */
	h = mailbox("Wrenfield Water Dispatch and Customer Care, North Region Team",
	            "dispatch@wrenfield-water.example.org", &words);
	ck_assert_str_eq(h, "To: \"Wrenfield Water Dispatch and Customer Care, North Region Team\""
	                    "\r\n <dispatch@wrenfield-water.example.org>");
	free(h);
}
END_TEST

START_TEST(mailbox_without_name_is_bare)
{
	int words;
	char *h = mailbox("", "ann@example.org", &words);
	ck_assert_str_eq(h, "To: <ann@example.org>");
	free(h);
	struct otd_error e;
	ck_assert_int_eq(otd_mail_header_mailbox("From", NULL, "ann@example.org", &h, &e), OTD_OK);
	ck_assert_str_eq(h, "From: <ann@example.org>");
	free(h);
}
END_TEST

START_TEST(mailbox_with_non_ascii_name_is_encoded)
{
	int words;
	char *h = mailbox("Zoë O'Brien-Nguyễn", "zoe@example.org", &words);
	ck_assert_str_eq(h, "To: =?UTF-8?B?Wm/DqyBPJ0JyaWVuLU5ndXnhu4Vu?= <zoe@example.org>");
	ck_assert_int_eq(words, 1);
	free(h);
	h = mailbox("Łukasz", "lukasz@example.org", &words);
	ck_assert_str_eq(h, "To: =?UTF-8?B?xYF1a2Fzeg==?= <lukasz@example.org>");
	free(h);
	/* Long names fold between words; the address follows on its line or
	 * the next. */
	h = mailbox("Zoë O'Brien-Nguyễn Łukasz Wróblewski-Ærøskøbing and family", "zoe@example.org",
	            &words);
	ck_assert_int_eq(words, 2);
	free(h);
	h = mailbox("Zoë", "a-very-long-address-for-the-family-account@mail.wrenfield.example.org",
	            &words);
	ck_assert_str_eq(
	    h, "To: =?UTF-8?B?Wm/Dqw==?=\r\n"
	       " <a-very-long-address-for-the-family-account@mail.wrenfield.example.org>");
	free(h);
	/* "=?" and long ASCII names go as encoded words too. */
	h = mailbox("=?UTF-8?B?SGk=?=", "ann@example.org", &words);
	ck_assert_int_eq(words, 1);
	free(h);
	char long_name[121];
	memset(long_name, 'n', 120);
	long_name[120] = '\0';
	h = mailbox(long_name, "ann@example.org", &words);
	ck_assert_int_ge(words, 2);
	free(h);
}
END_TEST

START_TEST(mailbox_cannot_inject_a_header)
{
	const char *bad[] = {"x\r\nBcc: evil@x",
	                     "ann@example.org\r\nBcc: evil@x",
	                     "ann@example.org\nBcc: evil@x",
	                     "ann@exam\rple.org",
	                     "ann smith@example.org",
	                     "<ann@example.org>",
	                     "ann@example.org>",
	                     "a@b@example.org",
	                     "ann.example.org",
	                     "@example.org",
	                     "ann@",
	                     "ann@example.org,evil@x",
	                     "ann@example.org;evil@x",
	                     "\"a\"@example.org",
	                     "a\\b@example.org",
	                     "ann(c)@example.org",
	                     "ann\t@example.org",
	                     "zoë@example.org",
	                     "",
	                     "a@"};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *h = (char *)"untouched";
		struct otd_error e;
		otd_error_clear(&e);
		ck_assert_int_eq(otd_mail_header_mailbox("To", "Ann", bad[i], &h, &e), OTD_EINVAL);
		ck_assert_str_eq(e.code, "invalid_address");
		ck_assert_ptr_null(h);
	}
	/* Through the display name: encoded, the line breaks inert. */
	int words;
	char *h = mailbox("Ann\r\nBcc: evil@x", "ann@example.org", &words);
	ck_assert_int_eq(words, 1);
	ck_assert_ptr_null(strstr(h, "Bcc"));
	free(h);
	h = mailbox("Ann\" <evil@x>, \"Bob", "ann@example.org", &words);
	ck_assert_str_eq(h, "To: \"Ann\\\" <evil@x>, \\\"Bob\" <ann@example.org>");
	free(h);
	struct otd_error e;
	ck_assert_int_eq(otd_mail_header_mailbox("To", "Zo\xc3", "a@b", &h, &e), OTD_EINVAL);
	ck_assert_str_eq(e.code, "invalid_utf8");
	ck_assert_int_eq(otd_mail_header_mailbox("To\r\nBcc", "Ann", "a@b", &h, &e), OTD_EINVAL);
	ck_assert_str_eq(e.code, "invalid_header_name");
}
END_TEST

START_TEST(dates_are_rfc5322_in_utc)
{
	char out[OTD_MAIL_DATE_SIZE];
	const struct {
		int64_t t;
		const char *want;
	} cases[] = {
	    {1772532000, "Tue, 03 Mar 2026 10:00:00 +0000"},
	    {0, "Thu, 01 Jan 1970 00:00:00 +0000"},
	    {-1, "Wed, 31 Dec 1969 23:59:59 +0000"},
	    {1709251199, "Thu, 29 Feb 2024 23:59:59 +0000"},
	    {946684800, "Sat, 01 Jan 2000 00:00:00 +0000"},
	    {-2208988800, "Mon, 01 Jan 1900 00:00:00 +0000"},
	    {253402300799, "Fri, 31 Dec 9999 23:59:59 +0000"},
	    /* 2026-03-29 01:00Z: London's clocks change; the date does not care. */
	    {1774746000, "Sun, 29 Mar 2026 01:00:00 +0000"},
	};
	for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_uint_eq(otd_mail_date(cases[i].t, out, sizeof(out)),
		                  strlen(cases[i].want));
		ck_assert_str_eq(out, cases[i].want);
	}
	ck_assert_uint_eq(strlen(cases[0].want) + 1, OTD_MAIL_DATE_SIZE);
	/* Too small, or a year RFC 5322 cannot write: "" and 0. */
	ck_assert_uint_eq(otd_mail_date(0, out, OTD_MAIL_DATE_SIZE - 1), 0);
	ck_assert_str_eq(out, "");
	ck_assert_uint_eq(otd_mail_date(-2208988801, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "");
	ck_assert_uint_eq(otd_mail_date(253402300800, out, sizeof(out)), 0);
	ck_assert_uint_eq(otd_mail_date(0, NULL, 0), 0);
}
END_TEST

START_TEST(message_ids_are_stable_per_key)
{
	char a[OTD_MAIL_MESSAGE_ID_SIZE], b[OTD_MAIL_MESSAGE_ID_SIZE];
	struct otd_error e;
	otd_error_clear(&e);
	ck_assert_int_eq(
	    otd_mail_message_id("appt:42:booked:v3", "visits.example.org", a, sizeof(a), &e),
	    OTD_OK);
	ck_assert_str_eq(a, "<61edefcbaff280c501e3f7a043a6ca79@visits.example.org>");
	ck_assert_int_eq(
	    otd_mail_message_id("appt:42:booked:v3", "visits.example.org", b, sizeof(b), &e),
	    OTD_OK);
	ck_assert_str_eq(a, b);
	ck_assert_int_eq(
	    otd_mail_message_id("appt:42:booked:v4", "visits.example.org", b, sizeof(b), &e),
	    OTD_OK);
	ck_assert_str_eq(b, "<9e3ad8997094ff0253688d776c7cb257@visits.example.org>");
	/* Any characters in the key; none of them reach the id. */
	ck_assert_int_eq(otd_mail_message_id("k\r\n<>@ \"Zoë\"", "example.org", b, sizeof(b), &e),
	                 OTD_OK);
	ck_assert_uint_eq(strlen(b), 1 + 32 + 1 + strlen("example.org") + 1);
	ck_assert_uint_eq(strspn(b + 1, "0123456789abcdef"), 32);

	/* The longest domain fits OTD_MAIL_MESSAGE_ID_SIZE exactly. */
	char domain[OTD_MAIL_DOMAIN_MAX + 1];
	for(int i = 0; i < OTD_MAIL_DOMAIN_MAX; i++)
		domain[i] = i % 50 == 49 ? '.' : 'd';
	domain[OTD_MAIL_DOMAIN_MAX] = '\0';
	ck_assert_int_eq(otd_mail_message_id("k", domain, b, sizeof(b), &e), OTD_OK);
	ck_assert_uint_eq(strlen(b) + 1, OTD_MAIL_MESSAGE_ID_SIZE);
}
END_TEST

START_TEST(message_id_refuses_bad_input)
{
	char out[OTD_MAIL_MESSAGE_ID_SIZE];
	struct otd_error e;
	const char *domains[] = {"",
	                         ".org",
	                         "example.org.",
	                         "a..b",
	                         "exa mple.org",
	                         "x\r\nBcc: e@x",
	                         "example.org>",
	                         "zoë.example.org",
	                         "a_b.org"};
	for(size_t i = 0; i < sizeof(domains) / sizeof(domains[0]); i++) {
		otd_error_clear(&e);
		out[0] = 'x';
		ck_assert_int_eq(otd_mail_message_id("k", domains[i], out, sizeof(out), &e),
		                 OTD_EINVAL);
		ck_assert_str_eq(e.code, "invalid_domain");
		ck_assert_str_eq(out, "");
	}
	ck_assert_int_eq(otd_mail_message_id("", "example.org", out, sizeof(out), &e), OTD_EINVAL);
	ck_assert_str_eq(e.code, "invalid_key");
	/* Too small a buffer: refused, not cut. */
	ck_assert_int_eq(otd_mail_message_id("k", "example.org", out, 46, &e), OTD_EINVAL);
	ck_assert_str_eq(e.code, "buffer_too_small");
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(otd_mail_message_id("k", "example.org", out, 47, &e), OTD_OK);
	ck_assert_uint_eq(strlen(out), 46);
}
END_TEST

int main(void)
{
	if(sodium_init() < 0)
		return 1;
	Suite *s = suite_create("mail");
	TCase *tc = tcase_create("mail");
	tcase_add_test(tc, plain_subject_stays_as_it_is);
	tcase_add_test(tc, long_plain_subject_folds_before_spaces);
	tcase_add_test(tc, non_ascii_subject_is_encoded_words);
	tcase_add_test(tc, encoded_words_never_split_a_character);
	tcase_add_test(tc, subject_cannot_inject_a_header);
	tcase_add_test(tc, bad_subject_input_is_refused);
	tcase_add_test(tc, mailbox_with_ascii_name_is_quoted);
	tcase_add_test(tc, mailbox_without_name_is_bare);
	tcase_add_test(tc, mailbox_with_non_ascii_name_is_encoded);
	tcase_add_test(tc, mailbox_cannot_inject_a_header);
	tcase_add_test(tc, dates_are_rfc5322_in_utc);
	tcase_add_test(tc, message_ids_are_stable_per_key);
	tcase_add_test(tc, message_id_refuses_bad_input);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
