/* Email header fields: RFC 2047 encoded words, mailboxes, dates and
 * Message-IDs. */
#include "onthedot/mail.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "onthedot/civil.h"
#include "onthedot/mem.h"
#include "onthedot/utf8.h"

/* RFC 2047 section 2: a line that carries an encoded word is at most 76
 * characters, an encoded word at most 75. */
#define ENCODED_LINE_MAX 76
#define ENCODED_WORD_MAX 75
#define WORD_HEAD "=?UTF-8?B?"
#define WORD_TAIL "?="
#define WORD_FRAME (sizeof(WORD_HEAD) - 1 + sizeof(WORD_TAIL) - 1)

static enum otd_status check_name(const char *name, struct otd_error *err)
{
	size_t n = strlen(name);
	bool ok = n >= 1 && n <= OTD_MAIL_NAME_MAX;
	for(size_t i = 0; ok && i < n; i++)
		ok = name[i] > ' ' && name[i] < 0x7f && name[i] != ':';
	if(!ok)
		return otd_error_set(err, OTD_EINVAL, "invalid_header_name", "",
		                     "A header field name is 1 to %d printable ASCII characters "
		                     "without a colon.",
		                     OTD_MAIL_NAME_MAX);
	return OTD_OK;
}

/* Checks text that goes into a header value: size and UTF-8. */
static enum otd_status check_text(const char *s, struct otd_error *err)
{
	size_t len = strlen(s);
	if(len > OTD_MAIL_TEXT_MAX)
		return otd_error_set(err, OTD_ETOOBIG, "text_too_long", "",
		                     "A header value is at most %d bytes long.", OTD_MAIL_TEXT_MAX);
	for(size_t i = 0; i < len;) {
		size_t k = otd_utf8_char((const unsigned char *)s + i, len - i);
		if(k == 0)
			return otd_error_set(err, OTD_EINVAL, "invalid_utf8", "",
			                     "A header value is not valid UTF-8 (at byte %zu).", i);
		i += k;
	}
	return OTD_OK;
}

/* True when s may appear in a header as it is: printable ASCII and spaces,
 * and nothing a reader could take for an encoded word. */
static bool plain_ascii(const char *s)
{
	for(const char *p = s; *p; p++)
		if(*p < ' ' || *p > '~')
			return false;
	return !strstr(s, "=?");
}

/* Appends s (len bytes of valid UTF-8) as encoded words, the first on the
 * current line at column *col, each further one after CRLF SP; each as
 * long as its line allows, never cutting a character. Updates *col. */
static void put_words(struct otd_buf *b, const char *s, size_t len, size_t *col)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	bool first = true;
	do {
		if(!first) {
			otd_buf_puts(b, "\r\n ");
			*col = 1;
		}
		first = false;
		size_t room = ENCODED_LINE_MAX - *col;
		if(room > ENCODED_WORD_MAX)
			room = ENCODED_WORD_MAX;
		/* Whole base64 quads only: 3 bytes each. */
		size_t max = room > WORD_FRAME ? (room - WORD_FRAME) / 4 * 3 : 0;
		assert(max >= 4); /* the name is short enough for any character */
		size_t n = 0;
		while(i + n < len) {
			size_t k = otd_utf8_char(u + i + n, len - i - n);
			assert(k > 0);
			if(n + k > max)
				break;
			n += k;
		}
		char b64[sodium_base64_ENCODED_LEN(ENCODED_WORD_MAX,
		                                   sodium_base64_VARIANT_ORIGINAL)];
		sodium_bin2base64(b64, sizeof(b64), u + i, n, sodium_base64_VARIANT_ORIGINAL);
		otd_buf_printf(b, "%s%s%s", WORD_HEAD, b64, WORD_TAIL);
		*col += WORD_FRAME + strlen(b64);
		i += n;
	} while(i < len);
}

/* Appends plain ASCII text at column col, folded before spaces so no line
 * passes OTD_MAIL_LINE_MAX and no line is only white space (RFC 5322
 * section 3.2.2). False, appending nothing, when it cannot be done. */
static bool put_folded(struct otd_buf *b, const char *s, size_t col)
{
	size_t len = strlen(s), ls = 0, c0 = col, last = 0;
	bool any = false;
	for(size_t i = 0; i < len; i++)
		if(s[i] != ' ') {
			last = i;
			any = true;
		}
	struct otd_buf t;
	otd_buf_init(&t, 0);
	while(c0 + (len - ls) > OTD_MAIL_LINE_MAX) {
		/* The latest space f that ends this line in time, with
		 * something other than space both before and after it. */
		size_t f = 0;
		for(size_t i = ls + OTD_MAIL_LINE_MAX - c0; i > ls; i--) {
			if(s[i] != ' ' || !any || i > last)
				continue;
			bool text_before = false;
			for(size_t j = ls; j < i && !text_before; j++)
				text_before = s[j] != ' ';
			if(text_before) {
				f = i;
				break;
			}
		}
		if(f == 0) {
			otd_buf_cleanup(&t);
			return false;
		}
		otd_buf_append(&t, s + ls, f - ls);
		otd_buf_puts(&t, "\r\n");
		ls = f;
		c0 = 0;
	}
	otd_buf_append(&t, s + ls, len - ls);
	otd_buf_puts(b, t.data ? t.data : "");
	otd_buf_cleanup(&t);
	return true;
}

enum otd_status otd_mail_header_text(const char *name, const char *text, char **out,
                                     struct otd_error *err)
{
	enum otd_status st;
	*out = NULL;
	if((st = check_name(name, err)) || (st = check_text(text, err)))
		return st;
	struct otd_buf b;
	otd_buf_init(&b, 0);
	otd_buf_printf(&b, "%s: ", name);
	size_t col = b.len;
	if(!plain_ascii(text) || !put_folded(&b, text, col))
		put_words(&b, text, strlen(text), &col);
	*out = otd_buf_steal(&b);
	return OTD_OK;
}

static enum otd_status check_address(const char *addr, struct otd_error *err)
{
	size_t n = strlen(addr), ats = 0;
	const char *at = strchr(addr, '@');
	bool ok = n >= 3 && n <= OTD_MAIL_ADDRESS_MAX;
	for(size_t i = 0; ok && i < n; i++) {
		unsigned char c = (unsigned char)addr[i];
		ats += c == '@';
		ok = c > ' ' && c < 0x7f && !strchr("<>\"\\(),;", c);
	}
	if(!ok || ats != 1 || at == addr || at[1] == '\0')
		return otd_error_set(err, OTD_EINVAL, "invalid_address", "",
		                     "An email address must look like name@example.org, without "
		                     "spaces, line breaks or any of < > \" \\ ( ) , ;.");
	return OTD_OK;
}

enum otd_status otd_mail_header_mailbox(const char *name, const char *display_name,
                                        const char *addr, char **out, struct otd_error *err)
{
	enum otd_status st;
	*out = NULL;
	if(!display_name)
		display_name = "";
	if((st = check_name(name, err)) || (st = check_address(addr, err)) ||
	   (st = check_text(display_name, err)))
		return st;
	struct otd_buf b;
	otd_buf_init(&b, 0);
	otd_buf_printf(&b, "%s: ", name);
	size_t col = b.len, alen = strlen(addr) + 2;
	if(!display_name[0]) {
		otd_buf_printf(&b, "<%s>", addr);
		goto out;
	}
	if(plain_ascii(display_name)) {
		struct otd_buf q;
		otd_buf_init(&q, 0);
		otd_buf_puts(&q, "\"");
		for(const char *p = display_name; *p; p++) {
			if(*p == '"' || *p == '\\')
				otd_buf_puts(&q, "\\");
			otd_buf_append(&q, p, 1);
		}
		otd_buf_puts(&q, "\"");
		bool fits = col + q.len <= OTD_MAIL_LINE_MAX;
		if(fits) {
			bool one_line = col + q.len + 1 + alen <= OTD_MAIL_LINE_MAX;
			otd_buf_printf(&b, "%s%s<%s>", q.data, one_line ? " " : "\r\n ", addr);
		}
		otd_buf_cleanup(&q);
		if(fits)
			goto out;
		/* Too long for one line as a quoted string: encoded words
		 * fold cleanly. */
	}
	put_words(&b, display_name, strlen(display_name), &col);
	if(col + 1 + alen <= ENCODED_LINE_MAX)
		otd_buf_printf(&b, " <%s>", addr);
	else
		otd_buf_printf(&b, "\r\n <%s>", addr);
out:
	*out = otd_buf_steal(&b);
	return OTD_OK;
}

size_t otd_mail_date(int64_t utc_seconds, char *out, size_t n)
{
	static const char *const days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	int64_t day = utc_seconds / 86400;
	if(utc_seconds % 86400 < 0)
		day--;
	struct otd_civil c;
	otd_civil_from_seconds(utc_seconds, &c);
	int len = -1;
	if(c.year >= 1900 && c.year <= 9999)
		len = snprintf(out, n, "%s, %02d %s %04d %02d:%02d:%02d +0000",
		               days[otd_weekday(day)], c.day, months[c.month - 1], c.year, c.hour,
		               c.minute, c.second);
	if(len < 0 || (size_t)len >= n) {
		if(n > 0)
			out[0] = '\0';
		return 0;
	}
	return (size_t)len;
}

static bool domain_ok(const char *d)
{
	size_t n = strlen(d), label = 0;
	if(n < 1 || n > OTD_MAIL_DOMAIN_MAX)
		return false;
	for(size_t i = 0; i < n; i++) {
		char c = d[i];
		if(c == '.') {
			if(label == 0)
				return false;
			label = 0;
		} else if((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '-') {
			label++;
		} else {
			return false;
		}
	}
	return label > 0;
}

enum otd_status otd_mail_message_id(const char *key, const char *domain, char *out, size_t n,
                                    struct otd_error *err)
{
	enum otd_status st = OTD_OK;
	if(n > 0)
		out[0] = '\0';
	if(!key[0])
		return otd_error_set(err, OTD_EINVAL, "invalid_key", "",
		                     "A Message-ID needs a non-empty idempotency key.");
	if(!domain_ok(domain))
		return otd_error_set(err, OTD_EINVAL, "invalid_domain", "",
		                     "A Message-ID domain is 1 to %d bytes of labels of letters, "
		                     "digits and '-' separated by dots.",
		                     OTD_MAIL_DOMAIN_MAX);
	unsigned char hash[16];
	char hex[2 * sizeof(hash) + 1];
	crypto_generichash(hash, sizeof(hash), (const unsigned char *)key, strlen(key), NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
	int len = snprintf(out, n, "<%s@%s>", hex, domain);
	if(len < 0 || (size_t)len >= n) {
		if(n > 0)
			out[0] = '\0';
		st = otd_error_set(err, OTD_EINVAL, "buffer_too_small", "",
		                   "A Message-ID for this domain needs %d bytes.", len + 1);
	}
	return st;
}
