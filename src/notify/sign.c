/* Webhook signatures: Twilio's (HMAC-SHA1 with GnuTLS), our webhook's and
 * the Kannel dlr-url token (HMAC-SHA256 with libsodium). */
#include "notify/sign.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <sodium.h>

#include "onthedot/mem.h"

#define SHA1_BYTES 20
#define URL_TOKEN_BYTES 16

struct param {
	const char *name, *value;
};

static int param_cmp(const void *a, const void *b)
{
	const struct param *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

void otd_twilio_signature(const char *auth_token, const char *url, const char *const *names,
                          const char *const *values, size_t n, char out[29])
{
	struct param *p = n ? xmalloc(n * sizeof(*p)) : NULL;
	struct otd_buf text;
	unsigned char digest[SHA1_BYTES];

	for(size_t i = 0; i < n; i++) {
		p[i].name = names[i] ? names[i] : "";
		p[i].value = values[i] ? values[i] : "";
	}
	if(n > 1)
		qsort(p, n, sizeof(*p), param_cmp);

	/* The URL as configured, then name and value of each parameter with
	 * nothing between; a pair repeated exactly counts once (twilio-python
	 * and twilio-php sign a set of values per name). */
	otd_buf_init(&text, 0);
	otd_buf_puts(&text, url);
	for(size_t i = 0; i < n; i++) {
		if(i > 0 && param_cmp(&p[i - 1], &p[i]) == 0)
			continue;
		otd_buf_puts(&text, p[i].name);
		otd_buf_puts(&text, p[i].value);
	}

	out[0] = '\0';
	if(gnutls_hmac_fast(GNUTLS_MAC_SHA1, auth_token, strlen(auth_token), text.data, text.len,
	                    digest) == 0)
		sodium_bin2base64(out, OTD_TWILIO_SIGNATURE_SIZE, digest, sizeof(digest),
		                  sodium_base64_VARIANT_ORIGINAL);
	otd_buf_cleanup(&text);
	free(p);
}

bool otd_twilio_verify(const char *auth_token, const char *url, const char *const *names,
                       const char *const *values, size_t n, const char *header_value)
{
	char want[OTD_TWILIO_SIGNATURE_SIZE];
	/* With no auth token configured anyone could sign: fail closed. */
	if(!header_value || !auth_token || !auth_token[0] || !url)
		return false;
	otd_twilio_signature(auth_token, url, names, values, n, want);
	/* The lengths are public (28 for any signature); the bytes are not. */
	size_t len = strlen(want);
	if(len == 0 || strlen(header_value) != len)
		return false;
	return sodium_memcmp(want, header_value, len) == 0;
}

void otd_webhook_signature(const char *secret, const void *body, size_t len, char out[72])
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];

	/* The init/update/final form takes a key of any length (the one-shot
	 * crypto_auth_hmacsha256 wants exactly 32 bytes). */
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));

	memcpy(out, "sha256=", 7);
	sodium_bin2hex(out + 7, OTD_WEBHOOK_SIGNATURE_SIZE - 7, mac, sizeof(mac));
}

void otd_url_token(const unsigned char key[32], const char *message, char out[44])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	_Static_assert(crypto_auth_hmacsha256_KEYBYTES == OTD_URL_TOKEN_KEY_SIZE, "key size");

	crypto_auth_hmacsha256(mac, (const unsigned char *)message, strlen(message), key);
	/* 128 bits: unguessable, and short enough for a URL in an SMS gateway's
	 * configuration and logs. */
	sodium_bin2base64(out, OTD_URL_TOKEN_SIZE, mac, URL_TOKEN_BYTES,
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	assert(strlen(out) == OTD_URL_TOKEN_LEN);
}

bool otd_url_token_verify(const unsigned char key[32], const char *message, const char *token)
{
	char want[OTD_URL_TOKEN_SIZE];
	if(!key || !message || !token || strlen(token) != OTD_URL_TOKEN_LEN)
		return false;
	otd_url_token(key, message, want);
	/* Compare the text, not decoded bytes: base64 decoders accept more
	 * than one spelling of the last character, and only ours is valid. */
	return sodium_memcmp(want, token, OTD_URL_TOKEN_LEN) == 0;
}
