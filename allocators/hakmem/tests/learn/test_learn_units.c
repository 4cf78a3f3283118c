/*
 * test_learn_units.c - the small pure pieces of the learning layer: the P2
 * quantile estimator against exact quantiles, ELO arithmetic, the site-rule
 * table, and the JSON builder the trace uses (argv[1]: a trace file to
 * write, which test_learn.py then parses).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/learn/learn_internal.h"
#include "learn_test.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* P2 within 3 % of the exact quantile on three distributions. */
static void test_p2(void)
{
	enum { N = 20000 };
	static double xs[N];
	uint64_t rng = 2024;
	for (int dist = 0; dist < 3; dist++) {
		hak_p2_t q50, q90;
		hak_p2_init(&q50, 0.5);
		hak_p2_init(&q90, 0.9);
		for (int i = 0; i < N; i++) {
			double u = hak_rng_unit(&rng);
			double x = dist == 0   ? 1000.0 + 9000.0 * u        /* uniform */
			           : dist == 1 ? 4096.0 * u * u * u * 100.0 /* skewed */
			                       : (i % 10 < 3 ? 65536.0 : 262144.0) +
			                             u; /* two sizes, 30:70 */
			xs[i] = x;
			hak_p2_add(&q50, x);
			hak_p2_add(&q90, x);
		}
		qsort(xs, N, sizeof xs[0], cmp_double);
		double e50 = xs[N / 2], e90 = xs[(int)(N * 0.9)];
		double g50 = hak_p2_value(&q50), g90 = hak_p2_value(&q90);
		CHECK(g50 > e50 * 0.97 && g50 < e50 * 1.03, "dist %d: p50 %.1f, exact %.1f", dist,
		      g50, e50);
		CHECK(g90 > e90 * 0.97 && g90 < e90 * 1.03, "dist %d: p90 %.1f, exact %.1f", dist,
		      g90, e90);
	}
	hak_p2_t few;
	hak_p2_init(&few, 0.5);
	CHECK(hak_p2_value(&few) == 0.0, "empty estimator is not 0");
	hak_p2_add(&few, 30);
	hak_p2_add(&few, 10);
	hak_p2_add(&few, 20);
	CHECK(hak_p2_value(&few) == 20.0, "median of three is %.1f", hak_p2_value(&few));
}

static void test_elo(void)
{
	CHECK(hak_elo_expected(1500, 1500) > 0.4999 && hak_elo_expected(1500, 1500) < 0.5001,
	      "equal ratings");
	double e = hak_elo_expected(1900, 1500); /* 400 points: 10:1 */
	CHECK(e > 0.9090 && e < 0.9092, "expected score at +400 is %.5f, want 10/11", e);
	CHECK(hak_elo_expected(1500, 1900) + e > 0.99999, "expected scores do not sum to 1");
	double a = 1500, b = 1500;
	hak_elo_update(&a, &b, 1.0, 32.0);
	CHECK(a == 1516.0 && b == 1484.0, "a win at equal ratings moves 16 points (%.2f %.2f)", a,
	      b);
	hak_elo_update(&a, &b, 0.5, 32.0);
	CHECK(a + b == 3000.0, "ratings are not conserved");
	CHECK(hak_elo_score_costs(100, 102, 0.03, 0) == 0.5, "a 2 %% gap is not a draw");
	CHECK(hak_elo_score_costs(100, 110, 0.03, 0) == 1.0, "lower cost does not win");
	CHECK(hak_elo_score_costs(110, 100, 0.03, 0) == 0.0, "higher cost does not lose");
	CHECK(hak_elo_score_costs(100, 110, 0.03, 15) == 0.5,
	      "a gap inside the noise is not a draw");
}

static void test_site_rules(void)
{
	hak_site_rules_reset();
	uintptr_t s1 = 0x401234, s2 = 0x7f00deadbeef;
	CHECK(hak_learn_site_tier(s1) == -1, "empty table has a rule");
	for (int i = 0; i < HAK_SITE_CONFIRM - 1; i++)
		hak_learn_site_note(s1, 2);
	CHECK(hak_learn_site_tier(s1) == -1, "rule used before it was confirmed");
	hak_learn_site_note(s1, 2);
	CHECK(hak_learn_site_tier(s1) == 2, "confirmed rule not found");
	hak_learn_site_note(s1, 3); /* conflicting: start over */
	CHECK(hak_learn_site_tier(s1) == -1, "a conflicting note kept the old rule");
	if (hak_site_index(s2) != hak_site_index(s1)) {
		for (int i = 0; i < HAK_SITE_CONFIRM; i++)
			hak_learn_site_note(s2, 1);
		CHECK(hak_learn_site_tier(s2) == 1, "second site's rule not found");
	}
	/* The hash spreads consecutive call sites over the table. */
	unsigned used[HAK_SITE_RULES] = {0}, distinct = 0;
	for (uintptr_t s = 0x400000; s < 0x400000 + 256 * 24; s += 24)
		used[hak_site_index(s)]++;
	for (int i = 0; i < HAK_SITE_RULES; i++)
		distinct += used[i] > 0;
	CHECK(distinct > 140, "256 sites fill only %u of 256 entries", distinct);
}

static void test_json(const char *trace_path)
{
	hak_json_t j;
	hak_json_begin(&j);
	hak_json_num(&j, "t", 1.5);
	hak_json_str(&j, "event", "quote\" back\\slash\ttab");
	hak_json_u64(&j, "big", 18446744073709551615ull);
	hak_json_bool(&j, "flag", true);
	hak_json_num(&j, "nan", 0.0 / 0.0);
	hak_json_raw(&j, "elo", "{\"262144\": 1500.0}");
	hak_json_end(&j);
	CHECK(j.buf[0] == '{' && j.buf[j.len - 1] == '}', "not an object: %s", j.buf);

	hak_json_t big;
	hak_json_begin(&big);
	for (int i = 0; i < 400; i++)
		hak_json_u64(&big, "k", (uint64_t)i);
	hak_json_end(&big);
	CHECK(strstr(big.buf, "truncated") != NULL, "an overfull object is not marked truncated");

	int fd = hak_trace_open(trace_path);
	CHECK(fd >= 0, "cannot open %s", trace_path);
	hak_trace_write(fd, &j);
	hak_trace_write(fd, &big);
	hak_trace_write(-1, &j); /* off: no-op */
	CHECK(hak_trace_open("/nonexistent-dir/x.jsonl") == -1,
	      "opened a path in a missing directory");
}

/* A big request weighs one allocation per 64 KiB in the tick countdown,
 * at least 1 and at most a whole tick. */
static void test_request_weight(void)
{
	CHECK(hak_learn_request_weight(32769) == 1, "32 KiB + 1 weighs %u", hak_learn_request_weight(32769));
	CHECK(hak_learn_request_weight(65536) == 1, "64 KiB weighs %u", hak_learn_request_weight(65536));
	CHECK(hak_learn_request_weight(4u << 20) == 64, "4 MiB weighs %u", hak_learn_request_weight(4u << 20));
	CHECK(hak_learn_request_weight((size_t)1 << 40) == HAK_LEARN_TICK_ALLOCS, "1 TiB weighs %u",
	      hak_learn_request_weight((size_t)1 << 40));
}

int main(int argc, char **argv)
{
	test_request_weight();
	test_p2();
	test_elo();
	test_site_rules();
	test_json(argc > 1 ? argv[1] : "/dev/null");
	return test_finish("test_learn_units");
}
