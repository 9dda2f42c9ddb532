/* onthedot: email header fields, pure.
 *
 * DESIGN.md (Messaging): names are UTF-8 and stay as typed, email headers
 * are RFC 2047 encoded, and every value is escaped for where it goes. The
 * functions here build whole header fields ("Subject: ...") so they can
 * fold them: RFC 5322 section 2.1.1 asks for lines of at most 78
 * characters, RFC 2047 section 2 for at most 76 on a line that carries an
 * encoded word. A header field is returned without its final CRLF; folds
 * inside it are CRLF followed by one space. No value a caller passes can
 * end a header early or start another one (header injection): bare CR and
 * LF never reach the output. */
#ifndef ONTHEDOT_MAIL_H
#define ONTHEDOT_MAIL_H

#include <stddef.h>
#include <stdint.h>

#include "onthedot/status.h"

/* Longest line a header field built here has (RFC 5322 section 2.1.1),
 * except where a single address longer than that cannot be folded. */
#define OTD_MAIL_LINE_MAX 78

/* Longest header field name accepted ("Subject", "Reply-To", ...). */
#define OTD_MAIL_NAME_MAX 30

/* Longest text (bytes) a header value may be built from; longer is
 * OTD_ETOOBIG. */
#define OTD_MAIL_TEXT_MAX 4096

/* Longest address (RFC 5321 section 4.5.3.1.3 path limit less the angle
 * brackets) and longest domain. */
#define OTD_MAIL_ADDRESS_MAX 254
#define OTD_MAIL_DOMAIN_MAX 253

/* Bytes otd_mail_date writes, NUL included. */
#define OTD_MAIL_DATE_SIZE 32

/* Bytes otd_mail_message_id may need for any valid domain, NUL included:
 * '<', 32 hex digits, '@', the domain, '>'. */
#define OTD_MAIL_MESSAGE_ID_SIZE (1 + 32 + 1 + OTD_MAIL_DOMAIN_MAX + 1 + 1)

/* Builds the header field "name: text" for unstructured text such as a
 * Subject (RFC 5322 section 3.2.5). Text of printable ASCII and spaces
 * without "=?" stays as it is, folded before a space where a line would
 * pass 78 characters; anything else (non-ASCII, control characters such
 * as CR, LF or tab, "=?", or ASCII that cannot be folded to fit) becomes
 * RFC 2047 encoded words "=?UTF-8?B?...?=" of at most 75 characters, one a
 * line, never splitting a UTF-8 character between two words, so that the
 * lines carrying them stay within 76 characters. The empty text gives
 * "name: ". On success *out is a heap string the caller frees.
 * Fails, setting *out to NULL, with OTD_EINVAL when name is not 1 to
 * OTD_MAIL_NAME_MAX printable ASCII characters without ':' (err code
 * "invalid_header_name") or text is not valid UTF-8 ("invalid_utf8"), and
 * OTD_ETOOBIG ("text_too_long") when text is longer than
 * OTD_MAIL_TEXT_MAX bytes. err may be NULL. */
enum otd_status otd_mail_header_text(const char *name, const char *text, char **out,
                                     struct otd_error *err);

/* Builds the header field "name: mailbox" for one mailbox (RFC 5322
 * section 3.4), such as From, To or Reply-To:
 *   display_name "" (or NULL):  To: <addr>
 *   printable ASCII without "=?": To: "Display Name" <addr>, with '"' and
 *                               '\' escaped by '\' (always quoted, so
 *                               specials such as < > ( ) , ; @ are inert)
 *   anything else:              To: =?UTF-8?B?...?= <addr>, the name as
 *                               encoded words (RFC 2047 section 5 (3): each
 *                               a whole word of the phrase, separated from
 *                               the next and from '<' by white space).
 * Lines are folded as otd_mail_header_text says; "<addr>" moves to its own
 * line when it does not fit. On success *out is a heap string the caller
 * frees. Fails, setting *out to NULL, with OTD_EINVAL when addr is not
 * 3 to OTD_MAIL_ADDRESS_MAX bytes with exactly one '@' between a non-empty
 * local part and domain, or holds a byte outside printable ASCII, a space,
 * or any of < > " \ ( ) , ; (err code "invalid_address": CR and LF are
 * refused here, so a header cannot be injected through the address); when
 * name is bad ("invalid_header_name") or display_name is not valid UTF-8
 * ("invalid_utf8"); and OTD_ETOOBIG ("text_too_long") when display_name
 * is longer than OTD_MAIL_TEXT_MAX bytes. err may be NULL. */
enum otd_status otd_mail_header_mailbox(const char *name, const char *display_name,
                                        const char *addr, char **out, struct otd_error *err);

/* Writes utc_seconds as an RFC 5322 section 3.3 date in UTC, "Tue, 03 Mar
 * 2026 10:00:00 +0000", into out (OTD_MAIL_DATE_SIZE bytes is enough).
 * Returns the length written, excluding the NUL; when n is too small or
 * the year is outside 1900..9999, writes "" (if n > 0) and returns 0. */
size_t otd_mail_date(int64_t utc_seconds, char *out, size_t n);

/* Writes a Message-ID (RFC 5322 section 3.6.4) "<hex@domain>" into out
 * (n bytes; OTD_MAIL_MESSAGE_ID_SIZE is always enough). hex is 32 lower-case
 * hex digits of a 16-byte BLAKE2b hash (libsodium crypto_generichash) of
 * the idempotency key, so the same key always gives the same id and a
 * message retried after a crash keeps its id (DESIGN.md, Messaging); the
 * key may hold any characters. Fails, writing "" (if n > 0), with
 * OTD_EINVAL when key is empty ("invalid_key"), domain is not 1 to
 * OTD_MAIL_DOMAIN_MAX bytes of dot-separated non-empty labels of letters,
 * digits and '-' ("invalid_domain"), or out is too small
 * ("buffer_too_small"). err may be NULL. */
enum otd_status otd_mail_message_id(const char *key, const char *domain, char *out, size_t n,
                                    struct otd_error *err);

#endif
