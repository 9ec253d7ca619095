/* rng.c -- the non-inline parts of rng.h */
#include "base/rng.h"
#include <math.h>

double rng_normal(rng_t *r)
{
	/* Box-Muller from two fresh draws: one value per call keeps the stream a
	 * pure function of the counter */
	double u1 = rng_uniform(r), u2 = rng_uniform(r);
	if (u1 < 1e-300) u1 = 1e-300;
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
