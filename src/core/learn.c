/* Learning durations and travel (onthedot/learn.h). */
#include "onthedot/learn.h"

#include <math.h>
#include <stdlib.h>

#include "onthedot/mem.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The median of sorted v[0..n), n > 0. */
static double median_sorted(const double *v, size_t n)
{
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void otd_learn_lognormal(const double *x, size_t n, double prior_median, double prior_sigma,
                         size_t full_n, struct otd_lognormal_fit *out)
{
	out->median = prior_median;
	out->sigma = prior_sigma;
	out->n = 0;
	out->dropped = 0;
	if(n == 0)
		return;
	double *lx = xmalloc(n * sizeof(*lx));
	double *dev = xmalloc(n * sizeof(*dev));
	size_t m = 0;
	for(size_t i = 0; i < n; i++)
		if(isfinite(x[i]) && x[i] > 0)
			lx[m++] = log(x[i]);
	out->dropped = n - m;
	if(m > 0) {
		qsort(lx, m, sizeof(*lx), cmp_double);
		double centre = median_sorted(lx, m);
		for(size_t i = 0; i < m; i++)
			dev[i] = fabs(lx[i] - centre);
		qsort(dev, m, sizeof(*dev), cmp_double);
		double mad = median_sorted(dev, m);
		double limit = OTD_LEARN_OUTLIER_MADS * 1.4826 * mad;
		if(limit < OTD_LEARN_OUTLIER_MIN)
			limit = OTD_LEARN_OUTLIER_MIN;
		size_t k = 0;
		for(size_t i = 0; i < m; i++)
			if(fabs(lx[i] - centre) <= limit)
				lx[k++] = lx[i]; /* stays sorted */
		out->dropped += m - k;
		double mu = median_sorted(lx, k); /* k >= 1: the centre itself is kept */
		for(size_t i = 0; i < k; i++)
			dev[i] = fabs(lx[i] - mu);
		qsort(dev, k, sizeof(*dev), cmp_double);
		double sigma = 1.4826 * median_sorted(dev, k);
		double w = k >= full_n ? 1.0 : (double)k / (double)full_n;
		out->median = exp(w * mu + (1.0 - w) * log(prior_median));
		out->sigma = w * sigma + (1.0 - w) * prior_sigma;
		out->n = k;
	}
	free(lx);
	free(dev);
}
