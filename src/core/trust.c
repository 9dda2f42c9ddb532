/* The trust figures' arithmetic: percentages, medians, notice, and the
 * promises kept by window width. */
#include "onthedot/trust.h"

#include <stdlib.h>
#include <string.h>

int otd_trust_percent(int64_t part, int64_t whole)
{
	if(whole <= 0)
		return -1;
	if(part < 0)
		part = 0;
	if(part > whole)
		part = whole;
	/* part * 100 cannot overflow for any count a database holds (< 2^56). */
	return (int)(part * 100 / whole);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* floor(a / b) for b > 0: C division truncates towards zero. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && a < 0) ? q - 1 : q;
}

bool otd_trust_median(int64_t *v, size_t n, int64_t *out)
{
	if(n == 0)
		return false;
	qsort(v, n, sizeof(*v), cmp_i64);
	if(n % 2)
		*out = v[n / 2];
	else {
		int64_t a = v[n / 2 - 1], b = v[n / 2];
		/* a + b may overflow for extreme values: halve each first. */
		*out = floor_div(a, 2) + floor_div(b, 2) + (a % 2 != 0 && b % 2 != 0 ? 1 : 0);
	}
	return true;
}

int64_t otd_trust_notice_minutes(int64_t window_start, int64_t told_at)
{
	return floor_div(window_start - told_at, 60);
}

void otd_trust_period_init(struct otd_trust_period *p, int days, int64_t now)
{
	memset(p, 0, sizeof(*p));
	p->days = days;
	p->to = now;
	p->from = now - (int64_t)days * 86400;
	p->overall.percent = -1;
}

static void add_to(struct otd_trust_kept *k, int64_t due, int64_t kept, int64_t early)
{
	k->due += due;
	k->kept += kept;
	k->early += early;
	k->percent = otd_trust_percent(k->kept, k->due);
}

void otd_trust_add_kept(struct otd_trust_period *p, int width_min, int64_t due, int64_t kept,
                        int64_t early)
{
	add_to(&p->overall, due, kept, early);
	if(width_min <= 0)
		return;
	size_t i = 0;
	while(i < p->n_widths && p->widths[i].width_min < width_min)
		i++;
	if(i < p->n_widths && p->widths[i].width_min == width_min) {
		add_to(&p->widths[i], due, kept, early);
		return;
	}
	if(p->n_widths == OTD_TRUST_WIDTHS_MAX) {
		p->widths_truncated = true;
		return;
	}
	memmove(&p->widths[i + 1], &p->widths[i], (p->n_widths - i) * sizeof(p->widths[0]));
	p->n_widths++;
	memset(&p->widths[i], 0, sizeof(p->widths[i]));
	p->widths[i].width_min = width_min;
	add_to(&p->widths[i], due, kept, early);
}

const struct otd_trust_kept *otd_trust_width(const struct otd_trust_period *p, int width_min)
{
	for(size_t i = 0; i < p->n_widths; i++)
		if(p->widths[i].width_min == width_min)
			return p->widths[i].due > 0 ? &p->widths[i] : NULL;
	return NULL;
}
