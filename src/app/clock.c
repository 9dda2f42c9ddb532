/* Real and virtual clocks. */
#include "onthedot/clock.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "onthedot/mem.h"

struct otd_clock {
	bool is_virtual;
	_Atomic int64_t now; /* virtual clocks only */
};

struct otd_clock *otd_clock_new_real(void)
{
	struct otd_clock *c = xcalloc(1, sizeof(*c));
	c->is_virtual = false;
	return c;
}

struct otd_clock *otd_clock_new_virtual(int64_t start)
{
	struct otd_clock *c = xcalloc(1, sizeof(*c));
	c->is_virtual = true;
	atomic_store(&c->now, start);
	return c;
}

void otd_clock_free(struct otd_clock *c)
{
	free(c);
}

int64_t otd_clock_now(const struct otd_clock *c)
{
	if(c->is_virtual)
		return atomic_load(&((struct otd_clock *)c)->now);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

int64_t otd_clock_now_ms(const struct otd_clock *c)
{
	if(c->is_virtual)
		return atomic_load(&((struct otd_clock *)c)->now) * 1000;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool otd_clock_is_virtual(const struct otd_clock *c)
{
	return c->is_virtual;
}

bool otd_clock_advance(struct otd_clock *c, int64_t seconds)
{
	if(!c->is_virtual || seconds < 0)
		return false;
	atomic_fetch_add(&c->now, seconds);
	return true;
}

bool otd_clock_set(struct otd_clock *c, int64_t t)
{
	if(!c->is_virtual)
		return false;
	int64_t cur = atomic_load(&c->now);
	while(t >= cur) {
		if(atomic_compare_exchange_weak(&c->now, &cur, t))
			return true;
	}
	return false;
}
