/* argon2id worker threads. */
#include "app/hasher.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"

struct otd_hasher {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct hash_job *head, *tail;
	int depth, max_depth;
	bool stopping;
	int n_workers;
	pthread_t *workers;
};

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[OTD_HASH_MAX];

static void make_dummy(void)
{
	unsigned char pw[24];
	char text[64];
	randombytes_buf(pw, sizeof(pw));
	sodium_bin2hex(text, sizeof(text), pw, sizeof(pw));
	if(hasher_hash_now(text, dummy_hash) != OTD_OK)
		abort();
}

const char *hasher_dummy_hash(void)
{
	pthread_once(&dummy_once, make_dummy);
	return dummy_hash;
}

enum otd_status hasher_hash_now(const char *password, char *out)
{
	if(crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                     crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return OTD_ENOMEM;
	return OTD_OK;
}

bool hasher_verify_now(const char *hash, const char *password)
{
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

static void *worker_main(void *arg)
{
	pthread_setname_np(pthread_self(), "otd-hasher"); /* as top -H shows it */
	struct otd_hasher *h = arg;
	for(;;) {
		pthread_mutex_lock(&h->mu);
		while(!h->head && !h->stopping)
			pthread_cond_wait(&h->cv, &h->mu);
		if(!h->head) {
			pthread_mutex_unlock(&h->mu);
			return NULL;
		}
		struct hash_job *j = h->head;
		h->head = j->next;
		if(!h->head)
			h->tail = NULL;
		h->depth--;
		pthread_mutex_unlock(&h->mu);
		j->match = hasher_verify_now(j->hash, j->password);
		sodium_memzero(j->password, sizeof(j->password));
		j->status = OTD_OK;
		j->done(j, j->arg);
	}
}

struct otd_hasher *hasher_new(int workers, int queue)
{
	struct otd_hasher *h = xcalloc(1, sizeof(*h));
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	h->max_depth = queue < 1 ? 1 : queue;
	h->n_workers = workers < 1 ? 1 : workers;
	h->workers = xcalloc((size_t)h->n_workers, sizeof(*h->workers));
	hasher_dummy_hash(); /* computed once, before any request waits on it */
	for(int i = 0; i < h->n_workers; i++)
		if(pthread_create(&h->workers[i], NULL, worker_main, h) != 0)
			abort();
	return h;
}

void hasher_free(struct otd_hasher *h)
{
	if(!h)
		return;
	pthread_mutex_lock(&h->mu);
	h->stopping = true;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	for(int i = 0; i < h->n_workers; i++)
		pthread_join(h->workers[i], NULL);
	free(h->workers);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	free(h);
}

void hasher_submit(struct otd_hasher *h, struct hash_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&h->mu);
	if(h->stopping || h->depth >= h->max_depth) {
		pthread_mutex_unlock(&h->mu);
		sodium_memzero(job->password, sizeof(job->password));
		job->match = false;
		job->status = OTD_EBUSY;
		job->done(job, job->arg);
		return;
	}
	if(h->tail)
		h->tail->next = job;
	else
		h->head = job;
	h->tail = job;
	h->depth++;
	pthread_cond_signal(&h->cv);
	pthread_mutex_unlock(&h->mu);
}
