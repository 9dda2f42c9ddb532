/* onthedot delivery providers: how one message becomes one libcurl
 * transfer, and how its end becomes an outcome. Internal to src/notify. */
#ifndef OTD_NOTIFY_PROVIDER_H
#define OTD_NOTIFY_PROVIDER_H

#include <curl/curl.h>
#include <stdbool.h>

#include "app/delivery.h"
#include "onthedot/mail.h"
#include "onthedot/mem.h"

#define PROVIDER_RESPONSE_MAX 65536 /* bytes of a gateway's answer kept */

/* What a provider needs beyond the configuration. */
struct provider_env {
	const struct otd_config *cfg;
	const char *base_url;      /* of callback URLs */
	unsigned char url_key[32]; /* signs callback URLs */
	int64_t now;               /* for the Date header */
};

/* One transfer: the claimed message and everything its easy handle uses. */
struct transfer {
	struct otd_outbox_msg m;
	const struct provider *provider;
	int n_providers; /* of the message's channel */
	CURL *easy;
	struct curl_slist *headers, *rcpt;
	curl_mime *mime;
	char *post;              /* request body, owned */
	char *url;               /* owned */
	char *userpwd;           /* owned */
	struct otd_buf response; /* bounded by PROVIDER_RESPONSE_MAX */
	bool response_truncated;
	char provider_id[OTD_MAIL_MESSAGE_ID_SIZE + 8];
	char errbuf[CURL_ERROR_SIZE];
	/* The outcome, kept until it is stored (the writer may be busy). */
	struct delivery_result result;
	char why[512];
	bool logged; /* a failure to store it was logged */
	struct transfer *next;
};

struct provider {
	const char *name;
	/* Sets up t->easy (already created, with timeouts, the response sink
	 * and the error buffer) for t->m. A message this provider can never
	 * send (a payload without a recipient) is OTD_EINVAL with err saying
	 * why: a permanent failure, no transfer starts. */
	enum otd_status (*prepare)(const struct provider_env *env, struct transfer *t,
	                           struct otd_error *err);
	/* Turns the finished transfer into an outcome; error text goes into
	 * the caller's buffer why (size why_size). */
	void (*finish)(struct transfer *t, CURLcode rc, struct delivery_result *r, char *why,
	               size_t why_size);
};

/* The provider named name ("smtp", "kannel", "twilio", "webhook") or NULL. */
const struct provider *provider_find(const char *name);

/* Checks that the configuration has what provider name needs; OTD_EINVAL
 * naming the missing key otherwise. */
enum otd_status provider_check(const struct otd_config *cfg, const char *name,
                               struct otd_error *err);

#endif
