/*
 * tiny_hot - one small size allocated and freed LIFO in a tight loop: the
 * allocator's fastest path, nothing else.
 *
 * Each worker repeatedly allocates --batch blocks of --size bytes, writes
 * each whole block, then frees them in reverse order (LIFO). One op = one
 * malloc + free pair. Latency samples time one batch and record its mean
 * per op.
 */
#include "bench.h"

static int64_t opt_size;  /* bytes per block */
static int64_t opt_batch; /* blocks live at once per worker */

static wl_opt_t tiny_opts[] = {
	WL_INT("size", &opt_size, "32", 8, 1024, "block size, bytes"),
	WL_INT("batch", &opt_batch, "1", 1, 4096, "blocks allocated before they are freed LIFO"),
	WL_OPT_END,
};

static const wl_program_t tiny_prog = {
	.name = "tiny_hot",
	.summary = "tiny_hot: one small size allocated and freed LIFO in a tight loop.",
	.op = "One op = one malloc + free pair of --size bytes (the block is written and read back).",
	.opts = tiny_opts,
	.default_ops = "25000000",
};

static void tiny_setup(wl_thread_t *t)
{
	t->user = wl_malloc(sizeof(void *) * (size_t)opt_batch);
}

static void tiny_run(wl_thread_t *t)
{
	void **slot = t->user;
	size_t size = (size_t)opt_size;
	uint64_t batch = (uint64_t)opt_batch, done = 0, h = t->hash;
	uint64_t base = wl_rng_next(&t->rng); /* the seed's mark on the values written */
	for (uint64_t round = 0; done < t->ops_target; round++) {
		uint64_t n = t->ops_target - done < batch ? t->ops_target - done : batch;
		uint64_t t0 = wl_lat_begin(round);
		for (uint64_t k = 0; k < n; k++) {
			void *p = malloc(size);
			if (__builtin_expect(!p, 0))
				wl_oom(size);
			wl_touch(p, size, base + done + k);
			slot[k] = p;
		}
		for (uint64_t k = n; k-- > 0;) {
			h = wl_hash_step(h, wl_readback(slot[k], size));
			free(slot[k]);
		}
		wl_lat_end_n(&t->hist, t0, n);
		done += n;
	}
	t->hash = h;
	t->ops = done;
}

static void tiny_teardown(wl_thread_t *t)
{
	free(t->user);
}

int main(int argc, char **argv)
{
	wl_bench_t *b = wl_bench_init(&tiny_prog, argc, argv);
	wl_bench_run(b, tiny_setup, tiny_run, tiny_teardown);
	return wl_bench_finish(b);
}
