/* onthedot: learning durations and travel from what visitors did, pure.
 *
 * DESIGN.md, "Durations" and "Travel". Observations are positive numbers
 * (a visit's duration in seconds; a journey's time over the model's
 * prediction). They are fitted as log-normal, robustly: the centre is the
 * median of the logarithms and the spread 1.4826 times their median
 * absolute deviation, after dropping values further than
 * OTD_LEARN_OUTLIER_MADS such deviations (at least OTD_LEARN_OUTLIER_MIN in
 * the logarithm, a factor of e) from the median: a forgotten "done" tap or
 * an evening-long journey does not move the estimate. Below full_n kept
 * observations the estimate shrinks toward the prior in proportion:
 * w = n / full_n, log median = w * fitted + (1 - w) * log prior, and the
 * same for sigma. */
#ifndef ONTHEDOT_LEARN_H
#define ONTHEDOT_LEARN_H

#include <stddef.h>

#define OTD_LEARN_FULL_N 20
#define OTD_LEARN_OUTLIER_MADS 3.0
#define OTD_LEARN_OUTLIER_MIN 1.0

struct otd_lognormal_fit {
	double median; /* > 0 */
	double sigma;  /* >= 0 */
	size_t n;      /* observations kept */
	size_t dropped; /* outliers left out */
};

/* Fits x[0..n) (values <= 0 or not finite are ignored and counted as
 * dropped) shrunk toward (prior_median > 0, prior_sigma >= 0); full_n > 0.
 * With nothing kept the prior is returned. */
void otd_learn_lognormal(const double *x, size_t n, double prior_median, double prior_sigma,
                         size_t full_n, struct otd_lognormal_fit *out);

#endif
