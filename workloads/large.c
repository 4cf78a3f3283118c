/*
 * large - big blocks (2-64 MiB) allocated and freed in churn with a small
 * live set: the mmap/munmap path, its caching, and page faults.
 *
 * Each worker keeps --live slots. One op: pick a slot at random, free its
 * block (after reading it back), allocate a new one of a random size in
 * [--min-mb, --max-mb] MiB (log-uniform, byte granularity), and touch it:
 * first and last cache lines and one byte per page. Metrics add
 * rss_end_kb, the resident size when the run ends (blocks still live).
 */
#include <unistd.h>

#include "bench.h"

static int64_t opt_min_mb, opt_max_mb; /* MiB: size range */
static int64_t opt_live;               /* slots per worker */

static wl_opt_t large_opts[] = {
	WL_INT("min-mb", &opt_min_mb, "2", 1, 1 << 20, "smallest block, MiB"),
	WL_INT("max-mb", &opt_max_mb, "64", 1, 1 << 20, "largest block, MiB"),
	WL_INT("live", &opt_live, "4", 1, 4096, "blocks live per worker"),
	WL_OPT_END,
};

static const wl_program_t large_prog = {
	.name = "large",
	.summary = "large: 2-64 MiB blocks allocated, touched (lines and one byte per page) and freed in churn.",
	.op = "One op = free one big block, malloc another and touch it.",
	.opts = large_opts,
	.default_ops = "30",
};

typedef struct large_slot {
	void *p;     /* block or NULL */
	size_t size; /* bytes */
} large_slot_t;

static void large_setup(wl_thread_t *t)
{
	large_slot_t *slots = wl_malloc(sizeof *slots * (size_t)opt_live);
	for (int64_t k = 0; k < opt_live; k++)
		slots[k] = (large_slot_t){NULL, 0};
	t->user = slots;
}

static void large_run(wl_thread_t *t)
{
	large_slot_t *slots = t->user;
	uint64_t h = t->hash;
	uint64_t lo = (uint64_t)opt_min_mb << 20, hi = (uint64_t)opt_max_mb << 20;
	for (uint64_t i = 0; i < t->ops_target; i++) {
		large_slot_t *s = &slots[wl_rng_below(&t->rng, (uint64_t)opt_live)];
		size_t size = (size_t)wl_rng_logsize(&t->rng, lo, hi);
		uint64_t t0 = wl_lat_begin(i);
		if (s->p) {
			h = wl_hash_step(h, wl_readback(s->p, s->size));
			free(s->p);
		}
		s->p = malloc(size);
		if (__builtin_expect(!s->p, 0))
			wl_oom(size);
		s->size = size;
		wl_touch(s->p, size, i);
		wl_lat_end(&t->hist, t0);
	}
	t->hash = h;
	t->ops = t->ops_target;
	if (t->index == 0)
		wl_bench_metric(t->bench, "rss_end_kb", (double)wl_rss_current_kb());
}

static void large_teardown(wl_thread_t *t)
{
	large_slot_t *slots = t->user;
	for (int64_t k = 0; k < opt_live; k++) {
		if (slots[k].p) {
			t->hash = wl_hash_step(t->hash, wl_readback(slots[k].p, slots[k].size));
			free(slots[k].p);
		}
	}
	free(slots);
}

int main(int argc, char **argv)
{
	wl_bench_t *b = wl_bench_init(&large_prog, argc, argv);
	wl_check_order(b, "min-mb", opt_min_mb, "max-mb", opt_max_mb);
	/* Every page of a block is touched: a live set larger than the machine's
	 * memory would not fail cleanly but call the kernel's OOM killer. */
	int64_t ram_mb = (int64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE) >> 20;
	int64_t worst_mb = opt_max_mb * (opt_live * b->threads + 1);
	if (ram_mb > 0 && worst_mb > ram_mb)
		wl_usage_error(b->prog->name, "options --max-mb x (--live x --threads + 1) = %lld MiB exceed "
			       "this machine's %lld MiB of memory; give a smaller --max-mb or --live "
			       "(use --limit-as-mb to test running out of memory).",
			       (long long)worst_mb, (long long)ram_mb);
	wl_bench_run(b, large_setup, large_run, large_teardown);
	return wl_bench_finish(b);
}
