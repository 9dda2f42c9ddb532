/* onthedot password hashing off the request threads.
 *
 * argon2id (libsodium crypto_pwhash, interactive limits: about 64 MiB and
 * tens of milliseconds) would stall every connection of a libmicrohttpd
 * pool thread, so request handlers suspend their connection and hand the
 * work to these worker threads, which call back when done (TRAPS.md). */
#ifndef OTD_APP_HASHER_H
#define OTD_APP_HASHER_H

#include <stdbool.h>
#include <stddef.h>

#include "onthedot/status.h"

#define OTD_HASH_MAX 128 /* crypto_pwhash_STRBYTES */
#define OTD_PASSWORD_MIN 10
#define OTD_PASSWORD_MAX 256

struct otd_hasher;

/* Starts workers threads with room for queue pending jobs. */
struct otd_hasher *hasher_new(int workers, int queue);

/* Finishes queued jobs, joins the workers and frees the hasher. */
void hasher_free(struct otd_hasher *h);

/* A verification job: the caller owns it until done is called. */
struct hash_job {
	char hash[OTD_HASH_MAX];        /* in: the stored hash */
	char password[OTD_PASSWORD_MAX + 1]; /* in: wiped after use */
	bool match;                     /* out */
	enum otd_status status;         /* out: OTD_OK, or OTD_EBUSY when refused */
	void (*done)(struct hash_job *job, void *arg);
	void *arg;
	struct hash_job *next;
};

/* Queues job; done(job, arg) is called from a worker thread once job->match
 * is set. When the queue is full the job is not queued: job->status is
 * OTD_EBUSY and done is called at once on the calling thread. */
void hasher_submit(struct otd_hasher *h, struct hash_job *job);

/* Hashes password with argon2id into out (OTD_HASH_MAX bytes), on the
 * calling thread: for the command line only. OTD_ENOMEM when the memory
 * limit cannot be met. */
enum otd_status hasher_hash_now(const char *password, char *out);

/* Verifies on the calling thread (command line and tests). */
bool hasher_verify_now(const char *hash, const char *password);

/* A fixed valid argon2id hash of a random password, for verifying against
 * when an account does not exist so its absence takes as long. */
const char *hasher_dummy_hash(void);

#endif
