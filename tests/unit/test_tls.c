/* Unit tests: the HTTPS certificate store (http/tls.c) with certificates
 * made here by GnuTLS (both or neither file, missing, not PEM, encrypted,
 * a key of another certificate, an expired one accepted, reload swapping
 * the pair while a holder keeps the old one, a failed reload keeping the
 * pair in force) and the rule for when a request is secure. */
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <fcntl.h>
#include <unistd.h>

#include "app/log.h"
#include "http/tls.h"
#include "onthedot/mem.h"
#include "testutil.h"

/* A P-256 key and a self-signed certificate for CN=cn valid from
 * now+from_s to now+to_s, written as PEM to <tmp>/<name>.crt and .key.
 * Returns the SHA-256 fingerprint of the certificate in hex (static). */
static const char *make_pair(const char *name, const char *cn, long from_s, long to_s)
{
	static char hex[65];
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	ck_assert_int_eq(gnutls_x509_privkey_init(&key), 0);
	ck_assert_int_eq(
	    gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
	                                 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
	    0);
	ck_assert_int_eq(gnutls_x509_crt_init(&crt), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_version(crt, 3), 0);
	unsigned char serial[8] = {1, 2, 3, 4, 5, 6, 7, (unsigned char)strlen(name)};
	ck_assert_int_eq(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)), 0);
	time_t now = time(NULL);
	ck_assert_int_eq(gnutls_x509_crt_set_activation_time(crt, now + from_s), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_expiration_time(crt, now + to_s), 0);
	char dn[128];
	snprintf(dn, sizeof(dn), "CN=%s", cn);
	ck_assert_int_eq(gnutls_x509_crt_set_dn(crt, dn, NULL), 0);
	ck_assert_int_eq(gnutls_x509_crt_set_key(crt, key), 0);
	ck_assert_int_eq(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), 0);

	gnutls_datum_t d;
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.crt", testutil_tmpdir(), name);
	ck_assert_int_eq(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d), 0);
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	fwrite(d.data, 1, d.size, f);
	fclose(f);
	gnutls_free(d.data);
	snprintf(path, sizeof(path), "%s/%s.key", testutil_tmpdir(), name);
	ck_assert_int_eq(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &d), 0);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	fwrite(d.data, 1, d.size, f);
	fclose(f);
	gnutls_free(d.data);

	unsigned char fp[32];
	size_t fps = sizeof(fp);
	ck_assert_int_eq(gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fp, &fps), 0);
	for(size_t i = 0; i < fps; i++)
		snprintf(hex + 2 * i, 3, "%02x", fp[i]);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return hex;
}

static char *file_of(const char *name, const char *ext)
{
	return xasprintf("%s/%s.%s", testutil_tmpdir(), name, ext);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static char *logged(void (*fn)(void *), void *arg);

/* Opens a store that must fail; returns the error. */
static struct otd_error open_fails(const char *cert, const char *key, enum otd_status want)
{
	struct otd_tls *tls = NULL;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(tls_open(cert, key, &tls, &err), want);
	ck_assert_ptr_null(tls);
	ck_assert_msg(err.message[0], "no message");
	return err;
}

START_TEST(both_or_neither)
{
	struct otd_error err;
	bool on = true;
	otd_error_clear(&err);
	ck_assert_int_eq(tls_config_check("", "", &on, &err), OTD_OK);
	ck_assert(!on);
	ck_assert_int_eq(tls_config_check(NULL, NULL, &on, &err), OTD_OK);
	ck_assert(!on);
	ck_assert_int_eq(tls_config_check("a.pem", "b.pem", &on, &err), OTD_OK);
	ck_assert(on);
	ck_assert_int_eq(tls_config_check("a.pem", "", &on, &err), OTD_EINVAL);
	ck_assert_str_eq(err.field, "http.tls_key");
	ck_assert(!on);
	ck_assert_int_eq(tls_config_check("", "b.pem", &on, &err), OTD_EINVAL);
	ck_assert_str_eq(err.field, "http.tls_cert");
}
END_TEST

START_TEST(a_good_pair_loads_and_describes_itself)
{
	const char *fp = make_pair("good", "visits.example", -60, 86400);
	char want[65];
	snprintf(want, sizeof(want), "%s", fp);
	char *crt = file_of("good", "crt"), *key = file_of("good", "key");
	struct otd_tls *tls = NULL;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(tls_open(crt, key, &tls, &err), OTD_OK);
	struct tls_cert_info info;
	tls_current_info(tls, &info);
	ck_assert_str_eq(info.fingerprint, want);
	ck_assert_str_eq(info.subject, "CN=visits.example");
	ck_assert(info.not_after > (int64_t)time(NULL));
	gnutls_pcert_st *pcert = NULL;
	unsigned n = 0;
	gnutls_privkey_t pk = NULL;
	struct otd_tls_creds *c = tls_acquire(tls, &pcert, &n, &pk);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_nonnull(pcert);
	ck_assert_ptr_nonnull(pk);
	tls_release(tls, c);
	tls_close(tls);
	free(crt);
	free(key);
}
END_TEST

START_TEST(missing_and_unreadable_files_are_named)
{
	make_pair("m", "m", -60, 86400);
	char *crt = file_of("m", "crt"), *key = file_of("m", "key");
	char *nowhere = file_of("no-such", "pem");
	struct otd_error e = open_fails(nowhere, key, OTD_EIO);
	ck_assert_str_eq(e.field, "http.tls_cert");
	ck_assert_msg(strstr(e.message, nowhere) && strstr(e.message, "No such file"), "%s",
	              e.message);
	e = open_fails(crt, nowhere, OTD_EIO);
	ck_assert_str_eq(e.field, "http.tls_key");
	ck_assert_msg(strstr(e.message, nowhere), "%s", e.message);
	free(crt);
	free(key);
	free(nowhere);
}
END_TEST

START_TEST(not_pem_is_refused)
{
	make_pair("np", "np", -60, 86400);
	char *crt = file_of("np", "crt"), *key = file_of("np", "key");
	char *junk = file_of("junk", "pem");
	write_text(junk, "this is not a certificate\n");
	struct otd_error e = open_fails(junk, key, OTD_EINVAL);
	ck_assert_str_eq(e.code, "tls_not_pem");
	ck_assert_str_eq(e.field, "http.tls_cert");
	ck_assert_msg(strstr(e.message, junk), "%s", e.message);
	e = open_fails(crt, junk, OTD_EINVAL);
	ck_assert_str_eq(e.code, "tls_not_pem");
	ck_assert_str_eq(e.field, "http.tls_key");
	/* A key where the certificate should be: PEM, but no certificate. */
	e = open_fails(key, key, OTD_EINVAL);
	ck_assert_str_eq(e.code, "tls_bad_certificate");
	/* Both PEM, but the "key" is a certificate. */
	e = open_fails(crt, crt, OTD_EINVAL);
	ck_assert_str_eq(e.code, "tls_bad_key");
	write_text(junk, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n"
	                 "-----END ENCRYPTED PRIVATE KEY-----\n");
	e = open_fails(crt, junk, OTD_EINVAL);
	ck_assert_str_eq(e.code, "tls_key_encrypted");
	free(crt);
	free(key);
	free(junk);
}
END_TEST

START_TEST(a_key_of_another_certificate_is_refused)
{
	make_pair("one", "one", -60, 86400);
	make_pair("two", "two", -60, 86400);
	char *crt = file_of("one", "crt"), *key = file_of("two", "key");
	struct otd_error e = open_fails(crt, key, OTD_EINVAL);
	ck_assert_str_eq(e.code, "tls_key_mismatch");
	ck_assert_msg(strstr(e.message, crt) && strstr(e.message, key), "%s", e.message);
	free(crt);
	free(key);
}
END_TEST

struct open_args {
	const char *crt, *key;
	struct otd_tls **tls;
	enum otd_status st;
};

static void open_it(void *p)
{
	struct open_args *a = p;
	struct otd_error err;
	otd_error_clear(&err);
	a->st = tls_open(a->crt, a->key, a->tls, &err);
}

START_TEST(an_expired_certificate_loads_with_a_warning)
{
	make_pair("old", "old", -7200, -3600);
	char *crt = file_of("old", "crt"), *key = file_of("old", "key");
	struct otd_tls *tls = NULL;
	struct open_args a = {crt, key, &tls, OTD_OK};
	const char *log = logged(open_it, &a);
	ck_assert_int_eq(a.st, OTD_OK);
	ck_assert_msg(strstr(log, "\"tls_certificate_expired\"") && strstr(log, crt), "%s", log);
	struct tls_cert_info info;
	tls_current_info(tls, &info);
	ck_assert(info.not_after < (int64_t)time(NULL));
	tls_close(tls);
	free(crt);
	free(key);
}
END_TEST

/* Runs fn(arg) with the log going to a file; returns what was logged. */
static char *logged(void (*fn)(void *), void *arg)
{
	char *path = xasprintf("%s/log-%d.txt", testutil_tmpdir(), (int)time(NULL));
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	otd_log_set_fd(fd);
	fn(arg);
	otd_log_set_fd(2);
	static char text[8192];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	text[n > 0 ? n : 0] = '\0';
	close(fd);
	free(path);
	return text;
}

static void reload_it(void *p)
{
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_ne(tls_reload(p, &err), OTD_OK);
}

static void copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(out);
	char buf[4096];
	size_t n;
	while((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	fclose(out);
}

START_TEST(reload_swaps_and_holders_keep_the_old_pair)
{
	char a_fp[65], b_fp[65];
	snprintf(a_fp, sizeof(a_fp), "%s", make_pair("ra", "a", -60, 86400));
	snprintf(b_fp, sizeof(b_fp), "%s", make_pair("rb", "b", -60, 86400));
	char *crt = file_of("live", "crt"), *key = file_of("live", "key");
	char *a_crt = file_of("ra", "crt"), *a_key = file_of("ra", "key");
	char *b_crt = file_of("rb", "crt"), *b_key = file_of("rb", "key");
	copy_file(a_crt, crt);
	copy_file(a_key, key);
	struct otd_tls *tls = NULL;
	struct otd_error err;
	otd_error_clear(&err);
	ck_assert_int_eq(tls_open(crt, key, &tls, &err), OTD_OK);

	/* A handshake in progress holds pair A. */
	gnutls_pcert_st *pa = NULL;
	unsigned na = 0;
	gnutls_privkey_t ka = NULL;
	struct otd_tls_creds *held = tls_acquire(tls, &pa, &na, &ka);

	copy_file(b_crt, crt);
	copy_file(b_key, key);
	ck_assert_int_eq(tls_reload(tls, &err), OTD_OK);
	struct tls_cert_info info;
	tls_current_info(tls, &info);
	ck_assert_str_eq(info.fingerprint, b_fp);

	/* The holder's pair is still whole (ASan would catch a use after
	 * free): its certificate is still A's. */
	unsigned char fp[32];
	size_t fps = sizeof(fp);
	gnutls_x509_crt_t x;
	ck_assert_int_eq(gnutls_pcert_export_x509(&pa[0], &x), 0);
	ck_assert_int_eq(gnutls_x509_crt_get_fingerprint(x, GNUTLS_DIG_SHA256, fp, &fps), 0);
	char hex[65];
	for(size_t i = 0; i < fps; i++)
		snprintf(hex + 2 * i, 3, "%02x", fp[i]);
	ck_assert_str_eq(hex, a_fp);
	gnutls_x509_crt_deinit(x);
	tls_release(tls, held); /* frees A */

	/* A broken key: the reload fails, B stays in force. */
	write_text(key,
	           "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n");
	otd_error_clear(&err);
	ck_assert_int_ne(tls_reload(tls, &err), OTD_OK);
	ck_assert_str_eq(err.field, "http.tls_key");
	tls_current_info(tls, &info);
	ck_assert_str_eq(info.fingerprint, b_fp);
	const char *log = logged(reload_it, tls);
	ck_assert_msg(strstr(log, "\"tls_reload_failed\"") && strstr(log, b_fp), "%s", log);
	/* A key of another pair: refused too. */
	copy_file(a_key, key);
	ck_assert_int_eq(tls_reload(tls, &err), OTD_EINVAL);
	ck_assert_str_eq(err.code, "tls_key_mismatch");
	tls_current_info(tls, &info);
	ck_assert_str_eq(info.fingerprint, b_fp);
	/* Files removed: refused, B stays. */
	remove(key);
	ck_assert_int_eq(tls_reload(tls, &err), OTD_EIO);
	tls_current_info(tls, &info);
	ck_assert_str_eq(info.fingerprint, b_fp);

	tls_close(tls);
	free(crt);
	free(key);
	free(a_crt);
	free(a_key);
	free(b_crt);
	free(b_key);
}
END_TEST

START_TEST(secure_is_our_tls_or_a_trusted_proxys_https)
{
	ck_assert(http_request_secure(true, false, NULL));
	ck_assert(http_request_secure(true, false, "http"));
	ck_assert(!http_request_secure(false, false, NULL));
	/* From an untrusted address the header means nothing. */
	ck_assert(!http_request_secure(false, false, "https"));
	ck_assert(http_request_secure(false, true, "https"));
	ck_assert(http_request_secure(false, true, "HTTPS"));
	ck_assert(http_request_secure(false, true, " https "));
	ck_assert(!http_request_secure(false, true, NULL));
	ck_assert(!http_request_secure(false, true, ""));
	ck_assert(!http_request_secure(false, true, "http"));
	ck_assert(!http_request_secure(false, true, "httpsx"));
	ck_assert(!http_request_secure(false, true, "https2"));
	/* Appended by a chain of proxies: the trusted one wrote the last. */
	ck_assert(http_request_secure(false, true, "http, https"));
	ck_assert(!http_request_secure(false, true, "https, http"));
	ck_assert(!http_request_secure(false, true, "https,"));
}
END_TEST

int main(void)
{
	gnutls_global_init();
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("tls");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, both_or_neither);
	tcase_add_test(tc, a_good_pair_loads_and_describes_itself);
	tcase_add_test(tc, missing_and_unreadable_files_are_named);
	tcase_add_test(tc, not_pem_is_refused);
	tcase_add_test(tc, a_key_of_another_certificate_is_refused);
	tcase_add_test(tc, an_expired_certificate_loads_with_a_warning);
	tcase_add_test(tc, reload_swaps_and_holders_keep_the_old_pair);
	tcase_add_test(tc, secure_is_our_tls_or_a_trusted_proxys_https);
	suite_add_tcase(s, tc);
	int rc = testutil_run(s);
	gnutls_global_deinit();
	return rc;
}
