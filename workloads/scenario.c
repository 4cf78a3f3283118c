/*
 * scenario - the original hakmem scenarios "json", "mir" and "vm":
 * allocate-use-free cycles of blocks around 64 KiB, 256 KiB and 2 MiB.
 *
 * One op = one cycle: malloc a block of the scenario's size (with +-1/8
 * jitter drawn from the seed), touch it (first and last cache lines, one
 * byte per page), read it back (the "use"), free it. ns_per_op is the time
 * of one alloc+free pair including the touches. --threads N runs N workers,
 * each its share of --ops.
 */
#include <string.h>

#include "bench.h"

static const char *opt_scenario; /* "json", "mir" or "vm" */
static int64_t opt_jitter_pct;   /* +- size jitter, percent of the base size */

static wl_opt_t scenario_opts[] = {
	WL_CHOICE("scenario", &opt_scenario, "json", "json|mir|vm",
		  "json: ~64 KiB blocks, mir: ~256 KiB, vm: ~2 MiB"),
	WL_INT("jitter-pct", &opt_jitter_pct, "12", 0, 50, "size jitter around the base size, +- percent"),
	WL_OPT_END,
};

static const wl_program_t scenario_prog = {
	.name = "scenario",
	.summary = "scenario: the original hakmem allocate-use-free cycles (json 64 KiB, mir 256 KiB, vm 2 MiB).",
	.op = "One op = one malloc + touch + read back + free of one block; ns_per_op is per pair.",
	.opts = scenario_opts,
	.default_ops = "3000000",
};

/* The scenario table: name, base block size. */
#define SCENARIOS(X)              \
	X("json", 64u << 10)      \
	X("mir", 256u << 10)      \
	X("vm", 2u << 20)

static size_t scenario_base(const char *name)
{
#define SCENARIO_ROW(n, size)          \
	if (strcmp(name, n) == 0)      \
		return size;
	SCENARIOS(SCENARIO_ROW)
#undef SCENARIO_ROW
	return 64u << 10;
}

static size_t scenario_lo, scenario_hi; /* bytes: size range */

static void scenario_run(wl_thread_t *t)
{
	uint64_t h = t->hash;
	for (uint64_t i = 0; i < t->ops_target; i++) {
		size_t size = (size_t)wl_rng_range(&t->rng, scenario_lo, scenario_hi);
		uint64_t t0 = wl_lat_begin(i);
		void *p = malloc(size);
		if (__builtin_expect(!p, 0))
			wl_oom(size);
		wl_touch(p, size, i);
		h = wl_hash_step(h, wl_readback(p, size));
		free(p);
		wl_lat_end(&t->hist, t0);
	}
	t->hash = h;
	t->ops = t->ops_target;
}

int main(int argc, char **argv)
{
	wl_bench_t *b = wl_bench_init(&scenario_prog, argc, argv);
	size_t base = scenario_base(opt_scenario);
	scenario_lo = base - base * (size_t)opt_jitter_pct / 100;
	scenario_hi = base + base * (size_t)opt_jitter_pct / 100;
	b->workload = opt_scenario;
	wl_bench_run(b, NULL, scenario_run, NULL);
	return wl_bench_finish(b);
}
