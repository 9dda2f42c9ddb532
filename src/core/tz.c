/* A time zone as an immutable, sorted table of UTC offset transitions. */
#include "onthedot/tz.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"

#define SECONDS_PER_DAY 86400

struct otd_tz {
	char *name;
	size_t n;     /* transitions */
	int64_t *at;  /* n ascending UTC instants */
	int32_t *off; /* n + 1 offsets: off[0] before at[0], off[i + 1] from at[i] */
};

struct otd_tz *otd_tz_new(const char *name, int32_t initial_offset, const int64_t *at,
                          const int32_t *offset, size_t n)
{
	if(!name || initial_offset > OTD_TZ_OFFSET_MAX || initial_offset < -OTD_TZ_OFFSET_MAX)
		return NULL;
	for(size_t i = 0; i < n; i++) {
		if(offset[i] > OTD_TZ_OFFSET_MAX || offset[i] < -OTD_TZ_OFFSET_MAX)
			return NULL;
		if(i > 0 && at[i] <= at[i - 1])
			return NULL;
	}
	struct otd_tz *tz = xcalloc(1, sizeof(*tz));
	tz->name = xstrdup(name);
	tz->n = n;
	tz->at = xmalloc((n ? n : 1) * sizeof(*tz->at));
	tz->off = xmalloc((n + 1) * sizeof(*tz->off));
	tz->off[0] = initial_offset;
	if(n) {
		memcpy(tz->at, at, n * sizeof(*at));
		memcpy(tz->off + 1, offset, n * sizeof(*offset));
	}
	return tz;
}

void otd_tz_free(struct otd_tz *tz)
{
	if(!tz)
		return;
	free(tz->name);
	free(tz->at);
	free(tz->off);
	free(tz);
}

const char *otd_tz_name(const struct otd_tz *tz)
{
	return tz->name;
}

size_t otd_tz_transition_count(const struct otd_tz *tz)
{
	return tz->n;
}

/* How many transitions happen at or before utc: the index into off[]. */
static size_t segment_at(const struct otd_tz *tz, int64_t utc)
{
	size_t lo = 0, hi = tz->n;
	while(lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if(tz->at[mid] <= utc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int32_t otd_tz_offset_at(const struct otd_tz *tz, int64_t utc)
{
	return tz->off[segment_at(tz, utc)];
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

void otd_tz_to_local(const struct otd_tz *tz, int64_t utc, struct otd_local *out)
{
	int32_t off = otd_tz_offset_at(tz, utc);
	int64_t wall = utc + off;
	otd_civil_from_seconds(wall, &out->c);
	out->offset = off;
	out->weekday = otd_weekday(floor_div(wall, SECONDS_PER_DAY));
}

/* Resolves wall time `wall` (civil seconds taken as UTC) to instants, as
 * otd_tz_from_local documents. For a GAP *transition is the instant the
 * clocks jumped; otherwise it is left alone. */
static enum otd_local_kind resolve(const struct otd_tz *tz, int64_t wall, int64_t *earlier,
                                   int64_t *later, int64_t *transition)
{
	/* Every instant whose wall reading could be `wall` lies within the
	 * largest offset of it; a day of margin keeps the edges simple. */
	const int64_t reach = OTD_TZ_OFFSET_MAX + SECONDS_PER_DAY;
	size_t k0 = segment_at(tz, wall - reach);
	size_t k1 = segment_at(tz, wall + reach);
	int64_t lo = 0, hi = 0;
	bool found = false;

	for(size_t k = k0; k <= k1; k++) {
		int64_t t = wall - tz->off[k];
		if(otd_tz_offset_at(tz, t) != tz->off[k])
			continue;
		if(!found || t < lo)
			lo = t;
		if(!found || t > hi)
			hi = t;
		found = true;
	}
	if(found) {
		*earlier = lo;
		*later = hi;
		return lo == hi ? OTD_LOCAL_UNIQUE : OTD_LOCAL_OVERLAP;
	}

	/* No instant reads `wall`, so the wall clock jumped over it at a
	 * transition T going from offset b to a > b: T + b <= wall < T + a. */
	for(size_t j = k0 ? k0 - 1 : 0; j < k1 && j < tz->n; j++) {
		int32_t b = tz->off[j], a = tz->off[j + 1];
		int64_t t = tz->at[j];
		if(a > b && t + b <= wall && wall < t + a) {
			*earlier = wall - b;
			*later = wall - a;
			*transition = t;
			return OTD_LOCAL_GAP;
		}
	}
	/* Unreachable: wall + offset is a step function, so a value it skips
	 * lies in some jump. Stay safe in release builds. */
	assert(!"otd_tz_from_local: gap without a transition");
	*earlier = *later = *transition = wall - otd_tz_offset_at(tz, wall);
	return OTD_LOCAL_UNIQUE;
}

enum otd_local_kind otd_tz_from_local(const struct otd_tz *tz, const struct otd_civil *local,
                                      int64_t *earlier, int64_t *later)
{
	int64_t e, l, t;
	enum otd_local_kind kind = resolve(tz, otd_civil_to_seconds(local), &e, &l, &t);
	if(earlier)
		*earlier = e;
	if(later)
		*later = l;
	return kind;
}

static int64_t day_start_of(const struct otd_tz *tz, int64_t days)
{
	int64_t e, l, t;
	if(resolve(tz, days * SECONDS_PER_DAY, &e, &l, &t) == OTD_LOCAL_GAP)
		return t; /* midnight was skipped: the day begins when the clocks land */
	return e;
}

int64_t otd_tz_day_start(const struct otd_tz *tz, int y, int m, int d)
{
	return day_start_of(tz, otd_days_from_civil(y, m, d));
}

int otd_tz_day_length(const struct otd_tz *tz, int y, int m, int d)
{
	int64_t days = otd_days_from_civil(y, m, d);
	return (int)(day_start_of(tz, days + 1) - day_start_of(tz, days));
}

size_t otd_tz_format_local(const struct otd_tz *tz, int64_t utc, char *buf, size_t size)
{
	int32_t off = otd_tz_offset_at(tz, utc);
	off = off / 60 * 60; /* RFC 3339 offsets have no seconds */
	struct otd_civil c;
	otd_civil_from_seconds(utc + off, &c);
	int32_t mag = off < 0 ? -off : off;
	int n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", c.year, c.month,
	                 c.day, c.hour, c.minute, c.second, off < 0 ? '-' : '+', (int)(mag / 3600),
	                 (int)(mag / 60 % 60));
	if(n < 0 || (size_t)n >= size) {
		if(size > 0)
			buf[0] = '\0';
		return 0;
	}
	return (size_t)n;
}
