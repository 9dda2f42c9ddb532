/* onthedot webhook signatures: the ones gateways send us and the ones we
 * send.
 *
 * - Twilio signs each status callback with X-Twilio-Signature: base64 of
 *   HMAC-SHA1 keyed with the account's auth token over the full callback
 *   URL followed by every POST parameter as name then value, sorted
 *   (Twilio, "Webhooks security"). libsodium has no SHA-1, so this one
 *   uses GnuTLS (TRAPS.md, libcurl).
 * - Our generic JSON webhook carries "sha256=" and the lowercase hex of
 *   HMAC-SHA256 keyed with the receiver's secret over the raw body.
 * - Kannel signs nothing, so the dlr-url we give it carries a token: an
 *   HMAC-SHA256 of what the URL names ("dlr:1234"), cut to 128 bits, so a
 *   delivery report for a message can come only from whoever we told.
 *
 * Every check compares in constant time. Nothing here allocates, reads a
 * clock or logs; the keys stay with the caller. */
#ifndef OTD_NOTIFY_SIGN_H
#define OTD_NOTIFY_SIGN_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes of the output buffers, with the NUL. */
#define OTD_TWILIO_SIGNATURE_SIZE 29  /* base64 of 20 bytes: 28 characters */
#define OTD_WEBHOOK_SIGNATURE_SIZE 72 /* "sha256=" and 64 hex digits */
#define OTD_URL_TOKEN_SIZE 44         /* room for 43; the token is 22 characters */
#define OTD_URL_TOKEN_LEN 22          /* base64url, no padding, of 16 bytes */
#define OTD_URL_TOKEN_KEY_SIZE 32

/* Writes into out the X-Twilio-Signature Twilio sends for a form POST to
 * url (exactly as configured with Twilio, query string included) with the
 * n parameters names[i]=values[i] (decoded from the form; NULL values read
 * as ""). The parameters are signed sorted by name, then by value, in byte
 * order, and a pair repeated exactly is signed once, as Twilio's own
 * libraries do; the caller's order does not matter. auth_token is the
 * account's auth token. out is "" only if GnuTLS refuses HMAC-SHA1 (a
 * FIPS-only build), which no signature then matches. */
void otd_twilio_signature(const char *auth_token, const char *url, const char *const *names,
                          const char *const *values, size_t n, char out[29]);

/* True when header_value (the X-Twilio-Signature header; NULL when absent)
 * is the signature otd_twilio_signature computes for the same inputs.
 * Compares in constant time; false on anything else, and always false
 * when auth_token is NULL or "" (not configured) or url is NULL. */
bool otd_twilio_verify(const char *auth_token, const char *url, const char *const *names,
                       const char *const *values, size_t n, const char *header_value);

/* Writes into out the signature header value of our generic webhook for
 * the len bytes of body: "sha256=" and the lowercase hex of
 * HMAC-SHA256(secret, body). secret is a NUL-terminated key of any
 * length. Cannot fail. */
void otd_webhook_signature(const char *secret, const void *body, size_t len, char out[72]);

/* Writes into out the token that authenticates message (what a URL we
 * hand a gateway names, "dlr:1234") under key: base64url without padding
 * of HMAC-SHA256(key, message) cut to its first 16 bytes, 22 characters.
 * The key is 32 random bytes the caller keeps secret. Cannot fail. */
void otd_url_token(const unsigned char key[32], const char *message, char out[44]);

/* True when token (NULL reads as absent) is the token otd_url_token gives
 * message under key. Compares in constant time; false on anything else
 * (a NULL key or message included). */
bool otd_url_token_verify(const unsigned char key[32], const char *message, const char *token);

#endif
