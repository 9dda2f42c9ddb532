/* Unit tests: argon2id hashing and the worker threads that verify
 * passwords off the request threads (app/hasher.c). Each hash takes about
 * half a second under AddressSanitizer, so the timeouts are generous. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "app/hasher.h"
#include "testutil.h"

static const char good_pw[] = "correct horse battery";
static char good_hash[OTD_HASH_MAX];

/* Hashes the known password once per test process (in the test itself:
 * check forks, and nothing here must be shared across that). */
static const char *known_hash(void)
{
	if(!good_hash[0])
		ck_assert_int_eq(hasher_hash_now(good_pw, good_hash), OTD_OK);
	return good_hash;
}

START_TEST(hash_and_verify_on_the_calling_thread)
{
	const char *h = known_hash();
	ck_assert_int_eq(strncmp(h, "$argon2id$", 10), 0);
	ck_assert_uint_lt(strlen(h), OTD_HASH_MAX);
	ck_assert(hasher_verify_now(h, good_pw));
	ck_assert(!hasher_verify_now(h, "correct horse battery "));
	ck_assert(!hasher_verify_now(h, "Correct horse battery"));
	ck_assert(!hasher_verify_now(h, ""));
	ck_assert(!hasher_verify_now("not a hash", good_pw));
	/* A fresh salt each time: the same password hashes differently. */
	char again[OTD_HASH_MAX];
	ck_assert_int_eq(hasher_hash_now(good_pw, again), OTD_OK);
	ck_assert_str_ne(again, h);
	ck_assert(hasher_verify_now(again, good_pw));
}
END_TEST

START_TEST(dummy_hash_is_valid_and_matches_nothing_guessable)
{
	const char *d = hasher_dummy_hash();
	ck_assert_int_eq(strncmp(d, "$argon2id$", 10), 0);
	ck_assert_ptr_eq(hasher_dummy_hash(), d); /* computed once */
	ck_assert(!hasher_verify_now(d, ""));
	ck_assert(!hasher_verify_now(d, good_pw));
}
END_TEST

/* A job with its own completion flag. */
struct waited_job {
	struct hash_job job;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	pthread_t called_on;
	bool done_before_return; /* set by the test around hasher_submit */
	/* A gate the callback waits at when closed (to keep a worker busy). */
	bool gated, gate_open, entered;
};

static void on_done(struct hash_job *job, void *arg)
{
	struct waited_job *w = arg;
	(void)job;
	pthread_mutex_lock(&w->mu);
	w->called_on = pthread_self();
	w->done = true;
	w->entered = true;
	pthread_cond_broadcast(&w->cv);
	while(w->gated && !w->gate_open)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

static void job_init(struct waited_job *w, const char *hash, const char *password)
{
	memset(w, 0, sizeof(*w));
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	snprintf(w->job.hash, sizeof(w->job.hash), "%s", hash);
	snprintf(w->job.password, sizeof(w->job.password), "%s", password);
	w->job.status = OTD_EINTERNAL; /* must be overwritten */
	w->job.done = on_done;
	w->job.arg = w;
}

static void job_wait(struct waited_job *w)
{
	pthread_mutex_lock(&w->mu);
	while(!w->done)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
}

static void job_open_gate(struct waited_job *w)
{
	pthread_mutex_lock(&w->mu);
	w->gate_open = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static void job_destroy(struct waited_job *w)
{
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
}

static bool all_zero(const char *p, size_t n)
{
	for(size_t i = 0; i < n; i++)
		if(p[i])
			return false;
	return true;
}

START_TEST(workers_verify_and_wipe_the_password)
{
	const char *h = known_hash();
	struct otd_hasher *hs = hasher_new(2, 8);
	struct waited_job right, wrong;
	job_init(&right, h, good_pw);
	job_init(&wrong, h, "wrong password");
	hasher_submit(hs, &right.job);
	hasher_submit(hs, &wrong.job);
	job_wait(&right);
	job_wait(&wrong);
	ck_assert_int_eq(right.job.status, OTD_OK);
	ck_assert(right.job.match);
	ck_assert_int_eq(wrong.job.status, OTD_OK);
	ck_assert(!wrong.job.match);
	/* done ran on a worker, not here. */
	ck_assert(!pthread_equal(right.called_on, pthread_self()));
	ck_assert(!pthread_equal(wrong.called_on, pthread_self()));
	ck_assert(all_zero(right.job.password, sizeof(right.job.password)));
	ck_assert(all_zero(wrong.job.password, sizeof(wrong.job.password)));
	hasher_free(hs);
	job_destroy(&right);
	job_destroy(&wrong);
}
END_TEST

START_TEST(a_full_queue_answers_busy_on_the_callers_thread)
{
	const char *h = known_hash();
	struct otd_hasher *hs = hasher_new(1, 1);
	/* The only worker verifies a, then waits inside a's callback. */
	struct waited_job a, b, c;
	job_init(&a, h, good_pw);
	a.gated = true;
	hasher_submit(hs, &a.job);
	pthread_mutex_lock(&a.mu);
	while(!a.entered)
		pthread_cond_wait(&a.cv, &a.mu);
	pthread_mutex_unlock(&a.mu);
	/* b fills the queue of one. */
	job_init(&b, h, good_pw);
	hasher_submit(hs, &b.job);
	ck_assert(!b.done);
	/* c finds it full: refused at once, here. */
	job_init(&c, h, good_pw);
	hasher_submit(hs, &c.job);
	ck_assert(c.done); /* before hasher_submit returned */
	ck_assert(pthread_equal(c.called_on, pthread_self()));
	ck_assert_int_eq(c.job.status, OTD_EBUSY);
	ck_assert(!c.job.match);
	ck_assert(all_zero(c.job.password, sizeof(c.job.password)));
	/* Let the worker go: b is verified normally. */
	job_open_gate(&a);
	job_wait(&b);
	ck_assert_int_eq(a.job.status, OTD_OK);
	ck_assert(a.job.match);
	ck_assert_int_eq(b.job.status, OTD_OK);
	ck_assert(b.job.match);
	/* And there is room again. */
	struct waited_job d;
	job_init(&d, h, "nope nope nope");
	hasher_submit(hs, &d.job);
	job_wait(&d);
	ck_assert_int_eq(d.job.status, OTD_OK);
	ck_assert(!d.job.match);
	hasher_free(hs);
	job_destroy(&a);
	job_destroy(&b);
	job_destroy(&c);
	job_destroy(&d);
}
END_TEST

START_TEST(concurrent_jobs_each_get_their_own_answer)
{
	const char *h = known_hash();
	struct otd_hasher *hs = hasher_new(3, 16);
	struct waited_job jobs[6];
	for(int i = 0; i < 6; i++) {
		job_init(&jobs[i], h, i % 2 ? "not the password" : good_pw);
		hasher_submit(hs, &jobs[i].job);
	}
	for(int i = 0; i < 6; i++) {
		job_wait(&jobs[i]);
		ck_assert_int_eq(jobs[i].job.status, OTD_OK);
		ck_assert_msg(jobs[i].job.match == (i % 2 == 0), "job %d", i);
		job_destroy(&jobs[i]);
	}
	hasher_free(hs);
}
END_TEST

START_TEST(free_finishes_the_queued_jobs)
{
	const char *h = known_hash();
	struct otd_hasher *hs = hasher_new(1, 8);
	struct waited_job jobs[3];
	for(int i = 0; i < 3; i++) {
		job_init(&jobs[i], h, good_pw);
		hasher_submit(hs, &jobs[i].job);
	}
	hasher_free(hs); /* joins the worker after the queue is empty */
	for(int i = 0; i < 3; i++) {
		ck_assert_msg(jobs[i].done, "job %d dropped", i);
		ck_assert_int_eq(jobs[i].job.status, OTD_OK);
		ck_assert(jobs[i].job.match);
		job_destroy(&jobs[i]);
	}
	hasher_free(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hasher");
	TCase *tc = tcase_create("hasher");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, hash_and_verify_on_the_calling_thread);
	tcase_add_test(tc, dummy_hash_is_valid_and_matches_nothing_guessable);
	tcase_add_test(tc, workers_verify_and_wipe_the_password);
	tcase_add_test(tc, a_full_queue_answers_busy_on_the_callers_thread);
	tcase_add_test(tc, concurrent_jobs_each_get_their_own_answer);
	tcase_add_test(tc, free_finishes_the_queued_jobs);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
