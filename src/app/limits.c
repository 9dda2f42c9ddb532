/* Keyed token buckets: an open hash table under one mutex. Lookups are
 * a few hundred nanoseconds; the lock is held only for the arithmetic. */
#include "app/limits.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "onthedot/ratelimit.h"

struct entry {
	char *key; /* NULL: empty slot */
	struct otd_bucket bucket;
};

struct otd_limiter {
	double rate; /* per second */
	double burst;
	size_t slots; /* power of two, twice max_keys */
	size_t used;
	size_t max_keys;
	struct entry *table;
	pthread_mutex_t mu;
};

static uint64_t hash_key(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for(; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

struct otd_limiter *limiter_new(double per_minute, int burst, int max_keys)
{
	struct otd_limiter *l = xcalloc(1, sizeof(*l));
	l->rate = per_minute / 60.0;
	l->burst = burst < 1 ? 1 : burst;
	l->max_keys = max_keys < 16 ? 16 : (size_t)max_keys;
	l->slots = 32;
	while(l->slots < 2 * l->max_keys)
		l->slots *= 2;
	l->table = xcalloc(l->slots, sizeof(*l->table));
	pthread_mutex_init(&l->mu, NULL);
	return l;
}

void limiter_free(struct otd_limiter *l)
{
	if(!l)
		return;
	for(size_t i = 0; i < l->slots; i++)
		free(l->table[i].key);
	free(l->table);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

/* Rebuilds the table without idle buckets (linear probing has no
 * tombstones this way). Called with the lock held. */
static void prune(struct otd_limiter *l, int64_t now_ms)
{
	struct entry *old = l->table;
	l->table = xcalloc(l->slots, sizeof(*l->table));
	l->used = 0;
	for(size_t i = 0; i < l->slots; i++) {
		if(!old[i].key)
			continue;
		if(otd_bucket_idle(&old[i].bucket, l->rate, l->burst, now_ms)) {
			free(old[i].key);
			continue;
		}
		size_t j = hash_key(old[i].key) & (l->slots - 1);
		while(l->table[j].key)
			j = (j + 1) & (l->slots - 1);
		l->table[j] = old[i];
		l->used++;
	}
	free(old);
}

bool limiter_take(struct otd_limiter *l, const char *key, int64_t now_ms, int *retry_after_s)
{
	pthread_mutex_lock(&l->mu);
	size_t i = hash_key(key) & (l->slots - 1);
	while(l->table[i].key && strcmp(l->table[i].key, key) != 0)
		i = (i + 1) & (l->slots - 1);
	if(!l->table[i].key) {
		if(l->used >= l->max_keys) {
			prune(l, now_ms);
			if(l->used >= l->max_keys) {
				pthread_mutex_unlock(&l->mu);
				return true;
			}
			i = hash_key(key) & (l->slots - 1);
			while(l->table[i].key)
				i = (i + 1) & (l->slots - 1);
		}
		l->table[i].key = xstrdup(key);
		l->table[i].bucket = (struct otd_bucket){0};
		l->used++;
	}
	bool ok = otd_bucket_take(&l->table[i].bucket, l->rate, l->burst, now_ms, retry_after_s);
	pthread_mutex_unlock(&l->mu);
	return ok;
}
