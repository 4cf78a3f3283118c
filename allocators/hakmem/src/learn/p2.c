/*
 * p2.c - the P-square streaming quantile estimator (Jain and Chlamtac, 1985):
 * five markers whose heights track the minimum, p/2, p, (1+p)/2 quantiles
 * and the maximum, adjusted by a piecewise-parabolic formula as observations
 * arrive. O(1) time and space per observation, no allocation.
 *
 * Owns: the estimator. Does not own: what is observed (evolution.c feeds it
 * request sizes) or any locking (callers hold the learner's lock).
 */
#include "learn_internal.h"

void hak_p2_init(hak_p2_t *e, double p)
{
	e->p = p;
	e->count = 0;
	for (int i = 0; i < 5; i++) {
		e->q[i] = 0.0;
		e->n[i] = (double)i;
	}
	e->want[0] = 0.0;
	e->want[1] = 2.0 * p;
	e->want[2] = 4.0 * p;
	e->want[3] = 2.0 + 2.0 * p;
	e->want[4] = 4.0;
}

/* Insertion into the first observations, kept sorted in q[]. */
static void p2_insert_sorted(hak_p2_t *e, double x)
{
	int i = (int)e->count;
	while (i > 0 && e->q[i - 1] > x) {
		e->q[i] = e->q[i - 1];
		i--;
	}
	e->q[i] = x;
}

/* The parabolic prediction of marker i moved by d (+1 or -1). */
static double p2_parabolic(const hak_p2_t *e, int i, double d)
{
	const double *q = e->q, *n = e->n;
	return q[i] + d / (n[i + 1] - n[i - 1]) *
	                  ((n[i] - n[i - 1] + d) * (q[i + 1] - q[i]) / (n[i + 1] - n[i]) +
	                   (n[i + 1] - n[i] - d) * (q[i] - q[i - 1]) / (n[i] - n[i - 1]));
}

void hak_p2_add(hak_p2_t *e, double x)
{
	if (e->count < 5) {
		p2_insert_sorted(e, x);
		e->count++;
		return;
	}
	int k; /* cell holding x: q[k] <= x < q[k+1] */
	if (x < e->q[0]) {
		e->q[0] = x;
		k = 0;
	} else if (x >= e->q[4]) {
		if (x > e->q[4])
			e->q[4] = x;
		k = 3;
	} else {
		k = 0;
		while (k < 3 && x >= e->q[k + 1])
			k++;
	}
	for (int i = k + 1; i < 5; i++)
		e->n[i] += 1.0;
	e->want[1] += e->p / 2.0;
	e->want[2] += e->p;
	e->want[3] += (1.0 + e->p) / 2.0;
	e->want[4] += 1.0;
	e->count++;

	for (int i = 1; i <= 3; i++) {
		double d = e->want[i] - e->n[i];
		if ((d >= 1.0 && e->n[i + 1] - e->n[i] > 1.0) ||
		    (d <= -1.0 && e->n[i - 1] - e->n[i] < -1.0)) {
			double s = d > 0 ? 1.0 : -1.0;
			double qp = p2_parabolic(e, i, s);
			if (e->q[i - 1] < qp && qp < e->q[i + 1]) {
				e->q[i] = qp;
			} else { /* linear fallback keeps the markers ordered */
				int j = i + (int)s;
				e->q[i] += s * (e->q[j] - e->q[i]) / (e->n[j] - e->n[i]);
			}
			e->n[i] += s;
		}
	}
}

double hak_p2_value(const hak_p2_t *e)
{
	if (e->count == 0)
		return 0.0;
	if (e->count < 5) { /* exact: nearest rank on the sorted few */
		int idx = (int)(e->p * (double)(e->count - 1) + 0.5);
		return e->q[idx];
	}
	return e->q[2];
}
