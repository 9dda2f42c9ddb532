/* Unit tests: webhook signatures (notify/sign.c). Twilio's published
 * examples byte for byte, and that a wrong token, a changed parameter, URL
 * or header fails while the parameters' order does not matter; our webhook
 * signature against RFC 4231 and python3's hmac module; the dlr-url token
 * against python3's hmac module, and that it names one message only. */
#include <sodium.h>
#include <string.h>

#include "notify/sign.h"
#include "testutil.h"

/* Twilio's worked example ("Webhooks security"): auth token 12345. */
#define TW_TOKEN "12345"
#define TW_URL "https://mycompany.com/myapp.php?foo=1&bar=2"
#define TW_SIGNATURE "0/KCTR6DLpKmkAf8muzZqo1nDgQ="

static const char *const tw_names[] = {"CallSid", "Caller", "Digits", "From", "To"};
static const char *const tw_values[] = {"CA1234567890ABCDE", "+12349013030", "1234", "+12349013030",
                                        "+18005551212"};

START_TEST(twilio_matches_the_documented_example)
{
	char sig[OTD_TWILIO_SIGNATURE_SIZE];
	otd_twilio_signature(TW_TOKEN, TW_URL, tw_names, tw_values, 5, sig);
	ck_assert_str_eq(sig, TW_SIGNATURE);
	ck_assert(otd_twilio_verify(TW_TOKEN, TW_URL, tw_names, tw_values, 5, TW_SIGNATURE));
}
END_TEST

/* The vector in Twilio's helper libraries' tests (twilio-php, -python,
 * -csharp RequestValidatorTest): other numbers, and a name given three
 * times with one value twice, which is signed sorted and once. */
START_TEST(twilio_matches_the_helper_libraries_vectors)
{
	static const char *const names[] = {"CallSid", "Digits", "From", "To", "Caller"};
	static const char *const values[] = {"CA1234567890ABCDE", "1234", "+14158675309",
	                                     "+18005551212", "+14158675309"};
	char sig[OTD_TWILIO_SIGNATURE_SIZE];
	otd_twilio_signature(TW_TOKEN, TW_URL, names, values, 5, sig);
	ck_assert_str_eq(sig, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");

	static const char *const dup_names[] = {"Sid", "SidAccount", "Digits", "Digits", "Digits"};
	static const char *const dup_values[] = {"CA123", "AC123", "5678", "1234", "1234"};
	otd_twilio_signature(TW_TOKEN, TW_URL, dup_names, dup_values, 5, sig);
	ck_assert_str_eq(sig, "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
}
END_TEST

START_TEST(twilio_wrong_token_fails)
{
	char sig[OTD_TWILIO_SIGNATURE_SIZE];
	otd_twilio_signature("12346", TW_URL, tw_names, tw_values, 5, sig);
	ck_assert_str_ne(sig, TW_SIGNATURE);
	ck_assert(!otd_twilio_verify("12346", TW_URL, tw_names, tw_values, 5, TW_SIGNATURE));
	ck_assert(!otd_twilio_verify("", TW_URL, tw_names, tw_values, 5, TW_SIGNATURE));
}
END_TEST

START_TEST(twilio_tampered_parameter_url_or_header_fails)
{
	const char *values[5];
	memcpy(values, tw_values, sizeof(values));
	values[2] = "1235";
	ck_assert(!otd_twilio_verify(TW_TOKEN, TW_URL, tw_names, values, 5, TW_SIGNATURE));
	values[2] = "1234";
	ck_assert(otd_twilio_verify(TW_TOKEN, TW_URL, tw_names, values, 5, TW_SIGNATURE));

	/* A parameter renamed, dropped or added. */
	const char *names[6] = {"CallSid", "Caller", "digits", "From", "To", "Extra"};
	const char *values6[6] = {tw_values[0], tw_values[1], tw_values[2],
	                          tw_values[3], tw_values[4], ""};
	ck_assert(!otd_twilio_verify(TW_TOKEN, TW_URL, names, values6, 5, TW_SIGNATURE));
	names[2] = "Digits";
	ck_assert(otd_twilio_verify(TW_TOKEN, TW_URL, names, values6, 5, TW_SIGNATURE));
	ck_assert(!otd_twilio_verify(TW_TOKEN, TW_URL, names, values6, 4, TW_SIGNATURE));
	ck_assert(!otd_twilio_verify(TW_TOKEN, TW_URL, names, values6, 6, TW_SIGNATURE));

	/* The URL: another query, a trailing slash, http for https. */
	ck_assert(
	    !otd_twilio_verify(TW_TOKEN, TW_URL "&baz=3", tw_names, tw_values, 5, TW_SIGNATURE));
	ck_assert(!otd_twilio_verify(TW_TOKEN, "https://mycompany.com/myapp.php/?foo=1&bar=2",
	                             tw_names, tw_values, 5, TW_SIGNATURE));
	ck_assert(!otd_twilio_verify(TW_TOKEN, "http://mycompany.com/myapp.php?foo=1&bar=2",
	                             tw_names, tw_values, 5, TW_SIGNATURE));

	/* The header: absent, empty, cut, lengthened, one character off. */
	ck_assert(!otd_twilio_verify(TW_TOKEN, TW_URL, tw_names, tw_values, 5, NULL));
	ck_assert(!otd_twilio_verify(TW_TOKEN, TW_URL, tw_names, tw_values, 5, ""));
	ck_assert(!otd_twilio_verify(TW_TOKEN, TW_URL, tw_names, tw_values, 5,
	                             "0/KCTR6DLpKmkAf8muzZqo1nDgQ"));
	ck_assert(!otd_twilio_verify(TW_TOKEN, TW_URL, tw_names, tw_values, 5, TW_SIGNATURE " "));
	ck_assert(!otd_twilio_verify(TW_TOKEN, TW_URL, tw_names, tw_values, 5,
	                             "0/KCTR6DLpKmkAf8muzZqo1nDgR="));
}
END_TEST

START_TEST(twilio_parameter_order_does_not_matter)
{
	static const char *const names[] = {"To", "Digits", "From", "CallSid", "Caller"};
	static const char *const values[] = {"+18005551212", "1234", "+12349013030",
	                                     "CA1234567890ABCDE", "+12349013030"};
	char sig[OTD_TWILIO_SIGNATURE_SIZE];
	otd_twilio_signature(TW_TOKEN, TW_URL, names, values, 5, sig);
	ck_assert_str_eq(sig, TW_SIGNATURE);
	ck_assert(otd_twilio_verify(TW_TOKEN, TW_URL, names, values, 5, TW_SIGNATURE));
}
END_TEST

/* Values computed with python3's hmac module (hashlib.sha1, base64). */
START_TEST(twilio_no_parameters_and_utf8_values)
{
	char sig[OTD_TWILIO_SIGNATURE_SIZE];
	otd_twilio_signature(TW_TOKEN, "https://visits.example.org/hooks/twilio/status", NULL, NULL,
	                     0, sig);
	ck_assert_str_eq(sig, "jCMM7+zBmHCdOOqUTBiE45SjiS4=");

	static const char *const names[] = {"MessageStatus", "Body", "MessageSid"};
	static const char *const values[] = {"delivered", "Zoë O'Brien-Nguyễn & Łukasz", "SM0123"};
	otd_twilio_signature(TW_TOKEN,
	                     "https://visits.example.org/hooks/twilio/status?key=dlr%3A42", names,
	                     values, 3, sig);
	ck_assert_str_eq(sig, "KkPHO3vzKAxYZhsGGi+NAO2O+mo=");
}
END_TEST

START_TEST(webhook_signature_is_hex_hmac_sha256)
{
	char sig[OTD_WEBHOOK_SIGNATURE_SIZE];
	/* RFC 4231 test case 2. */
	const char *data = "what do ya want for nothing?";
	otd_webhook_signature("Jefe", data, strlen(data), sig);
	ck_assert_str_eq(sig,
	                 "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

	/* python3: hmac.new(secret, body, hashlib.sha256).hexdigest() */
	const char *body = "{\"event\":\"appointment.booked\",\"id\":1234}";
	otd_webhook_signature("whsec_Wrenfield-2026", body, strlen(body), sig);
	ck_assert_str_eq(sig,
	                 "sha256=f0f797f82729257b60c31ea03c9964079c9222f8d9fe4598995833b087bdc88f");
	ck_assert_uint_eq(strlen(sig), OTD_WEBHOOK_SIGNATURE_SIZE - 1);

	/* A key longer than SHA-256's block is hashed first; an empty body. */
	char long_key[101];
	memset(long_key, 'k', 100);
	long_key[100] = '\0';
	otd_webhook_signature(long_key, "", 0, sig);
	ck_assert_str_eq(sig,
	                 "sha256=d46761768ee3c864fc76c08b3d73c8092853ae3fefa01b990963dfa2d56e7334");

	/* The body is bytes: a NUL inside counts. */
	char a[OTD_WEBHOOK_SIGNATURE_SIZE], b[OTD_WEBHOOK_SIGNATURE_SIZE];
	otd_webhook_signature("s", "ab\0c", 4, a);
	otd_webhook_signature("s", "ab\0d", 4, b);
	ck_assert_str_ne(a, b);
}
END_TEST

static void key_0_to_31(unsigned char key[32])
{
	for(int i = 0; i < 32; i++)
		key[i] = (unsigned char)i;
}

/* python3: base64.urlsafe_b64encode(hmac.new(bytes(range(32)), m,
 * hashlib.sha256).digest()[:16]).rstrip(b"=") */
START_TEST(url_token_is_truncated_hmac_in_base64url)
{
	unsigned char key[32];
	char token[OTD_URL_TOKEN_SIZE];
	key_0_to_31(key);
	otd_url_token(key, "dlr:1234", token);
	ck_assert_str_eq(token, "I8Hc86yl3zfVdzFvHw0sqA");
	ck_assert_uint_eq(strlen(token), OTD_URL_TOKEN_LEN);
	otd_url_token(key, "dlr:1235", token);
	ck_assert_str_eq(token, "ZV1h1rTpwmw2CrydFwHRLQ");
	otd_url_token(key, "", token);
	ck_assert_str_eq(token, "04tCCW2A9F-Ca0Sp1WB95w");
	/* URL-safe: never '+', '/' or '='. */
	ck_assert_ptr_null(strpbrk(token, "+/="));
}
END_TEST

START_TEST(url_token_verifies_only_its_message_and_key)
{
	unsigned char key[32], other[32];
	char token[OTD_URL_TOKEN_SIZE];
	key_0_to_31(key);
	memcpy(other, key, sizeof(other));
	other[31] ^= 1;

	otd_url_token(key, "dlr:1234", token);
	ck_assert(otd_url_token_verify(key, "dlr:1234", token));
	ck_assert(otd_url_token_verify(key, "dlr:1234", "I8Hc86yl3zfVdzFvHw0sqA"));
	ck_assert(!otd_url_token_verify(key, "dlr:1235", token));
	ck_assert(!otd_url_token_verify(key, "dlr:12345", token));
	ck_assert(!otd_url_token_verify(other, "dlr:1234", token));
	ck_assert(!otd_url_token_verify(key, "dlr:1234", NULL));
	ck_assert(!otd_url_token_verify(key, "dlr:1234", ""));
	ck_assert(!otd_url_token_verify(key, "dlr:1234", "I8Hc86yl3zfVdzFvHw0sq"));
	ck_assert(!otd_url_token_verify(key, "dlr:1234", "I8Hc86yl3zfVdzFvHw0sqA="));
	ck_assert(!otd_url_token_verify(key, "dlr:1234", "I8Hc86yl3zfVdzFvHw0sqB"));
	/* The other alphabet's spelling of the same bytes is not ours. */
	ck_assert(!otd_url_token_verify(key, "dlr:1235", "ZV1h1rTpwmw2CrydFwHRLQ="));

	/* Random keys: every message gets its own token. */
	randombytes_buf(key, sizeof(key));
	char t1[OTD_URL_TOKEN_SIZE], t2[OTD_URL_TOKEN_SIZE];
	otd_url_token(key, "dlr:1", t1);
	otd_url_token(key, "dlr:2", t2);
	ck_assert_str_ne(t1, t2);
	ck_assert(otd_url_token_verify(key, "dlr:1", t1));
	ck_assert(!otd_url_token_verify(key, "dlr:1", t2));
}
END_TEST

int main(void)
{
	if(sodium_init() < 0)
		return 1;
	Suite *s = suite_create("sign");
	TCase *tw = tcase_create("twilio");
	tcase_set_timeout(tw, 30);
	tcase_add_test(tw, twilio_matches_the_documented_example);
	tcase_add_test(tw, twilio_matches_the_helper_libraries_vectors);
	tcase_add_test(tw, twilio_wrong_token_fails);
	tcase_add_test(tw, twilio_tampered_parameter_url_or_header_fails);
	tcase_add_test(tw, twilio_parameter_order_does_not_matter);
	tcase_add_test(tw, twilio_no_parameters_and_utf8_values);
	suite_add_tcase(s, tw);
	TCase *wh = tcase_create("webhook");
	tcase_set_timeout(wh, 30);
	tcase_add_test(wh, webhook_signature_is_hex_hmac_sha256);
	suite_add_tcase(s, wh);
	TCase *tok = tcase_create("url_token");
	tcase_set_timeout(tok, 30);
	tcase_add_test(tok, url_token_is_truncated_hmac_in_base64url);
	tcase_add_test(tok, url_token_verifies_only_its_message_and_key);
	suite_add_tcase(s, tok);
	return testutil_run(s);
}
