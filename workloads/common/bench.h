/*
 * bench.h - what every workload program shares: the common options, the
 * per-thread state, running threads behind a barrier, metrics, the result
 * line and the failure paths. Include this one header; it brings the
 * others (args, clock, hist, rng, touch, rss, identity).
 *
 * A program's shape:
 *
 *     static const wl_program_t prog = {.name = "tiny_hot", ...};
 *     int main(int argc, char **argv) {
 *         wl_bench_t *b = wl_bench_init(&prog, argc, argv);  // exits 2 on bad input
 *         wl_bench_run(b, setup, run, teardown);             // phases, barrier
 *         return wl_bench_finish(b);                          // the result line
 *     }
 *
 * Common options: --threads (1..1024), --seed (default 12345), --ops and/or
 * --seconds (whichever the program declares a default for), --limit-as-mb
 * (cap the address space with RLIMIT_AS, 0 = no cap; makes out-of-memory
 * testable). `--ops` is the total over all threads, split evenly.
 *
 * Checksum: each thread keeps `hash` (order-dependent, for its own
 * sequence) and `sum` (added to, for values whose reader depends on
 * scheduling, e.g. blocks freed by another thread). The result combines
 * them so that it depends only on seed and parameters.
 */
#ifndef WL_BENCH_H
#define WL_BENCH_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "args.h"
#include "clock.h"
#include "hist.h"
#include "identity.h"
#include "queue.h"
#include "rng.h"
#include "rss.h"
#include "touch.h"

#define WL_MAX_THREADS 1024
#define WL_MAX_METRICS 16
#define WL_DEFAULT_SEED "12345"

struct wl_bench;

/* One worker's state; cache-line aligned so that workers do not share. */
typedef struct wl_thread {
	int index;              /* 0 .. nthreads-1 */
	int nthreads;           /* workers in this run */
	uint64_t ops_target;    /* this worker's share of --ops (0 if time-bound) */
	uint64_t ops;           /* operations done; set by the workload */
	uint64_t hash;          /* ordered checksum of this worker's own sequence */
	uint64_t sum;           /* commutative checksum part (added to) */
	wl_rng_t rng;           /* stream seeded from (--seed, index) */
	void *user;             /* the workload's per-worker state */
	struct wl_bench *bench; /* the run */
	double t_start, t_end;  /* wl_now() when its run began and ended */
	wl_hist_t hist;         /* sampled latency, cycles */
} __attribute__((aligned(64))) wl_thread_t;

/* A workload program's declaration. */
typedef struct wl_program {
	const char *name;              /* program name, for messages and the result line */
	const char *summary;           /* one line: what it models */
	const char *op;                /* --help text: what one op is */
	wl_opt_t *opts;                /* its own options, WL_OPT_END-terminated, or NULL */
	const char *default_ops;       /* default --ops, or NULL: no --ops option */
	const char *default_seconds;   /* default --seconds, or NULL: no --seconds option */
	const char *const *positional; /* names of a classic positional form, or NULL */
} wl_program_t;

/* The run: options, workers, phases, metrics. */
typedef struct wl_bench {
	const wl_program_t *prog; /* the program */
	wl_cli_t cli;             /* its option tables */
	const char *workload;     /* result line's "workload" (default prog->name) */
	int64_t threads;          /* --threads */
	int64_t seed;             /* --seed */
	int64_t ops;              /* --ops (0 if the program has none) */
	double seconds;           /* --seconds (0 if the program has none) */
	int64_t limit_as_mb;      /* --limit-as-mb, MiB; 0 = no cap */
	wl_identity_t id;         /* the allocator serving malloc */
	wl_thread_t *th;          /* `threads` workers (mmap'ed, not malloc'ed) */
	double phase[3];          /* setup, run, teardown: seconds */
	volatile int stop;        /* set when a time-bound run is over */
	int nmetrics;             /* metrics recorded */
	const char *metric_name[WL_MAX_METRICS]; /* metric names */
	double metric_value[WL_MAX_METRICS];     /* metric values */
} wl_bench_t;

enum { WL_PHASE_SETUP, WL_PHASE_RUN, WL_PHASE_TEARDOWN };

/* Parse the command line (exit 2 on bad input, 0 after --help), apply
 * --limit-as-mb, detect the allocator, calibrate the TSC, seed the workers.
 * Returns the run (one per process). Not thread-safe. */
wl_bench_t *wl_bench_init(const wl_program_t *prog, int argc, char **argv);

typedef void (*wl_work_fn)(wl_thread_t *t);

/* Start `threads` workers; each runs setup, waits at a barrier, runs `run`,
 * waits again, then `teardown` (any may be NULL). Only the part between the
 * barriers is the measured "run" phase. Returns when every worker ended. */
void wl_bench_run(wl_bench_t *b, wl_work_fn setup, wl_work_fn run, wl_work_fn teardown);

/* Start one thread running fn(arg) with the workers' stack size; on failure
 * the run is reported as failed (exit 3). For programs with their own
 * threading (larson). */
void wl_thread_start(pthread_t *id, void *(*fn)(void *), void *arg);

/* Record a workload-specific number for "metrics" (e.g. rss_after_free_kb). */
void wl_bench_metric(wl_bench_t *b, const char *name, double value);

/* Print the result line (status ok) and return the exit status (0). */
int wl_bench_finish(wl_bench_t *b);

/* Report the run as failed with `message` (a result line with status
 * "failed"), and exit 3. Thread-safe: the first caller reports; allocates
 * nothing. */
void wl_fail(const char *message) __attribute__((noreturn));

/* Out of memory: malloc(size) returned NULL. wl_fail with a message. */
void wl_oom(size_t size) __attribute__((noreturn, cold));

/* Out of memory in another call, e.g. wl_oom_in("realloc", n). */
void wl_oom_in(const char *call, size_t size) __attribute__((noreturn, cold));

/* Check lo <= hi for options --lo_name and --hi_name, else exit 2. */
void wl_check_order(wl_bench_t *b, const char *lo_name, int64_t lo, const char *hi_name, int64_t hi);

/* Share of `total` for worker i of n (the first total % n get one more). */
static inline uint64_t wl_share(uint64_t total, int i, int n)
{
	return total / (uint64_t)n + ((uint64_t)i < total % (uint64_t)n);
}

/* malloc that reports out of memory instead of returning NULL. */
static inline void *wl_malloc(size_t size)
{
	void *p = malloc(size);
	if (__builtin_expect(p == NULL, 0))
		wl_oom(size);
	return p;
}

/* Zeroed array of n elements of `size` bytes aligned to a cache line (for
 * types declared cache-line aligned); reports out of memory itself. */
static inline void *wl_alloc_lines(size_t n, size_t size)
{
	void *p = NULL;
	size_t bytes = (n * size + WL_LINE - 1) / WL_LINE * WL_LINE;
	if (posix_memalign(&p, WL_LINE, bytes ? bytes : WL_LINE) != 0)
		wl_oom_in("posix_memalign", bytes);
	memset(p, 0, bytes);
	return p;
}

#endif /* WL_BENCH_H */
