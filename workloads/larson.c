/*
 * larson - the Larson-Krishnan server benchmark.
 *
 * Each of --threads slots owns an array of --chunks blocks, first allocated
 * by the main thread. A thread working a slot repeatedly frees a random
 * block of the array and allocates one of a random size in [--min, --max]
 * in its place (a "replacement"); after --rounds x --chunks replacements it
 * hands the array to a NEW thread it starts, and exits, so blocks are freed
 * by threads that did not allocate them. The main thread stops the run
 * after --seconds. One op = one replacement (a free + a malloc).
 *
 * Determinism: every slot's random stream comes from (--seed, slot), and
 * the checksum covers the initial arrays and each slot's first --chunks
 * replacements, which always run to completion even past --seconds; so the
 * checksum depends only on the seed and parameters, not on how many
 * replacements fitted into the time.
 *
 * Also accepts the classic positional order
 *     larson seconds min max chunks rounds seed threads
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>

#include "bench.h"

static int64_t opt_min, opt_max; /* bytes: block size range */
static int64_t opt_chunks;       /* blocks per slot's array */
static int64_t opt_rounds;       /* passes over the array per thread lifetime */

static wl_opt_t larson_opts[] = {
	WL_INT("min", &opt_min, "8", 1, 1 << 26, "smallest block, bytes"),
	WL_INT("max", &opt_max, "1000", 1, 1 << 26, "largest block, bytes"),
	WL_INT("chunks", &opt_chunks, "5000", 1, 1 << 24, "blocks per thread's array"),
	WL_INT("rounds", &opt_rounds, "100", 1, 1 << 24,
	       "a thread does rounds x chunks replacements, then hands its array to a new thread"),
	WL_OPT_END,
};

static const char *const larson_positional[] = {"seconds", "min", "max", "chunks", "rounds", "seed", "threads", NULL};

static const wl_program_t larson_prog = {
	.name = "larson",
	.summary = "larson: the Larson-Krishnan server benchmark (random free/alloc in per-thread arrays "
		   "handed to new threads).",
	.op = "One op = one replacement: free a random block of the array, malloc a random size in its place.",
	.opts = larson_opts,
	.default_seconds = "1",
	.positional = larson_positional,
};

/* One cache line per slot: `done` is written on every operation by one
 * thread while its neighbour reads its own slot, so slots sharing a line
 * would measure the harness's false sharing, and whether they share one
 * would depend on where the allocator under test put the array. */
typedef struct larson_slot {
	wl_thread_t *t;     /* the slot's stream, hash, histogram, ops */
	void **blk;         /* the array of blocks */
	uint32_t *size;     /* size of each block, bytes */
	uint64_t done;      /* replacements done by the slot's chain of threads */
	atomic_int finished;/* 1 once the chain's last thread ended */
} __attribute__((aligned(WL_LINE))) larson_slot_t;
_Static_assert(sizeof(larson_slot_t) % WL_LINE == 0, "larson slots must not share cache lines");

static atomic_int larson_stop; /* set by the main thread after --seconds */

static void *larson_thread(void *arg)
{
	larson_slot_t *s = arg;
	wl_thread_t *t = s->t;
	uint64_t n = (uint64_t)opt_rounds * (uint64_t)opt_chunks, chunks = (uint64_t)opt_chunks;
	uint64_t h = t->hash;
	pthread_detach(pthread_self());
	for (uint64_t k = 0; k < n; k++) {
		if (s->done >= chunks && atomic_load_explicit(&larson_stop, memory_order_relaxed))
			break;
		size_t victim = (size_t)wl_rng_below(&t->rng, chunks);
		size_t size = (size_t)wl_rng_range(&t->rng, (uint64_t)opt_min, (uint64_t)opt_max);
		uint64_t t0 = wl_lat_begin(s->done);
		void *old = s->blk[victim];
		uint64_t v = wl_readback(old, s->size[victim]);
		free(old);
		void *p = malloc(size);
		if (__builtin_expect(!p, 0))
			wl_oom(size);
		wl_touch(p, size, s->done);
		s->blk[victim] = p;
		s->size[victim] = (uint32_t)size;
		wl_lat_end(&t->hist, t0);
		if (s->done < chunks)
			h = wl_hash_step(h, v ^ ((uint64_t)size << 40));
		s->done++;
	}
	t->hash = h;
	t->ops = s->done;
	if (atomic_load(&larson_stop)) {
		t->t_end = wl_now();
		atomic_store(&s->finished, 1);
	} else {
		pthread_t id;
		wl_thread_start(&id, larson_thread, s);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	wl_bench_t *b = wl_bench_init(&larson_prog, argc, argv);
	wl_check_order(b, "min", opt_min, "max", opt_max);
	int n = (int)b->threads;
	size_t chunks = (size_t)opt_chunks;

	/* Setup: the main thread allocates every slot's array. */
	double t0 = wl_now();
	larson_slot_t *slots = wl_alloc_lines((size_t)n, sizeof *slots);
	for (int i = 0; i < n; i++) {
		larson_slot_t *s = &slots[i];
		wl_thread_t *t = &b->th[i];
		s->t = t;
		s->blk = wl_malloc(sizeof(void *) * chunks);
		s->size = wl_malloc(sizeof(uint32_t) * chunks);
		s->done = 0;
		atomic_init(&s->finished, 0);
		for (size_t k = 0; k < chunks; k++) {
			size_t size = (size_t)wl_rng_range(&t->rng, (uint64_t)opt_min, (uint64_t)opt_max);
			s->blk[k] = wl_malloc(size);
			s->size[k] = (uint32_t)size;
			wl_touch(s->blk[k], size, k);
			t->hash = wl_hash_step(t->hash, size);
		}
	}

	/* Run: start one thread per slot, stop them after --seconds. */
	double t1 = wl_now();
	for (int i = 0; i < n; i++) {
		pthread_t id;
		wl_thread_start(&id, larson_thread, &slots[i]);
	}
	wl_sleep(b->seconds - (wl_now() - t1));
	atomic_store(&larson_stop, 1);
	double t2 = t1;
	for (int i = 0; i < n; i++) {
		while (!atomic_load(&slots[i].finished))
			wl_sleep(0.0005);
		if (b->th[i].t_end > t2)
			t2 = b->th[i].t_end;
	}

	/* Teardown: free every array. */
	double t3 = wl_now();
	for (int i = 0; i < n; i++) {
		for (size_t k = 0; k < chunks; k++)
			free(slots[i].blk[k]);
		free(slots[i].blk);
		free(slots[i].size);
	}
	free(slots);
	b->phase[WL_PHASE_SETUP] = t1 - t0;
	b->phase[WL_PHASE_RUN] = t2 - t1;
	b->phase[WL_PHASE_TEARDOWN] = wl_now() - t3;
	return wl_bench_finish(b);
}
