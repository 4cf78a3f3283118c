/*
 * fragmentation - does the allocator give memory back, and can it reuse
 * what was freed for other sizes?
 *
 * Each worker (a share of --ops blocks each):
 *   1. builds a live set of blocks of sizes in [--min, --max] (log-uniform),
 *      each written whole or, from 4 KiB, by lines and pages;
 *   2. frees --free-pct of them, chosen at random;
 *   -- all workers wait; then, after --settle-ms and a few small
 *      allocations (a chance for the allocator to return memory), the RSS
 *      is read: rss_after_free_kb;
 *   3. allocates blocks of a different size mix, [--min2, --max2], until it
 *      has allocated as many bytes as it freed; the RSS is read again:
 *      rss_final_kb.
 * Metrics: rss_after_build_kb, rss_after_free_kb, rss_final_kb and the live
 * bytes the program holds at each point (live_*_bytes), beside rss_peak_kb.
 * One op = one malloc or free call of steps 1-3; the settling pause is not
 * part of the measured time.
 */
#include <pthread.h>

#include "bench.h"

static int64_t opt_min, opt_max;   /* bytes: size range of the first live set */
static int64_t opt_min2, opt_max2; /* bytes: size range allocated after the frees */
static int64_t opt_free_pct;       /* percent of the first live set freed */
static int64_t opt_settle_ms;      /* ms to wait before reading the RSS after the frees */

static wl_opt_t frag_opts[] = {
	WL_INT("min", &opt_min, "16", 1, 1 << 26, "smallest block of the first live set, bytes"),
	WL_INT("max", &opt_max, "512", 1, 1 << 26, "largest block of the first live set, bytes"),
	WL_INT("min2", &opt_min2, "768", 1, 1 << 26, "smallest block allocated after the frees, bytes"),
	WL_INT("max2", &opt_max2, "8192", 1, 1 << 26, "largest block allocated after the frees, bytes"),
	WL_INT("free-pct", &opt_free_pct, "90", 0, 100, "percent of the first live set freed at random"),
	WL_INT("settle-ms", &opt_settle_ms, "100", 0, 60000, "wait before reading the RSS after the frees, ms"),
	WL_OPT_END,
};

static const wl_program_t frag_prog = {
	.name = "fragmentation",
	.summary = "fragmentation: build a large mixed live set, free most of it at random, then "
		   "allocate a different size mix; RSS after the frees and at the end.",
	.op = "One op = one malloc or free call; --ops is the size of the first live set (blocks).",
	.opts = frag_opts,
	.default_ops = "600000",
};

typedef struct frag_block {
	void *p;     /* the block */
	size_t size; /* bytes */
} frag_block_t;

typedef struct frag_state {
	frag_block_t *set; /* first live set, then survivors, then the new mix */
	size_t n, cap;     /* blocks in set, capacity */
	size_t freed;      /* bytes freed in step 2 */
} frag_state_t;

static pthread_barrier_t frag_barrier; /* the workers, between steps 2 and 3 */
static double frag_settle_s;           /* seconds spent settling (not measured) */
static int64_t frag_live[3];           /* bytes live after build, frees, final */

static void frag_add(frag_state_t *s, void *p, size_t size)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		frag_block_t *grown = realloc(s->set, cap * sizeof *grown);
		if (!grown)
			wl_oom_in("realloc", cap * sizeof *grown);
		s->set = grown;
		s->cap = cap;
	}
	s->set[s->n++] = (frag_block_t){p, size};
}

static size_t frag_live_bytes(const frag_state_t *s)
{
	size_t bytes = 0;
	for (size_t k = 0; k < s->n; k++)
		bytes += s->set[k].size;
	return bytes;
}

/* All workers line up; worker 0 then records the live bytes of every
 * worker into frag_live[point] and the RSS into metric `name`. */
static void frag_measure(wl_thread_t *t, int point, const char *name, int settle)
{
	pthread_barrier_wait(&frag_barrier);
	if (t->index == 0) {
		double t0 = wl_now();
		int64_t live = 0;
		for (int i = 0; i < t->nthreads; i++)
			live += (int64_t)frag_live_bytes(t->bench->th[i].user);
		frag_live[point] = live;
		if (settle) {
			wl_sleep((double)opt_settle_ms / 1e3);
			for (int k = 0; k < 1000; k++) /* a nudge for lazily purging allocators */
				free(wl_malloc(64));
		}
		wl_bench_metric(t->bench, name, (double)wl_rss_current_kb());
		frag_settle_s += wl_now() - t0;
	}
	pthread_barrier_wait(&frag_barrier);
}

static void frag_setup(wl_thread_t *t)
{
	frag_state_t *s = wl_malloc(sizeof *s);
	*s = (frag_state_t){0};
	/* Room for the first live set up front: no bookkeeping reallocs while
	 * it is built (step 3 may still grow it). */
	s->cap = t->ops_target > 1024 ? t->ops_target : 1024;
	s->set = wl_malloc(s->cap * sizeof *s->set);
	t->user = s;
}

/* Allocate and touch one block of a size in [lo, hi] into the set; op
 * number *op (advanced). Returns its size. */
static size_t frag_alloc(wl_thread_t *t, frag_state_t *s, int64_t lo, int64_t hi, uint64_t *op)
{
	size_t size = (size_t)wl_rng_logsize(&t->rng, (uint64_t)lo, (uint64_t)hi);
	uint64_t t0 = wl_lat_begin(*op);
	void *p = malloc(size);
	if (__builtin_expect(!p, 0))
		wl_oom(size);
	wl_touch(p, size, (*op)++);
	wl_lat_end(&t->hist, t0);
	frag_add(s, p, size);
	return size;
}

static void frag_run(wl_thread_t *t)
{
	frag_state_t *s = t->user;
	uint64_t h = t->hash, op = 0;
	for (uint64_t i = 0; i < t->ops_target; i++)
		frag_alloc(t, s, opt_min, opt_max, &op);
	frag_measure(t, 0, "rss_after_build_kb", 0);

	/* Free --free-pct at random: a partial Fisher-Yates shuffle. */
	size_t nfree = s->n * (size_t)opt_free_pct / 100;
	for (size_t k = 0; k < nfree; k++) {
		size_t j = k + (size_t)wl_rng_below(&t->rng, s->n - k);
		frag_block_t tmp = s->set[k];
		s->set[k] = s->set[j];
		s->set[j] = tmp;
		h = wl_hash_step(h, wl_readback(s->set[k].p, s->set[k].size));
		s->freed += s->set[k].size;
		uint64_t t0 = wl_lat_begin(op++);
		free(s->set[k].p);
		wl_lat_end(&t->hist, t0);
	}
	memmove(s->set, s->set + nfree, (s->n - nfree) * sizeof *s->set);
	s->n -= nfree;
	frag_measure(t, 1, "rss_after_free_kb", 1);

	/* Allocate a different size mix, as many bytes as were freed. */
	for (size_t got = 0; got < s->freed;)
		got += frag_alloc(t, s, opt_min2, opt_max2, &op);
	frag_measure(t, 2, "rss_final_kb", 0);
	t->hash = h;
	t->ops = op;
}

static void frag_teardown(wl_thread_t *t)
{
	frag_state_t *s = t->user;
	for (size_t k = 0; k < s->n; k++) {
		t->hash = wl_hash_step(t->hash, wl_readback(s->set[k].p, s->set[k].size));
		free(s->set[k].p);
	}
	free(s->set);
	free(s);
}

int main(int argc, char **argv)
{
	wl_bench_t *b = wl_bench_init(&frag_prog, argc, argv);
	wl_check_order(b, "min", opt_min, "max", opt_max);
	wl_check_order(b, "min2", opt_min2, "max2", opt_max2);
	pthread_barrier_init(&frag_barrier, NULL, (unsigned)b->threads);
	wl_bench_run(b, frag_setup, frag_run, frag_teardown);
	/* The settling pause is not work: take it out of the measured time. */
	b->phase[WL_PHASE_RUN] -= frag_settle_s;
	wl_bench_metric(b, "settle_seconds", frag_settle_s);
	wl_bench_metric(b, "live_after_build_bytes", (double)frag_live[0]);
	wl_bench_metric(b, "live_after_free_bytes", (double)frag_live[1]);
	wl_bench_metric(b, "live_final_bytes", (double)frag_live[2]);
	return wl_bench_finish(b);
}
