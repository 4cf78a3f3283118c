/*
 * elo.c - ELO ratings for the strategies: expected score, update with a K
 * factor, and the rule that turns two measured costs into a match result.
 *
 * Owns: the arithmetic (without libm: the allocator links with no -lm).
 * Does not own: who plays whom (evolution.c).
 */
#include "learn_internal.h"

/* 10^x for |x| <= 8 (clamped), accurate to ~1e-12 relative: integer powers
 * by multiplication, the fraction by its Taylor series. */
static double elo_pow10(double x)
{
	if (x > 8.0)
		x = 8.0;
	if (x < -8.0)
		x = -8.0;
	bool neg = x < 0;
	if (neg)
		x = -x;
	int whole = (int)x;
	double r = 1.0;
	for (int i = 0; i < whole; i++)
		r *= 10.0;
	double y = (x - whole) * 2.302585092994046; /* ln 10 */
	double term = 1.0, sum = 1.0;
	for (int i = 1; i < 30; i++) {
		term *= y / i;
		sum += term;
	}
	r *= sum;
	return neg ? 1.0 / r : r;
}

double hak_elo_expected(double ra, double rb)
{
	return 1.0 / (1.0 + elo_pow10((rb - ra) / 400.0));
}

void hak_elo_update(double *ra, double *rb, double score_a, double k)
{
	double delta = k * (score_a - hak_elo_expected(*ra, *rb));
	*ra += delta;
	*rb -= delta;
}

double hak_elo_score_costs(double a, double b, double margin, double noise)
{
	double big = a > b ? a : b;
	double gap = a > b ? a - b : b - a;
	if (big <= 0.0 || gap < margin * big || gap <= noise)
		return 0.5;
	return a < b ? 1.0 : 0.0;
}
