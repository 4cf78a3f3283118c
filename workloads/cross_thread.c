/*
 * cross_thread - producer threads allocate, consumer threads free: every
 * free is a remote free, done in bulk.
 *
 * Of --threads workers, ceil(n/2) are producers and floor(n/2) consumers;
 * producer j hands its blocks to consumer j mod floor(n/2). A producer
 * allocates blocks of random sizes in [--min, --max] (log-uniform), writes
 * them whole, and hands them over in chains of --batch through a lock-free
 * queue; it waits while its consumer has more than --depth chains pending.
 * A consumer takes everything queued at once and frees it. With --threads 1
 * the one worker produces a chain and then frees it itself (no remote
 * frees). One op = one block allocated by a producer and freed by a
 * consumer; --ops is split among the producers.
 */
#include <sched.h>

#include "bench.h"

static int64_t opt_min, opt_max; /* bytes: size range */
static int64_t opt_batch;        /* blocks per chain handed over */
static int64_t opt_depth;        /* chains a consumer may have pending */

static wl_opt_t cross_opts[] = {
	WL_INT("min", &opt_min, "16", WL_QUEUE_MIN_BLOCK, 1 << 20, "smallest block, bytes"),
	WL_INT("max", &opt_max, "1024", WL_QUEUE_MIN_BLOCK, 1 << 20, "largest block, bytes"),
	WL_INT("batch", &opt_batch, "256", 1, 1 << 20, "blocks per chain handed to a consumer"),
	WL_INT("depth", &opt_depth, "8", 1, 1 << 20, "chains a consumer may have pending before producers wait"),
	WL_OPT_END,
};

static const wl_program_t cross_prog = {
	.name = "cross_thread",
	.summary = "cross_thread: producer threads allocate, consumer threads free (remote frees in bulk).",
	.op = "One op = one block allocated by a producer and freed by a consumer.",
	.opts = cross_opts,
	.default_ops = "10000000",
};

static int cross_producers, cross_consumers; /* worker counts */
static wl_queue_t *cross_queues;             /* one per consumer */
static atomic_int *cross_left;               /* per consumer: producers not yet done */

/* Free a list of blocks taken from a queue; returns how many. */
static size_t cross_free_list(wl_thread_t *t, void *b, uint64_t *step)
{
	size_t n = 0;
	while (b) {
		void *next = *wl_link(b);
		uint64_t t0 = wl_lat_begin((*step)++);
		t->sum += wl_mix64(wl_tag_of(b));
		free(b);
		wl_lat_end(&t->hist, t0);
		b = next;
		n++;
	}
	return n;
}

static void cross_produce(wl_thread_t *t)
{
	int single = cross_consumers == 0;
	wl_queue_t *q = single ? NULL : &cross_queues[t->index % cross_consumers];
	size_t bound = (size_t)(opt_depth * opt_batch);
	wl_chain_t chain = {0};
	uint64_t h = t->hash, step = 0;
	for (uint64_t i = 0; i < t->ops_target; i++) {
		size_t size = (size_t)wl_rng_logsize(&t->rng, (uint64_t)opt_min, (uint64_t)opt_max);
		uint64_t t0 = wl_lat_begin(i);
		void *p = malloc(size);
		if (__builtin_expect(!p, 0))
			wl_oom(size);
		wl_touch(p, size, ((uint64_t)t->index << 44) ^ i);
		wl_chain_add(&chain, p);
		wl_lat_end(&t->hist, t0);
		h = wl_hash_step(h, size);
		if (chain.n >= (size_t)opt_batch || i + 1 == t->ops_target) {
			if (single) {
				cross_free_list(t, chain.first, &step);
				chain = (wl_chain_t){0};
				continue;
			}
			while (wl_queue_count(q) > bound)
				sched_yield();
			wl_queue_push(q, &chain);
		}
	}
	t->hash = h;
	t->ops = t->ops_target;
	if (!single)
		atomic_fetch_sub(&cross_left[t->index % cross_consumers], 1);
}

static void cross_consume(wl_thread_t *t)
{
	int c = t->index - cross_producers;
	wl_queue_t *q = &cross_queues[c];
	uint64_t step = 0;
	for (;;) {
		int last = atomic_load(&cross_left[c]) == 0; /* read before taking */
		void *all = wl_queue_take(q);
		if (all)
			wl_queue_release(q, cross_free_list(t, all, &step));
		else if (last)
			break;
		else
			sched_yield();
	}
}

static void cross_run(wl_thread_t *t)
{
	if (t->index < cross_producers)
		cross_produce(t);
	else
		cross_consume(t);
}

int main(int argc, char **argv)
{
	wl_bench_t *b = wl_bench_init(&cross_prog, argc, argv);
	wl_check_order(b, "min", opt_min, "max", opt_max);
	int n = (int)b->threads;
	cross_consumers = n / 2;
	cross_producers = n - cross_consumers;
	if (cross_consumers) {
		cross_queues = wl_alloc_lines((size_t)cross_consumers, sizeof(wl_queue_t));
		cross_left = wl_malloc(sizeof(atomic_int) * (size_t)cross_consumers);
		for (int c = 0; c < cross_consumers; c++) {
			atomic_init(&cross_queues[c].head, NULL);
			atomic_init(&cross_queues[c].count, 0);
			atomic_init(&cross_left[c], 0);
		}
		for (int j = 0; j < cross_producers; j++)
			atomic_fetch_add(&cross_left[j % cross_consumers], 1);
	}
	for (int i = 0; i < n; i++)
		b->th[i].ops_target = i < cross_producers ? wl_share((uint64_t)b->ops, i, cross_producers) : 0;
	wl_bench_run(b, NULL, cross_run, NULL);
	free(cross_queues);
	free(cross_left);
	return wl_bench_finish(b);
}
