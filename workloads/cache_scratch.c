/*
 * cache_scratch - passive false sharing (Hoard's cache-scratch): each
 * worker starts with a small object allocated by the main thread, frees
 * it, then repeatedly allocates an object of the same size, writes it
 * --writes times and frees it. An allocator that hands a worker memory on
 * a cache line another worker also writes makes the lines bounce between
 * cores; one that keeps each thread's blocks apart does not.
 *
 * One op = one malloc + --writes passes over the object's bytes + free.
 */
#include "bench.h"

static int64_t opt_size;   /* bytes per object */
static int64_t opt_writes; /* passes over the object per op */

static wl_opt_t scratch_opts[] = {
	WL_INT("size", &opt_size, "8", 1, 4096, "object size, bytes"),
	WL_INT("writes", &opt_writes, "100", 1, 1 << 24, "passes writing every byte of the object per op"),
	WL_OPT_END,
};

static const wl_program_t scratch_prog = {
	.name = "cache_scratch",
	.summary = "cache_scratch: false sharing; each thread first gets a small object allocated by "
		   "another thread, then allocates, writes and frees its own in a loop.",
	.op = "One op = one malloc of --size bytes, --writes passes writing every byte, one free.",
	.opts = scratch_opts,
	.default_ops = "1500000",
};

/* Write every byte of p `writes` times; returns the final bytes' hash. */
static uint64_t scratch_write(volatile unsigned char *p, size_t size, uint64_t writes)
{
	for (uint64_t w = 0; w < writes; w++)
		for (size_t k = 0; k < size; k++)
			p[k] = (unsigned char)(p[k] + 1);
	uint64_t v = 0;
	for (size_t k = 0; k < size; k++)
		v = v * 131 + p[k];
	return v;
}

static void scratch_run(wl_thread_t *t)
{
	size_t size = (size_t)opt_size;
	uint64_t h = t->hash;
	uint64_t base = wl_rng_next(&t->rng); /* the seed's mark on the values written */
	free(t->user); /* the object the main thread allocated for this worker */
	t->user = NULL;
	for (uint64_t i = 0; i < t->ops_target; i++) {
		uint64_t t0 = wl_lat_begin(i);
		unsigned char *p = malloc(size);
		if (__builtin_expect(!p, 0))
			wl_oom(size);
		memset(p, (int)((base + i) & 0xff), size);
		h = wl_hash_step(h, scratch_write(p, size, (uint64_t)opt_writes));
		free(p);
		wl_lat_end(&t->hist, t0);
	}
	t->hash = h;
	t->ops = t->ops_target;
}

int main(int argc, char **argv)
{
	wl_bench_t *b = wl_bench_init(&scratch_prog, argc, argv);
	/* The main thread allocates one object per worker, back to back, so
	 * neighbouring workers' objects may share cache lines. */
	for (int i = 0; i < b->threads; i++) {
		b->th[i].user = wl_malloc((size_t)opt_size);
		wl_touch(b->th[i].user, (size_t)opt_size, (uint64_t)i);
	}
	wl_bench_run(b, NULL, scratch_run, NULL);
	return wl_bench_finish(b);
}
