/*
 * test_learn_evolution.c - the strategy evolution on a synthetic size
 * distribution whose best large threshold is known: it must reach FROZEN on
 * that strategy within a bounded number of allocations, and leave it when
 * the distribution shifts (then freeze on the new best).
 *
 * Cost model of one allocation of `size` under threshold T (ns):
 *   size >= T: 10 (mmap per block)
 *   size <  T: 1 + 0.5 * T / 1 MiB (pooled; a higher threshold keeps more
 *              memory in the pools, the memory term)
 * plus +-10 % noise per decision (+-50 % where said). Sizes uniform in [300 KiB, 900 KiB] make
 * 1 MiB the best threshold; sizes in [2.5 MiB, 3.5 MiB] make it 4 MiB.
 *
 * With a lag L > 1 a decision costs the mean of the model over the
 * strategies of the last L decisions: blocks live on after the decision
 * that placed them (as buffers grown by realloc do), so a single explored
 * decision mostly pays for the leader's blocks.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../src/learn/learn_internal.h"
#include "learn_test.h"

#define DECISIONS_PER_WINDOW 200
#define SIZES_PER_DECISION   8
#define MAX_DECISIONS        20000 /* the bound: 2.0e7 allocations at 1,024 per decision */

static double model_cost(double size, size_t t)
{
	return size >= (double)t ? 10.0 : 1.0 + 0.5 * (double)t / (1 << 20);
}

typedef struct {
	double lo, hi; /* bytes */
} dist_t;

#define MAX_LAG 16

/* Run decisions, closing a window every DECISIONS_PER_WINDOW, until a
 * window closes with (state == FROZEN) == frozen, or max decisions; returns
 * the decisions used, or -1. A decision's cost is that of the strategies of
 * the last `lag` decisions (1: its own only). */
static long run_lagged(hak_evo_t *e, dist_t d, uint64_t *rng, long max, bool frozen, int lag,
                       double noise)
{
	int recent[MAX_LAG];
	for (int k = 0; k < lag; k++)
		recent[k] = e->active;
	for (long i = 1; i <= max; i++) {
		recent[i % lag] = e->active;
		double cost = 0.0;
		for (int k = 0; k < SIZES_PER_DECISION; k++) {
			double s = d.lo + (d.hi - d.lo) * hak_rng_unit(rng);
			for (int r = 0; r < lag; r++)
				cost += model_cost(s, hak_strategy_bytes[recent[r]]) / lag;
			hak_evo_note_size(e, s);
		}
		cost /= SIZES_PER_DECISION;
		cost *= 1.0 - noise + 2.0 * noise * hak_rng_unit(rng);
		hak_evo_decide(e, cost);
		if (i % DECISIONS_PER_WINDOW == 0) {
			hak_evo_event_t ev;
			hak_evo_close_window(e, &ev);
			if ((e->state == HAK_EVO_FROZEN) == frozen)
				return i;
		}
	}
	return -1;
}

static long run_until(hak_evo_t *e, dist_t d, uint64_t *rng, long max, bool frozen)
{
	return run_lagged(e, d, rng, max, frozen, 1, 0.1);
}

/* An evolution with the default parameters, starting on 2 MiB. */
static void evo_start(hak_evo_t *e, uint64_t seed)
{
	hak_evo_params_t p;
	hak_evo_params_default(&p);
	hak_evo_init(e, &p, HAK_STRAT_t2m, seed);
}

static void test_freeze_then_shift(uint64_t seed)
{
	hak_evo_t e;
	evo_start(&e, seed);
	uint64_t rng = seed * 7 + 1;

	dist_t small = {300 << 10, 900 << 10}, big = {2.5 * (1 << 20), 3.5 * (1 << 20)};
	long n = run_until(&e, small, &rng, MAX_DECISIONS, true);
	CHECK(n > 0, "seed %llu: never FROZEN on the first distribution", (unsigned long long)seed);
	CHECK(e.leader == HAK_STRAT_t1m, "seed %llu: frozen on %zu, want 1 MiB",
	      (unsigned long long)seed, hak_strategy_bytes[e.leader]);
	printf("seed %llu: FROZEN on %zu after %ld decisions (%ld allocations)\n",
	       (unsigned long long)seed, hak_strategy_bytes[e.leader], n,
	       n * HAK_LEARN_TICK_ALLOCS);

	/* Same distribution: FROZEN holds (no false shift) for 50 windows. */
	long held = run_until(&e, small, &rng, 50 * DECISIONS_PER_WINDOW, false);
	CHECK(held < 0, "seed %llu: left FROZEN without a shift", (unsigned long long)seed);

	/* Shift: it must leave FROZEN within a few windows, then freeze on 4 MiB. */
	long out = run_until(&e, big, &rng, 5 * DECISIONS_PER_WINDOW, false);
	CHECK(out > 0, "seed %llu: did not leave FROZEN on the shift", (unsigned long long)seed);
	long m = run_until(&e, big, &rng, MAX_DECISIONS, true);
	CHECK(m > 0 && e.leader == HAK_STRAT_t4m,
	      "seed %llu: after the shift frozen on %zu (m=%ld), want 4 MiB",
	      (unsigned long long)seed, hak_strategy_bytes[e.leader], m);
	printf("seed %llu: after the shift FROZEN on %zu after %ld decisions\n",
	       (unsigned long long)seed, hak_strategy_bytes[e.leader], m);
}

/* Sizes below every threshold: every strategy routes alike, so the
 * evolution freezes on the start strategy within the confirmation windows
 * (noise alone must not pick another one); when big sizes then appear it
 * leaves FROZEN and finds their best threshold. */
static void test_irrelevant_sizes_keep_default(void)
{
	hak_evo_t e;
	evo_start(&e, 42);
	uint64_t rng = 99;
	dist_t mid = {64 << 10, 65 << 10}, small = {300 << 10, 900 << 10};
	long n = run_until(&e, mid, &rng, MAX_DECISIONS, true);
	long bound = (e.prm.confirm_windows + e.prm.canary_windows) * DECISIONS_PER_WINDOW;
	CHECK(n > 0 && n <= bound,
	      "FROZEN after %ld decisions on sizes no threshold sees, want <= %ld", n, bound);
	CHECK(e.leader == HAK_STRAT_t2m, "frozen on %zu, want the start strategy",
	      hak_strategy_bytes[e.leader]);
	long out = run_until(&e, small, &rng, 5 * DECISIONS_PER_WINDOW, false);
	CHECK(out > 0, "did not leave FROZEN when big sizes appeared");
	long m = run_until(&e, small, &rng, MAX_DECISIONS, true);
	CHECK(m > 0 && e.leader == HAK_STRAT_t1m, "after big sizes appeared frozen on %zu",
	      hak_strategy_bytes[e.leader]);
}

/* Sizes in 300-900 KiB with costs lagging by `lag` decisions and +-`noise`
 * per decision: the evolution must still freeze on 1 MiB.
 *
 * Lag 8 (blocks outlive the decision that placed them): exploring in
 * stints and measuring settled decisions only still finds the best
 * threshold. Explored one decision at a time, the 1 MiB strategy's
 * decisions would cost 7/8 of the 2 MiB leader's blocks and never beat it
 * by the draw margin.
 *
 * Noise +-50 % (a loaded machine, a workload of uneven operations): the
 * 25 % gap between 1 MiB and the 2 MiB default must still decide matches
 * (a guard for the draw rule; on this model it passes with draws called
 * within one or two standard errors alike). */
static void test_finds_best(uint64_t seed, int lag, double noise)
{
	hak_evo_t e;
	evo_start(&e, seed);
	uint64_t rng = seed * 13 + 5;
	dist_t small = {300 << 10, 900 << 10};
	long n = run_lagged(&e, small, &rng, MAX_DECISIONS, true, lag, noise);
	CHECK(n > 0 && e.leader == HAK_STRAT_t1m,
	      "seed %llu, lag %d, noise %.2f: frozen on %zu after %ld decisions, want 1 MiB",
	      (unsigned long long)seed, lag, noise, hak_strategy_bytes[e.leader], n);
	printf("seed %llu, lag %d, noise %.2f: FROZEN on %zu after %ld decisions\n",
	       (unsigned long long)seed, lag, noise, hak_strategy_bytes[e.leader], n);
}

/* Where every other strategy costs 5x the leader's (a program whose
 * blocks the default serves best by far), a window of many decisions
 * explores each loser once, not for 10 % of the window: the stint ends once
 * the loser's settled decisions cost more than twice the leader's, and it
 * is not explored again until the next window. */
static void test_losers_explored_once_per_window(void)
{
	hak_evo_t e;
	evo_start(&e, 11);
	for (int w = 0; w < 3; w++) {
		long explored = 0;
		for (int i = 0; i < 2000; i++) {
			double cost = e.active == HAK_STRAT_t2m ? 1.0 : 5.0;
			explored += hak_evo_decide(&e, cost) != HAK_STRAT_t2m;
		}
		hak_evo_event_t ev;
		hak_evo_close_window(&e, &ev);
		/* each loser: its settling and two measured decisions; plus one
		 * stint that began in the window before and runs on into this one */
		long bound = (long)(HAK_STRAT_COUNT - 1) * (e.prm.settle + 2) + (long)e.prm.stint;
		CHECK(explored <= bound, "window %d: %ld of 2000 decisions explored, want <= %ld", w,
		      explored, bound);
		CHECK(e.leader == HAK_STRAT_t2m, "window %d: leader %zu", w, hak_strategy_bytes[e.leader]);
	}
}

/* CANARY sends about 5 % of decisions to the candidate; FROZEN none. */
static void test_canary_share(void)
{
	hak_evo_t e;
	evo_start(&e, 7);
	e.state = HAK_EVO_CANARY;
	e.leader = HAK_STRAT_t2m;
	e.candidate = HAK_STRAT_t1m;
	int cand = 0, total = 100000;
	for (int i = 0; i < total; i++)
		cand += hak_evo_decide(&e, 1.0) == HAK_STRAT_t1m;
	double share = (double)cand / total;
	CHECK(share > 0.04 && share < 0.06, "canary share %.4f, want 0.05", share);
	e.state = HAK_EVO_FROZEN;
	for (int i = 0; i < 10000; i++)
		CHECK(hak_evo_decide(&e, 1.0) == HAK_STRAT_t2m, "FROZEN chose another strategy");
}

int main(void)
{
	for (uint64_t seed = 1; seed <= 16; seed++)
		test_freeze_then_shift(seed);
	for (uint64_t seed = 1; seed <= 8; seed++) {
		test_finds_best(seed, 8, 0.1);
		test_finds_best(seed, 1, 0.5);
	}
	test_losers_explored_once_per_window();
	test_irrelevant_sizes_keep_default();
	test_canary_share();
	return test_finish("test_learn_evolution");
}
