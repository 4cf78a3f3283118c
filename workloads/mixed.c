/*
 * mixed - random sizes 8 B - 1 KiB with a bounded live set, freed in a mix
 * of random and LIFO orders.
 *
 * Each worker keeps up to --live blocks. At every step it allocates (when
 * the set is empty, or with probability --alloc-pct while it is not full)
 * or frees: the most recent block with probability --lifo-pct, else a
 * random one. Sizes are drawn log-uniformly from [--min, --max]; every
 * block is written whole and read back when freed. One op = one malloc
 * (with its free, sooner or later); ops counts mallocs, and the frees of
 * the blocks still live at the end happen in teardown.
 */
#include "bench.h"

static int64_t opt_min, opt_max; /* bytes: size range */
static int64_t opt_live;         /* blocks: live-set bound per worker */
static int64_t opt_lifo_pct;     /* percent of frees that take the newest block */
static int64_t opt_alloc_pct;    /* percent of steps that allocate (when not full) */

static wl_opt_t mixed_opts[] = {
	WL_INT("min", &opt_min, "8", 1, 1 << 20, "smallest block, bytes"),
	WL_INT("max", &opt_max, "1024", 1, 1 << 20, "largest block, bytes"),
	WL_INT("live", &opt_live, "10000", 1, 1 << 24, "most blocks live at once per worker"),
	WL_INT("lifo-pct", &opt_lifo_pct, "50", 0, 100, "percent of frees that take the newest block (rest: random)"),
	WL_INT("alloc-pct", &opt_alloc_pct, "55", 1, 99, "percent of steps that allocate while the set is neither empty nor full"),
	WL_OPT_END,
};

static const wl_program_t mixed_prog = {
	.name = "mixed",
	.summary = "mixed: random sizes 8 B - 1 KiB, bounded live set, random and LIFO frees.",
	.op = "One op = one malloc of a random size (its free comes later, at random or LIFO).",
	.opts = mixed_opts,
	.default_ops = "6000000",
};

typedef struct mixed_block {
	void *p;     /* the block */
	size_t size; /* its size, bytes */
} mixed_block_t;

typedef struct mixed_state {
	mixed_block_t *set; /* live blocks, newest last */
	size_t n;           /* blocks in set */
} mixed_state_t;

static void mixed_setup(wl_thread_t *t)
{
	mixed_state_t *s = wl_malloc(sizeof *s);
	s->set = wl_malloc(sizeof(mixed_block_t) * (size_t)opt_live);
	s->n = 0;
	t->user = s;
}

static inline uint64_t mixed_free(mixed_state_t *s, size_t k)
{
	mixed_block_t blk = s->set[k];
	s->set[k] = s->set[--s->n];
	uint64_t v = wl_readback(blk.p, blk.size);
	free(blk.p);
	return v;
}

static void mixed_run(wl_thread_t *t)
{
	mixed_state_t *s = t->user;
	uint64_t h = t->hash, allocs = 0, step = 0;
	size_t live = (size_t)opt_live;
	while (allocs < t->ops_target) {
		uint64_t r = wl_rng_below(&t->rng, 100);
		uint64_t t0 = wl_lat_begin(step++);
		if (s->n == 0 || (s->n < live && r < (uint64_t)opt_alloc_pct)) {
			size_t size = (size_t)wl_rng_logsize(&t->rng, (uint64_t)opt_min, (uint64_t)opt_max);
			void *p = malloc(size);
			if (__builtin_expect(!p, 0))
				wl_oom(size);
			wl_touch(p, size, allocs);
			s->set[s->n++] = (mixed_block_t){p, size};
			allocs++;
		} else {
			size_t k = wl_rng_pct(&t->rng, (uint64_t)opt_lifo_pct) ? s->n - 1
										  : (size_t)wl_rng_below(&t->rng, s->n);
			h = wl_hash_step(h, mixed_free(s, k));
		}
		wl_lat_end(&t->hist, t0);
	}
	t->hash = h;
	t->ops = allocs;
}

static void mixed_teardown(wl_thread_t *t)
{
	mixed_state_t *s = t->user;
	while (s->n)
		t->hash = wl_hash_step(t->hash, mixed_free(s, s->n - 1));
	free(s->set);
	free(s);
}

int main(int argc, char **argv)
{
	wl_bench_t *b = wl_bench_init(&mixed_prog, argc, argv);
	wl_check_order(b, "min", opt_min, "max", opt_max);
	wl_bench_run(b, mixed_setup, mixed_run, mixed_teardown);
	return wl_bench_finish(b);
}
