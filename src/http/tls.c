/* The server's certificate store for HTTPS (see tls.h). GnuTLS asks for
 * the certificate through gnutls_certificate_retrieve_function2 in every
 * handshake (MHD_OPTION_HTTPS_CERT_CALLBACK); the pointers it is given must
 * stay valid while the session may use them, so each pair is reference
 * counted: one reference for being in force, one per connection that chose
 * it. A reload swaps the pair in force under the lock and drops the old
 * one's first reference; the last connection using it frees it. */
#include "http/tls.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gnutls/x509.h>

#include "app/log.h"
#include "onthedot/mem.h"

#define TLS_FILE_MAX (1u << 20) /* a PEM chain is a few KiB */
#define TLS_CHAIN_MAX 16        /* certificates in one chain */

struct otd_tls_creds {
	unsigned refs; /* guarded by otd_tls.lock */
	gnutls_pcert_st pcert[TLS_CHAIN_MAX];
	unsigned n_pcert;
	gnutls_privkey_t key;
	struct tls_cert_info info;
};

struct otd_tls {
	pthread_mutex_t lock;
	char *cert_file;
	char *key_file;
	struct otd_tls_creds *current;
};

enum otd_status tls_config_check(const char *cert_file, const char *key_file, bool *enabled,
                                 struct otd_error *err)
{
	bool has_cert = cert_file && cert_file[0];
	bool has_key = key_file && key_file[0];
	*enabled = has_cert && has_key;
	if(has_cert && !has_key)
		return otd_error_set(err, OTD_EINVAL, "tls_key_missing", "http.tls_key",
		                     "http.tls_cert is set but http.tls_key is not: give both the "
		                     "certificate and its private key, or neither for plain HTTP.");
	if(has_key && !has_cert)
		return otd_error_set(err, OTD_EINVAL, "tls_cert_missing", "http.tls_cert",
		                     "http.tls_key is set but http.tls_cert is not: give both the "
		                     "certificate and its private key, or neither for plain HTTP.");
	return OTD_OK;
}

bool http_request_secure(bool over_tls, bool from_trusted_proxy, const char *forwarded_proto)
{
	if(over_tls)
		return true;
	if(!from_trusted_proxy || !forwarded_proto)
		return false;
	/* "https", or "https, http" when proxies append: the last value is the
	 * one our trusted proxy wrote. */
	const char *last = strrchr(forwarded_proto, ',');
	last = last ? last + 1 : forwarded_proto;
	while(*last == ' ' || *last == '\t')
		last++;
	size_t len = strlen(last);
	while(len && (last[len - 1] == ' ' || last[len - 1] == '\t'))
		len--;
	return len == 5 && strncasecmp(last, "https", 5) == 0;
}

/* ---- loading ------------------------------------------------------ */

static enum otd_status read_pem(const char *what, const char *key, const char *path,
                                gnutls_datum_t *out, struct otd_error *err)
{
	out->data = NULL;
	out->size = 0;
	FILE *f = fopen(path, "rb");
	if(!f)
		return otd_error_set(err, OTD_EIO, "tls_file_unreadable", key,
		                     "Cannot read the TLS %s file %s (%s): %s.", what, path, key,
		                     strerror(errno));
	unsigned char *buf = xmalloc(TLS_FILE_MAX + 1);
	size_t n = fread(buf, 1, TLS_FILE_MAX + 1, f);
	int failed = ferror(f);
	int saved = errno;
	fclose(f);
	if(failed) {
		free(buf);
		return otd_error_set(err, OTD_EIO, "tls_file_unreadable", key,
		                     "Cannot read the TLS %s file %s (%s): %s.", what, path, key,
		                     strerror(saved ? saved : EIO));
	}
	if(n > TLS_FILE_MAX) {
		free(buf);
		return otd_error_set(err, OTD_EINVAL, "tls_file_too_large", key,
		                     "The TLS %s file %s (%s) is larger than %u bytes; it is not a "
		                     "PEM certificate or key.",
		                     what, path, key, TLS_FILE_MAX);
	}
	buf[n] = '\0';
	if(!memmem(buf, n, "-----BEGIN ", 11)) {
		free(buf);
		return otd_error_set(err, OTD_EINVAL, "tls_not_pem", key,
		                     "The TLS %s file %s (%s) is not PEM: it has no \"-----BEGIN\" "
		                     "line.%s",
		                     what, path, key,
		                     n == 0 ? " It is empty."
		                            : " Convert a DER file with: openssl x509 -inform der "
		                              "(certificate) or openssl pkey -inform der (key).");
	}
	out->data = buf;
	out->size = (unsigned)n;
	return OTD_OK;
}

static void creds_free(struct otd_tls_creds *c)
{
	if(!c)
		return;
	for(unsigned i = 0; i < c->n_pcert; i++)
		gnutls_pcert_deinit(&c->pcert[i]);
	if(c->key)
		gnutls_privkey_deinit(c->key);
	free(c);
}

static void cert_info(gnutls_x509_crt_t crt, struct tls_cert_info *info)
{
	unsigned char digest[32];
	size_t dsize = sizeof(digest);
	info->fingerprint[0] = '\0';
	if(gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, digest, &dsize) == 0)
		for(size_t i = 0; i < dsize && i < 32; i++)
			snprintf(info->fingerprint + 2 * i, 3, "%02x", digest[i]);
	gnutls_datum_t dn = {NULL, 0};
	info->subject[0] = '\0';
	if(gnutls_x509_crt_get_dn3(crt, &dn, 0) == 0) {
		snprintf(info->subject, sizeof(info->subject), "%.*s", (int)dn.size,
		         (const char *)dn.data);
		gnutls_free(dn.data);
	}
	info->not_before = (int64_t)gnutls_x509_crt_get_activation_time(crt);
	info->not_after = (int64_t)gnutls_x509_crt_get_expiration_time(crt);
}

/* The key is the certificate's when their public keys have the same id. */
static bool key_matches(gnutls_pcert_st *leaf, gnutls_privkey_t key)
{
	gnutls_pubkey_t pub = NULL;
	unsigned char a[64], b[64];
	size_t la = sizeof(a), lb = sizeof(b);
	bool ok = false;
	if(gnutls_pubkey_init(&pub) < 0)
		return false;
	if(gnutls_pubkey_import_privkey(pub, key, 0, 0) == 0 &&
	   gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256, a, &la) == 0 &&
	   gnutls_pubkey_get_key_id(leaf->pubkey, GNUTLS_KEYID_USE_SHA256, b, &lb) == 0)
		ok = la == lb && memcmp(a, b, la) == 0;
	gnutls_pubkey_deinit(pub);
	return ok;
}

static enum otd_status creds_load(const char *cert_file, const char *key_file,
                                  struct otd_tls_creds **out, struct otd_error *err)
{
	gnutls_datum_t cert_pem = {NULL, 0}, key_pem = {NULL, 0};
	gnutls_x509_crt_t *crts = NULL;
	unsigned n_crts = 0;
	struct otd_tls_creds *c = xcalloc(1, sizeof(*c));
	enum otd_status st = read_pem("certificate", "http.tls_cert", cert_file, &cert_pem, err);
	if(st)
		goto out;
	st = read_pem("key", "http.tls_key", key_file, &key_pem, err);
	if(st)
		goto out;

	int rc = gnutls_x509_crt_list_import2(&crts, &n_crts, &cert_pem, GNUTLS_X509_FMT_PEM, 0);
	if(rc < 0 || n_crts == 0) {
		st = otd_error_set(err, OTD_EINVAL, "tls_bad_certificate", "http.tls_cert",
		                   "The TLS certificate file %s (http.tls_cert) holds no readable "
		                   "certificate: %s.",
		                   cert_file, rc < 0 ? gnutls_strerror(rc) : "none found");
		goto out;
	}
	if(n_crts > TLS_CHAIN_MAX) {
		st = otd_error_set(
		    err, OTD_EINVAL, "tls_bad_certificate", "http.tls_cert",
		    "The TLS certificate file %s (http.tls_cert) holds %u certificates; "
		    "at most %d are accepted (the server's, then its intermediates).",
		    cert_file, n_crts, TLS_CHAIN_MAX);
		goto out;
	}
	rc = gnutls_pcert_import_x509_list(c->pcert, crts, &n_crts, 0);
	if(rc < 0) {
		st =
		    otd_error_set(err, OTD_EINVAL, "tls_bad_certificate", "http.tls_cert",
		                  "The TLS certificate file %s (http.tls_cert) cannot be used: %s.",
		                  cert_file, gnutls_strerror(rc));
		goto out;
	}
	c->n_pcert = n_crts;
	cert_info(crts[0], &c->info);

	if(strstr((const char *)key_pem.data, "ENCRYPTED")) {
		st = otd_error_set(
		    err, OTD_EINVAL, "tls_key_encrypted", "http.tls_key",
		    "The TLS key file %s (http.tls_key) is encrypted; give it "
		    "unencrypted (openssl pkey -in KEY -out PLAIN) and make it readable "
		    "only by the service's user.",
		    key_file);
		goto out;
	}
	if((rc = gnutls_privkey_init(&c->key)) < 0 ||
	   (rc = gnutls_privkey_import_x509_raw(c->key, &key_pem, GNUTLS_X509_FMT_PEM, NULL, 0)) <
	       0) {
		st = otd_error_set(
		    err, OTD_EINVAL, "tls_bad_key", "http.tls_key",
		    "The TLS key file %s (http.tls_key) holds no readable private key: "
		    "%s.",
		    key_file, gnutls_strerror(rc));
		goto out;
	}
	if(!key_matches(&c->pcert[0], c->key)) {
		st = otd_error_set(err, OTD_EINVAL, "tls_key_mismatch", "http.tls_key",
		                   "The TLS key file %s (http.tls_key) does not belong to the "
		                   "certificate in %s (http.tls_cert): their public keys differ.",
		                   key_file, cert_file);
		goto out;
	}
	c->refs = 1;
	*out = c;
	c = NULL;
out:
	for(unsigned i = 0; i < n_crts && crts; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	if(key_pem.data) {
		gnutls_memset(key_pem.data, 0, key_pem.size);
		free(key_pem.data);
	}
	free(cert_pem.data);
	creds_free(c);
	return st;
}

/* Logs what was loaded, and warns when the certificate is not valid now
 * (browsers will refuse it; the operator must hear of it). */
static void log_loaded(const char *msg, const struct otd_tls *tls, const struct tls_cert_info *i)
{
	char after[32], before[32];
	time_t na = (time_t)i->not_after, nb = (time_t)i->not_before;
	struct tm tm;
	strftime(after, sizeof(after), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&na, &tm));
	strftime(before, sizeof(before), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&nb, &tm));
	otd_log(OTD_LOG_INFO, msg, "{s:s,s:s,s:s,s:s,s:s}", "cert_file", tls->cert_file, "subject",
	        i->subject, "sha256", i->fingerprint, "not_before", before, "not_after", after);
	time_t now = time(NULL);
	if((int64_t)now > i->not_after)
		otd_log(OTD_LOG_WARN, "tls_certificate_expired", "{s:s,s:s,s:s}", "cert_file",
		        tls->cert_file, "not_after", after, "detail",
		        "the certificate has expired: browsers will refuse the connection; renew "
		        "it and "
		        "send SIGHUP");
	else if((int64_t)now < i->not_before)
		otd_log(OTD_LOG_WARN, "tls_certificate_not_yet_valid", "{s:s,s:s}", "cert_file",
		        tls->cert_file, "not_before", before);
}

enum otd_status tls_open(const char *cert_file, const char *key_file, struct otd_tls **out,
                         struct otd_error *err)
{
	struct otd_tls_creds *c = NULL;
	enum otd_status st = creds_load(cert_file, key_file, &c, err);
	if(st)
		return st;
	struct otd_tls *tls = xcalloc(1, sizeof(*tls));
	pthread_mutex_init(&tls->lock, NULL);
	tls->cert_file = xstrdup(cert_file);
	tls->key_file = xstrdup(key_file);
	tls->current = c;
	log_loaded("tls_certificate", tls, &c->info);
	*out = tls;
	return OTD_OK;
}

enum otd_status tls_reload(struct otd_tls *tls, struct otd_error *err)
{
	struct otd_tls_creds *c = NULL;
	enum otd_status st = creds_load(tls->cert_file, tls->key_file, &c, err);
	if(st) {
		otd_log(OTD_LOG_WARN, "tls_reload_failed", "{s:s,s:s,s:s}", "code", err->code,
		        "detail", err->message, "kept", tls->current->info.fingerprint);
		return st;
	}
	pthread_mutex_lock(&tls->lock);
	struct otd_tls_creds *old = tls->current;
	tls->current = c;
	pthread_mutex_unlock(&tls->lock);
	log_loaded("tls_reloaded", tls, &c->info);
	tls_release(tls, old);
	return OTD_OK;
}

struct otd_tls_creds *tls_acquire(struct otd_tls *tls, gnutls_pcert_st **pcert, unsigned *n,
                                  gnutls_privkey_t *key)
{
	pthread_mutex_lock(&tls->lock);
	struct otd_tls_creds *c = tls->current;
	c->refs++;
	pthread_mutex_unlock(&tls->lock);
	*pcert = c->pcert;
	*n = c->n_pcert;
	*key = c->key;
	return c;
}

void tls_release(struct otd_tls *tls, struct otd_tls_creds *creds)
{
	if(!creds)
		return;
	pthread_mutex_lock(&tls->lock);
	bool last = --creds->refs == 0;
	pthread_mutex_unlock(&tls->lock);
	if(last)
		creds_free(creds);
}

void tls_current_info(struct otd_tls *tls, struct tls_cert_info *info)
{
	pthread_mutex_lock(&tls->lock);
	*info = tls->current->info;
	pthread_mutex_unlock(&tls->lock);
}

void tls_close(struct otd_tls *tls)
{
	if(!tls)
		return;
	tls_release(tls, tls->current);
	pthread_mutex_destroy(&tls->lock);
	free(tls->cert_file);
	free(tls->key_file);
	free(tls);
}
