/*
 * stress.c - multithreaded stress test of an allocator's malloc family.
 *
 * Owns: the stress run behind `make stress` (and its short version in
 * `make test`). Does not own: hakmem's own unit tests.
 *
 * Worker threads (--threads, default 16) allocate random sizes across every
 * hakmem tier (8 B .. --max-size, weighted toward small), through malloc,
 * calloc, realloc, posix_memalign, aligned_alloc and memalign; they free
 * blocks after random lifetimes, hand blocks to other threads through shared
 * mailboxes (so blocks are freed and reallocated remotely), and exit after a
 * random number of operations, when the supervisor starts a replacement: so
 * threads are created and exit throughout, leaving blocks behind them.
 *
 * Every block is filled with a pattern derived from its address, its size and
 * a per-block salt, and checked before it is freed or reallocated (realloc:
 * the kept prefix must still hold the old pattern); calloc's memory must read
 * zero. Blocks up to 64 KiB are covered whole; bigger ones on their first and
 * last 4 KiB and 64 bytes of every 4 KiB page in between.
 *
 * Output: one summary line, then one JSON line (last on stdout). Exit status:
 * 0 no corruption and no failed request; 1 otherwise; 2 bad arguments.
 *
 * Built with -DHAK_STRESS_USE_API it calls hak_malloc & co. directly (the
 * sanitizer builds); otherwise the process's malloc family.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rel_alloc.h"

/* ------------------------------------------------------------------ options */

struct options {
	int threads;	     /* worker threads alive at any time */
	double seconds;	     /* run length */
	uint64_t seed;	     /* base of every thread's RNG stream */
	size_t max_size;     /* bytes: largest request */
	int slots;	     /* live blocks per thread, at most */
	size_t max_live;     /* bytes: live bytes over all threads, at most */
	long thread_ops_max; /* operations in one thread's life, at most */
	bool inject;	     /* flip a byte of a live block: the checks must see it */
};

static struct options opt = {
	.threads = 16,
	.seconds = 60,
	.seed = 12345,
	.max_size = (size_t)8 << 20,
	.slots = 512,
	.max_live = (size_t)256 << 20,
	.thread_ops_max = 5000,
};

static void usage(FILE *f)
{
	fprintf(f, "usage: stress [--threads N] [--seconds S] [--seed S] [--max-size BYTES]\n"
		   "              [--slots N] [--max-live-mb N] [--thread-ops N] [--inject-corruption]\n"
		   "  --threads N      worker threads alive at a time (1..1024, default 16)\n"
		   "  --seconds S      run length in seconds (0.1..86400, default 60)\n"
		   "  --seed S         RNG seed (default 12345)\n"
		   "  --max-size B     largest request in bytes (16..1073741824, default 8388608)\n"
		   "  --slots N        live blocks per thread (16..65536, default 512)\n"
		   "  --max-live-mb N  live MiB over all threads (16..65536, default 256)\n"
		   "  --thread-ops N   operations in one thread's life, at most (100..1e9, "
		   "default 5000)\n"
		   "  --inject-corruption  flip one byte of a live block (as a faulty allocator\n"
		   "                   would): proves the checks work; the run must then fail\n");
}

static double parse_num(const char *name, const char *val, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = val ? strtod(val, &end) : 0;
	if (!val || errno || end == val || *end || v < lo || v > hi) {
		fprintf(stderr, "stress: %s needs a number from %g to %g, got '%s'\n", name, lo, hi,
			val ? val : "");
		exit(2);
	}
	return v;
}

static void parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		} else if (!strcmp(a, "--threads")) {
			opt.threads = (int)parse_num(a, v, 1, 1024);
		} else if (!strcmp(a, "--seconds")) {
			opt.seconds = parse_num(a, v, 0.1, 86400);
		} else if (!strcmp(a, "--seed")) {
			opt.seed = (uint64_t)parse_num(a, v, 0, 1e18);
		} else if (!strcmp(a, "--max-size")) {
			opt.max_size = (size_t)parse_num(a, v, 16, 1 << 30);
		} else if (!strcmp(a, "--slots")) {
			opt.slots = (int)parse_num(a, v, 16, 65536);
		} else if (!strcmp(a, "--max-live-mb")) {
			opt.max_live = (size_t)parse_num(a, v, 16, 65536) << 20;
		} else if (!strcmp(a, "--thread-ops")) {
			opt.thread_ops_max = (long)parse_num(a, v, 100, 1e9);
		} else if (!strcmp(a, "--inject-corruption")) {
			opt.inject = true;
			continue;
		} else {
			fprintf(stderr, "stress: unknown option '%s'; run 'stress --help' for the "
					"list\n", a);
			exit(2);
		}
		i++;
	}
}

/* ---------------------------------------------------------------- random */

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

struct rng {
	uint64_t s; /* splitmix64 state */
};

static inline uint64_t rng_next(struct rng *r)
{
	r->s += 0x9e3779b97f4a7c15ULL;
	return mix64(r->s);
}

/* Uniform in [lo, hi]. */
static inline uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi)
{
	return lo + rng_next(r) % (hi - lo + 1);
}

/* Log-uniform in [lo, hi]: every power of two in the range equally likely. */
static uint64_t rng_log_range(struct rng *r, uint64_t lo, uint64_t hi)
{
	int lb = 63 - __builtin_clzll(lo), hb = 63 - __builtin_clzll(hi);
	int b = (int)rng_range(r, (uint64_t)lb, (uint64_t)hb);
	uint64_t a = (uint64_t)1 << b, z = (a << 1) - 1;

	a = a < lo ? lo : a;
	z = z > hi ? hi : z;
	return rng_range(r, a, z);
}

/* A request size, weighted toward small, spanning hakmem's tiers: Tiny (up to
 * 1 KiB), Mid (to 32 KiB), L2.5 (to 2 MiB), Large (above). */
static size_t pick_size(struct rng *r)
{
	uint64_t t = rng_next(r) % 1000;
	size_t hi = opt.max_size;

	if (t < 600)
		return (size_t)rng_log_range(r, 1, hi < 1024 ? hi : 1024);
	if (t < 880 || hi <= 1024)
		return (size_t)rng_log_range(r, 1024, hi < 32768 ? hi : 32768);
	if (t < 990 || hi <= 32768)
		return (size_t)rng_log_range(r, 32768, hi < (2u << 20) ? hi : (2u << 20));
	return (size_t)rng_log_range(r, (size_t)2 << 20, hi > (2u << 20) ? hi : (2u << 20));
}

/* ---------------------------------------------------------------- pattern */

enum pat_mode { PAT_FILL, PAT_CHECK, PAT_ZERO };

#define PAT_FULL_MAX ((size_t)64 << 10) /* bytes: blocks covered whole */
#define PAT_EDGE 4096			/* bytes: head and tail covered in big blocks */
#define PAT_STRIPE 64			/* bytes: covered at each page of big blocks */

static inline uint64_t pat_word(uint64_t key, size_t off)
{
	return mix64(key ^ ((uint64_t)off * 0x9e3779b97f4a7c15ULL));
}

struct pat_bad {
	size_t off;	   /* bytes: offset of the first wrong byte */
	unsigned expected; /* the byte the pattern wants */
	unsigned found;	   /* the byte in memory */
};

/* Fill or check bytes [a, b) of p with the pattern of `key`; on a mismatch
 * fill *bad and return false. */
static bool pat_range(unsigned char *p, size_t a, size_t b, uint64_t key, enum pat_mode mode,
		      struct pat_bad *bad)
{
	size_t o = a;

	while (o < b) {
		uint64_t want = mode == PAT_ZERO ? 0 : pat_word(key, o & ~(size_t)7);

		if ((o & 7) == 0 && o + 8 <= b) {
			uint64_t got;

			if (mode == PAT_FILL) {
				memcpy(p + o, &want, 8);
				o += 8;
				continue;
			}
			memcpy(&got, p + o, 8);
			if (got == want) {
				o += 8;
				continue;
			}
		}
		unsigned wb = (unsigned)(want >> (8 * (o & 7))) & 0xff;

		if (mode == PAT_FILL) {
			p[o] = (unsigned char)wb;
		} else if (p[o] != wb) {
			bad->off = o;
			bad->expected = wb;
			bad->found = p[o];
			return false;
		}
		o++;
	}
	return true;
}

/* Apply `mode` to the covered bytes of a block of `size` bytes, clipped to
 * the first `limit` bytes. Returns false with *bad filled on a mismatch. */
static bool pat_walk(unsigned char *p, size_t size, uint64_t key, size_t limit, enum pat_mode mode,
		     struct pat_bad *bad)
{
	size_t lim = limit < size ? limit : size;

	if (size <= PAT_FULL_MAX)
		return pat_range(p, 0, lim, key, mode, bad);
	if (!pat_range(p, 0, lim < PAT_EDGE ? lim : PAT_EDGE, key, mode, bad))
		return false;
	for (size_t off = PAT_EDGE; off + PAT_STRIPE <= size - PAT_EDGE && off < lim; off += 4096)
		if (!pat_range(p, off, off + PAT_STRIPE < lim ? off + PAT_STRIPE : lim, key, mode,
			       bad))
			return false;
	return size - PAT_EDGE >= lim || pat_range(p, size - PAT_EDGE, lim, key, mode, bad);
}

/* ---------------------------------------------------------------- blocks */

struct block {
	unsigned char *p; /* the allocation */
	size_t size;	  /* bytes requested */
	uint64_t key;	  /* the pattern's key: address, size and a random salt */
};

/* Counters: per thread while it runs, summed into `totals` when it exits. */
#define STRESS_COUNTERS(X)                                                                         \
	X(malloc)                                                                                  \
	X(calloc)                                                                                  \
	X(aligned)                                                                                 \
	X(realloc)                                                                                 \
	X(free)                                                                                    \
	X(remote_free)                                                                             \
	X(handoff)                                                                                 \
	X(adopt)                                                                                   \
	X(bytes_allocated)                                                                         \
	X(bytes_checked)

struct counters {
#define X(name) uint64_t name;
	STRESS_COUNTERS(X)
#undef X
};

static struct {
#define X(name) _Atomic uint64_t name;
	STRESS_COUNTERS(X)
#undef X
} totals;

static _Atomic int stop_flag;		  /* set: every thread winds down */
static _Atomic uint64_t corruptions;	  /* wrong bytes, misaligned or too small blocks */
static _Atomic uint64_t failures;	  /* requests that returned NULL */
static _Atomic uint64_t threads_started;  /* worker threads created */
static _Atomic int64_t live_bytes;	  /* bytes in live blocks, all threads */

static void report_corruption(const char *what, const struct block *b, const struct pat_bad *bad)
{
	uint64_t n = atomic_fetch_add(&corruptions, 1);

	if (n < 10)
		fprintf(stderr,
			"stress: corruption %s: block %p of %zu bytes, offset %zu: expected "
			"0x%02x, found 0x%02x\n",
			what, (void *)b->p, b->size, bad ? bad->off : 0, bad ? bad->expected : 0,
			bad ? bad->found : 0);
	atomic_store(&stop_flag, 1);
}

static void report_failure(const char *call, size_t size)
{
	if (atomic_fetch_add(&failures, 1) < 10)
		fprintf(stderr, "stress: %s(%zu) returned NULL\n", call, size);
	atomic_store(&stop_flag, 1);
}

/* Check a fresh block's address and usable size. */
static bool check_new(const struct block *b, size_t align)
{
	size_t usable = rel_usable_size(b->p);
	uintptr_t a = (uintptr_t)b->p;

	if ((a & (HAK_MIN_ALIGN - 1)) || (align && (a & (align - 1)))) {
		fprintf(stderr, "stress: block %p of %zu bytes is not aligned to %zu\n",
			(void *)b->p, b->size, align ? align : (size_t)HAK_MIN_ALIGN);
		report_corruption("(misaligned)", b, NULL);
		return false;
	}
	if (usable < b->size) {
		fprintf(stderr, "stress: usable size %zu of block %p is below its %zu bytes\n",
			usable, (void *)b->p, b->size);
		report_corruption("(usable size)", b, NULL);
		return false;
	}
	return true;
}

static bool block_check(struct counters *c, const struct block *b, const char *when)
{
	struct pat_bad bad;

	c->bytes_checked += b->size;
	if (!pat_walk(b->p, b->size, b->key, b->size, PAT_CHECK, &bad)) {
		report_corruption(when, b, &bad);
		return false;
	}
	return true;
}

/* Give a block its key (from its address, its size and a salt) and fill it. */
static void block_fill(struct block *b, uint64_t salt)
{
	b->key = (uint64_t)(uintptr_t)b->p ^ salt ^ ((uint64_t)b->size << 40);
	pat_walk(b->p, b->size, b->key, b->size, PAT_FILL, NULL);
}

static void block_release(struct counters *c, struct block *b, bool remote)
{
	block_check(c, b, remote ? "before remote free" : "before free");
	rel_free(b->p);
	atomic_fetch_sub_explicit(&live_bytes, (int64_t)b->size, memory_order_relaxed);
	c->free++;
	c->remote_free += remote;
	b->p = NULL;
}

/* Allocate one block of a random size and kind into *b. False on failure. */
static bool block_new(struct counters *c, struct rng *r, struct block *b)
{
	size_t size = pick_size(r), align = 0;
	uint64_t kind = rng_next(r) % 100;
	const char *call = "malloc";

	if (atomic_load_explicit(&live_bytes, memory_order_relaxed) + (int64_t)size >
	    (int64_t)opt.max_live)
		size = (size_t)rng_range(r, 1, 256);
	b->size = size;
	if (kind < 75) {
		b->p = rel_malloc(size);
		c->malloc++;
	} else if (kind < 88) {
		call = "calloc";
		b->p = rel_calloc(1 + size / 64, size >= 64 ? 64 : 1);
		b->size = size >= 64 ? (1 + size / 64) * 64 : 1 + size / 64;
		c->calloc++;
	} else {
		void *p = NULL;

		align = (size_t)1 << rng_range(r, 4, rng_next(r) % 8 ? 12 : 21);
		if (kind < 93) {
			call = "posix_memalign";
			if (rel_posix_memalign(&p, align, size))
				p = NULL;
		} else if (kind < 97) {
			call = "aligned_alloc";
			b->size = size = (size + align - 1) & ~(align - 1);
			p = rel_aligned_alloc(align, size);
		} else {
			call = "memalign";
			p = rel_memalign(align, size);
		}
		b->p = p;
		c->aligned++;
	}
	if (!b->p) {
		report_failure(call, b->size);
		return false;
	}
	atomic_fetch_add_explicit(&live_bytes, (int64_t)b->size, memory_order_relaxed);
	c->bytes_allocated += b->size;
	if (!check_new(b, align))
		return false;
	if (!strcmp(call, "calloc")) {
		struct pat_bad bad;

		if (!pat_walk(b->p, b->size, 0, b->size, PAT_ZERO, &bad)) {
			report_corruption("in fresh calloc memory", b, &bad);
			return false;
		}
	}
	block_fill(b, rng_next(r));
	return true;
}

/* realloc a block to a new random size; the kept prefix must survive. */
static bool block_resize(struct counters *c, struct rng *r, struct block *b)
{
	struct block old = *b, nb;
	struct pat_bad bad;
	size_t size = rng_next(r) % 4 ? old.size + rng_range(r, 1, old.size / 2 + 64)
				      : (size_t)rng_range(r, 1, old.size);

	if (size > opt.max_size)
		size = opt.max_size;
	if (!block_check(c, b, "before realloc"))
		return false;
	nb.p = rel_realloc(old.p, size);
	c->realloc++;
	if (!nb.p) {
		report_failure("realloc", size);
		return false;
	}
	nb.size = size;
	nb.key = 0;
	atomic_fetch_add_explicit(&live_bytes, (int64_t)size - (int64_t)old.size,
				  memory_order_relaxed);
	*b = nb;
	if (!check_new(b, 0))
		return false;
	/* The first min(old, new) bytes still hold the old block's pattern. */
	if (!pat_walk(nb.p, old.size, old.key, size, PAT_CHECK, &bad)) {
		report_corruption("after realloc (contents not kept)", &nb, &bad);
		return false;
	}
	block_fill(b, rng_next(r));
	return true;
}

/* -------------------------------------------------------------- mailboxes */

#define MAILBOXES 64   /* shards of the exchange */
#define MAILBOX_CAP 64 /* blocks per shard */

struct mailbox {
	pthread_mutex_t lock;
	int n;				/* blocks held */
	struct block item[MAILBOX_CAP]; /* held blocks */
};

static struct mailbox mailboxes[MAILBOXES];

/* Hand a block to whichever thread looks at mailbox `i` next. False when the
 * mailbox is full (the caller keeps the block). */
static bool mailbox_put(int i, const struct block *b)
{
	struct mailbox *m = &mailboxes[i];
	bool ok = false;

	pthread_mutex_lock(&m->lock);
	if (m->n < MAILBOX_CAP) {
		m->item[m->n++] = *b;
		ok = true;
	}
	pthread_mutex_unlock(&m->lock);
	return ok;
}

static bool mailbox_take(int i, struct block *b)
{
	struct mailbox *m = &mailboxes[i];
	bool ok = false;

	pthread_mutex_lock(&m->lock);
	if (m->n > 0) {
		*b = m->item[--m->n];
		ok = true;
	}
	pthread_mutex_unlock(&m->lock);
	return ok;
}

/* ---------------------------------------------------------------- workers */

struct worker {
	pthread_t tid;	    /* the thread in this seat now */
	uint64_t stream;    /* RNG stream of the current thread */
	_Atomic int done;   /* set by the thread when it has exited its loop */
	bool running;	    /* a thread occupies the seat (supervisor only) */
};

static void counters_merge(const struct counters *c)
{
#define X(name) atomic_fetch_add(&totals.name, c->name);
	STRESS_COUNTERS(X)
#undef X
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct rng r = {.s = mix64(opt.seed) ^ mix64(w->stream)};
	struct counters c = {0};
	struct block *live = calloc((size_t)opt.slots, sizeof(*live));
	long life = (long)rng_range(&r, opt.thread_ops_max / 100, opt.thread_ops_max);
	int n = 0;

	if (!live) {
		report_failure("calloc (bookkeeping)", (size_t)opt.slots * sizeof(*live));
		atomic_store(&w->done, 1);
		return NULL;
	}
	for (long op = 0; op < life && !atomic_load_explicit(&stop_flag, memory_order_relaxed);
	     op++) {
		uint64_t t = rng_next(&r) % 100;
		int k = n ? (int)(rng_next(&r) % (uint64_t)n) : 0;
		struct block b;

		if (n == 0 || (t < 40 && n < opt.slots)) {
			if (n < opt.slots && block_new(&c, &r, &live[n]))
				n++;
		} else if (t < 62) {
			block_release(&c, &live[k], false);
			live[k] = live[--n];
		} else if (t < 74) {
			block_resize(&c, &r, &live[k]);
		} else if (t < 86) {
			if (mailbox_put((int)(rng_next(&r) % MAILBOXES), &live[k])) {
				c.handoff++;
				live[k] = live[--n];
			}
		} else if (mailbox_take((int)(rng_next(&r) % MAILBOXES), &b)) {
			/* A block another thread allocated: free it here, or adopt it
			 * (later freed or reallocated here). */
			if (!block_check(&c, &b, "after handoff")) {
				continue;
			} else if (n < opt.slots && rng_next(&r) % 2) {
				live[n++] = b;
				c.adopt++;
			} else {
				block_release(&c, &b, true);
			}
		}
	}
	/* The first thread damages one of its blocks, when asked to. */
	if (opt.inject && w->stream == 0 && n > 0)
		live[0].p[live[0].size / 2] ^= 0x5a;
	/* Leave half of what is left behind for other threads to free. */
	while (n > 0) {
		n--;
		if (rng_next(&r) % 2 && mailbox_put((int)(rng_next(&r) % MAILBOXES), &live[n]))
			c.handoff++;
		else
			block_release(&c, &live[n], false);
	}
	free(live);
	counters_merge(&c);
	atomic_store(&w->done, 1);
	return NULL;
}

static int worker_start(struct worker *w, uint64_t stream)
{
	int err;

	w->stream = stream;
	atomic_store(&w->done, 0);
	err = pthread_create(&w->tid, NULL, worker_main, w);
	if (err) {
		fprintf(stderr, "stress: pthread_create failed: %s\n", strerror(err));
		return -1;
	}
	w->running = true;
	atomic_fetch_add(&threads_started, 1);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Free what is left in the mailboxes, on the main thread. */
static void drain_mailboxes(void)
{
	struct counters c = {0};
	struct block b;

	for (int i = 0; i < MAILBOXES; i++)
		while (mailbox_take(i, &b))
			block_release(&c, &b, true);
	counters_merge(&c);
}

int main(int argc, char **argv)
{
	struct worker *ws;
	uint64_t stream = 0;
	double start, elapsed;
	uint64_t ops;
	bool ok;

	parse_args(argc, argv);
	ws = calloc((size_t)opt.threads, sizeof(*ws));
	if (!ws) {
		fprintf(stderr, "stress: out of memory for %d worker seats\n", opt.threads);
		return 1;
	}
	for (int i = 0; i < MAILBOXES; i++)
		pthread_mutex_init(&mailboxes[i].lock, NULL);

	start = now_s();
	for (int i = 0; i < opt.threads; i++)
		if (worker_start(&ws[i], stream++))
			atomic_store(&stop_flag, 1);
	/* Supervise: replace each thread that ends, until the time is up. */
	while (!atomic_load(&stop_flag) && now_s() - start < opt.seconds) {
		usleep(2000);
		for (int i = 0; i < opt.threads; i++) {
			if (!ws[i].running || !atomic_load(&ws[i].done))
				continue;
			pthread_join(ws[i].tid, NULL);
			ws[i].running = false;
			if (now_s() - start < opt.seconds && !atomic_load(&stop_flag) &&
			    worker_start(&ws[i], stream++))
				atomic_store(&stop_flag, 1);
		}
	}
	atomic_store(&stop_flag, 1);
	for (int i = 0; i < opt.threads; i++)
		if (ws[i].running)
			pthread_join(ws[i].tid, NULL);
	drain_mailboxes();
	elapsed = now_s() - start;
	free(ws);

	ops = totals.malloc + totals.calloc + totals.aligned + totals.realloc + totals.free;
	ok = !corruptions && !failures;
	printf("stress: %s via %s, %d threads for %.1f s: %" PRIu64 " operations (%" PRIu64
	       " allocations, %" PRIu64 " reallocs, %" PRIu64 " frees of which %" PRIu64
	       " remote), %" PRIu64 " threads started, %" PRIu64 " corruptions, %" PRIu64
	       " failed requests: %s\n",
	       rel_allocator_name(), REL_ROUTE, opt.threads, elapsed, ops,
	       totals.malloc + totals.calloc + totals.aligned, (uint64_t)totals.realloc,
	       (uint64_t)totals.free, (uint64_t)totals.remote_free, (uint64_t)threads_started,
	       (uint64_t)corruptions, (uint64_t)failures, ok ? "PASS" : "FAIL");
	printf("{\"program\":\"stress\",\"allocator\":\"%s\",\"route\":\"%s\",\"threads\":%d,"
	       "\"seed\":%" PRIu64 ",\"max_size\":%zu,\"seconds\":%.3f,\"ops\":%" PRIu64 ",",
	       rel_allocator_name(), REL_ROUTE, opt.threads, opt.seed, opt.max_size, elapsed, ops);
#define X(name) printf("\"%s\":%" PRIu64 ",", #name, (uint64_t)totals.name);
	STRESS_COUNTERS(X)
#undef X
	printf("\"threads_started\":%" PRIu64 ",\"corruptions\":%" PRIu64 ",\"failures\":%" PRIu64
	       ",\"foreign_requests\":%llu,\"status\":\"%s\"}\n",
	       (uint64_t)threads_started, (uint64_t)corruptions, (uint64_t)failures,
	       rel_foreign_requests(), ok ? "ok" : "failed");
	return ok ? 0 : 1;
}
