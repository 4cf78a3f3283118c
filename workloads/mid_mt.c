/*
 * mid_mt - 2-32 KiB blocks over several threads, a set fraction of them
 * freed by a thread other than the one that allocated them (the load the
 * original "Mid pool" figures were measured on).
 *
 * Each worker keeps --live blocks. One op: pick a random slot, let go of
 * its block, allocate a new one of a random size in [--min, --max] (log-
 * uniform), write it (first/last cache lines, one byte per page) and put it
 * in the slot. Letting go means free() here, or, with probability
 * --remote-pct and more than one thread, handing the block to a random
 * other worker, which frees it: blocks travel in chains of --batch through
 * lock-free queues, so the queue is not the bottleneck. Every worker drains
 * its own queue every 64 ops; a sender waits while a receiver's queue holds
 * more than 16 chains. With --threads 1 there is no other thread and
 * every free is local. A worker done with its ops keeps draining its
 * queue until every worker is done. One op = one malloc (its free, local
 * or remote, comes later).
 */
#include <sched.h>

#include "bench.h"

static int64_t opt_min, opt_max; /* bytes: size range */
static int64_t opt_live;         /* blocks live per worker */
static int64_t opt_remote_pct;   /* percent of frees done by another thread */
static int64_t opt_batch;        /* blocks per hand-over */

static wl_opt_t mid_opts[] = {
	WL_INT("min", &opt_min, "2048", WL_QUEUE_MIN_BLOCK, 1 << 26, "smallest block, bytes"),
	WL_INT("max", &opt_max, "32768", WL_QUEUE_MIN_BLOCK, 1 << 26, "largest block, bytes"),
	WL_INT("live", &opt_live, "256", 1, 1 << 22, "blocks live per worker"),
	WL_INT("remote-pct", &opt_remote_pct, "25", 0, 100, "percent of blocks freed by another thread (needs --threads >= 2)"),
	WL_INT("batch", &opt_batch, "32", 1, 1 << 16, "blocks per hand-over to another thread"),
	WL_OPT_END,
};

static const wl_program_t mid_prog = {
	.name = "mid_mt",
	.summary = "mid_mt: 2-32 KiB blocks over several threads, a fraction freed by another thread.",
	.op = "One op = one malloc of 2-32 KiB with the write of the block; its free (local or remote) comes later.",
	.opts = mid_opts,
	.default_ops = "2000000",
};

#define MID_DRAIN_EVERY 64 /* ops between drains of a worker's queue */
#define MID_QUEUE_BOUND 16 /* chains a queue may hold before senders wait */

typedef struct mid_state {
	void **slot;       /* live blocks */
	uint32_t *size;    /* their sizes, bytes */
	wl_chain_t *out;   /* a chain being built per destination worker */
	wl_queue_t inbox;  /* blocks other workers hand to this one */
} mid_state_t;

static mid_state_t *mid_states; /* one per worker */
static atomic_int mid_running;  /* workers still doing their ops */

/* Free every block on worker t's queue; their tags go to the commutative sum. */
static void mid_drain(wl_thread_t *t, mid_state_t *s)
{
	size_t n = 0;
	void *b = wl_queue_take(&s->inbox);
	while (b) {
		void *next = *wl_link(b);
		t->sum += wl_mix64(wl_tag_of(b));
		free(b);
		b = next;
		n++;
	}
	if (n)
		wl_queue_release(&s->inbox, n);
}

/* Let go of block p: free it here, or queue it for another worker. */
static inline void mid_let_go(wl_thread_t *t, mid_state_t *s, void *p)
{
	if (t->nthreads > 1 && wl_rng_pct(&t->rng, (uint64_t)opt_remote_pct)) {
		int to = (t->index + 1 + (int)wl_rng_below(&t->rng, (uint64_t)t->nthreads - 1)) % t->nthreads;
		wl_chain_add(&s->out[to], p);
		if (s->out[to].n >= (size_t)opt_batch) {
			/* Back-pressure: wait (draining our own queue, so two
			 * waiting workers cannot block each other) while the
			 * receiver is far behind. */
			while (wl_queue_count(&mid_states[to].inbox) > MID_QUEUE_BOUND * (size_t)opt_batch) {
				mid_drain(t, s);
				sched_yield();
			}
			wl_queue_push(&mid_states[to].inbox, &s->out[to]);
		}
		return;
	}
	t->sum += wl_mix64(wl_tag_of(p));
	free(p);
}

static inline void *mid_new_block(wl_thread_t *t, size_t *size, uint64_t seq)
{
	*size = (size_t)wl_rng_logsize(&t->rng, (uint64_t)opt_min, (uint64_t)opt_max);
	void *p = malloc(*size);
	if (__builtin_expect(!p, 0))
		wl_oom(*size);
	wl_touch(p, *size, ((uint64_t)t->index << 44) ^ seq);
	return p;
}

static void mid_setup(wl_thread_t *t)
{
	mid_state_t *s = &mid_states[t->index];
	s->slot = wl_malloc(sizeof(void *) * (size_t)opt_live);
	s->size = wl_malloc(sizeof(uint32_t) * (size_t)opt_live);
	s->out = wl_malloc(sizeof(wl_chain_t) * (size_t)t->nthreads);
	for (int i = 0; i < t->nthreads; i++)
		s->out[i] = (wl_chain_t){0};
	for (int64_t k = 0; k < opt_live; k++) {
		size_t size;
		s->slot[k] = mid_new_block(t, &size, (1ull << 43) | (uint64_t)k);
		s->size[k] = (uint32_t)size;
	}
}

static void mid_run(wl_thread_t *t)
{
	mid_state_t *s = &mid_states[t->index];
	uint64_t h = t->hash;
	for (uint64_t i = 0; i < t->ops_target; i++) {
		size_t k = (size_t)wl_rng_below(&t->rng, (uint64_t)opt_live), size;
		uint64_t t0 = wl_lat_begin(i);
		mid_let_go(t, s, s->slot[k]);
		s->slot[k] = mid_new_block(t, &size, i);
		s->size[k] = (uint32_t)size;
		wl_lat_end(&t->hist, t0);
		h = wl_hash_step(h, size);
		if ((i & (MID_DRAIN_EVERY - 1)) == MID_DRAIN_EVERY - 1)
			mid_drain(t, s);
	}
	for (int i = 0; i < t->nthreads; i++)
		wl_queue_push(&mid_states[i].inbox, &s->out[i]);
	t->hash = h;
	t->ops = t->ops_target;
	/* Keep freeing what the others still send, so that a worker ahead of
	 * the rest does not let its queue grow without bound. */
	atomic_fetch_sub(&mid_running, 1);
	while (atomic_load(&mid_running) > 0) {
		mid_drain(t, s);
		sched_yield();
	}
}

/* After every worker flushed its chains: drain, free the live set. */
static void mid_teardown(wl_thread_t *t)
{
	mid_state_t *s = &mid_states[t->index];
	mid_drain(t, s);
	for (int64_t k = 0; k < opt_live; k++) {
		t->sum += wl_mix64(wl_tag_of(s->slot[k]));
		free(s->slot[k]);
	}
	free(s->slot);
	free(s->size);
	free(s->out);
}

int main(int argc, char **argv)
{
	wl_bench_t *b = wl_bench_init(&mid_prog, argc, argv);
	wl_check_order(b, "min", opt_min, "max", opt_max);
	mid_states = wl_alloc_lines((size_t)b->threads, sizeof(mid_state_t));
	for (int i = 0; i < b->threads; i++) {
		atomic_init(&mid_states[i].inbox.head, NULL);
		atomic_init(&mid_states[i].inbox.count, 0);
	}
	atomic_init(&mid_running, (int)b->threads);
	wl_bench_run(b, mid_setup, mid_run, mid_teardown);
	free(mid_states);
	return wl_bench_finish(b);
}
