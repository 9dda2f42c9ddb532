/* HTTPS for the HTTP server: the certificate chain and private key that
 * libmicrohttpd's GnuTLS sessions present, read from PEM files, checked,
 * and swapped on reload (SIGHUP) while connections that chose the old pair
 * keep it until they close. Also the pure rule for when a request counts
 * as secure (our TLS, or a trusted proxy's X-Forwarded-Proto). */
#ifndef OTD_HTTP_TLS_H
#define OTD_HTTP_TLS_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "onthedot/status.h"

struct otd_tls;       /* the two file names and the pair in force */
struct otd_tls_creds; /* one loaded chain and key, reference counted */

/* What a loaded certificate says, for the log and the tests. */
struct tls_cert_info {
	char fingerprint[65]; /* SHA-256 of the leaf certificate, lower-case hex */
	char subject[256];    /* the leaf's distinguished name, cut to fit */
	int64_t not_before;   /* Unix seconds */
	int64_t not_after;
};

/* Decides from the two config values whether TLS is on: both empty is off
 * (*enabled false), both set is on; one without the other fails with
 * OTD_EINVAL naming the missing key. */
enum otd_status tls_config_check(const char *cert_file, const char *key_file, bool *enabled,
                                 struct otd_error *err);

/* Reads and checks the certificate chain and key files and makes them the
 * pair in force. Fails with OTD_EIO when a file is missing or unreadable
 * and OTD_EINVAL when it is not PEM, holds no certificate or key, the key
 * is encrypted, or the key does not belong to the certificate; err names
 * the file and what is wrong. A certificate outside its validity period is
 * accepted and logged as a warning. On success *out owns the store; free it
 * with tls_close. */
enum otd_status tls_open(const char *cert_file, const char *key_file, struct otd_tls **out,
                         struct otd_error *err);

/* Reads both files again and, when they pass the checks of tls_open,
 * swaps the new pair in: new handshakes use it, connections that hold the
 * old one keep it. On failure the pair in force stays and err says why.
 * Logs the outcome either way. Thread-safe. */
enum otd_status tls_reload(struct otd_tls *tls, struct otd_error *err);

/* For a handshake: takes a reference to the pair in force and points
 * *pcert, *n and *key at it (valid until the reference is released).
 * Returns the reference, never NULL. Thread-safe. */
struct otd_tls_creds *tls_acquire(struct otd_tls *tls, gnutls_pcert_st **pcert, unsigned *n,
                                  gnutls_privkey_t *key);

/* Drops a reference from tls_acquire (NULL is ignored); the last one
 * frees a pair that is no longer in force. Thread-safe. */
void tls_release(struct otd_tls *tls, struct otd_tls_creds *creds);

/* Copies what the certificate in force says into *info. */
void tls_current_info(struct otd_tls *tls, struct tls_cert_info *info);

/* Frees the store. Every reference from tls_acquire must be released
 * first (the daemon is stopped). NULL is ignored. */
void tls_close(struct otd_tls *tls);

/* Whether a request is secure: it came over our own TLS, or from a
 * trusted proxy whose X-Forwarded-Proto (may be NULL) says https. With
 * several comma-separated values the last one counts: the one the trusted
 * proxy itself added. Compares without regard to case; pure. */
bool http_request_secure(bool over_tls, bool from_trusted_proxy, const char *forwarded_proto);

#endif
