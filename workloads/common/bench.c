/*
 * bench.c - the run of one workload program: common options, setup of the
 * workers' state, metrics, the result line and the failure paths (bad
 * combinations exit 2, failed runs exit 3 with a result line).
 * Threads and phases live in threads.c; option parsing in args.c.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

static wl_bench_t bench_run;       /* the one run of this process */
static int bench_ready;            /* 1 once options are parsed */
static atomic_int bench_reported;  /* 1 once a result line is being written */
static char bench_line[16384];     /* the result line (no allocation) */

/* Common options; `value` pointers are filled in by wl_bench_init. */
static wl_opt_t bench_common[] = {
	WL_INT("threads", NULL, "1", 1, WL_MAX_THREADS, "worker threads"),
	WL_INT("seed", NULL, WL_DEFAULT_SEED, 0, 9007199254740991.0,
	       "random seed; the same seed gives the same operations"),
	WL_INT("ops", NULL, "0", 1, 1e15, "operations in total over all threads (the run length)"),
	WL_DOUBLE("seconds", NULL, "0", 0.001, 1e6, "run length, seconds"),
	WL_INT("limit-as-mb", NULL, "0", 0, 1 << 30,
	       "cap the address space (RLIMIT_AS), MiB; 0 = no cap"),
	WL_OPT_END,
};

/* Map zeroed memory outside the allocator under test. */
static void *bench_map(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

wl_bench_t *wl_bench_init(const wl_program_t *prog, int argc, char **argv)
{
	wl_bench_t *b = &bench_run;
	memset(b, 0, sizeof *b);
	b->prog = prog;
	b->workload = prog->name;

	/* Common options: drop --ops / --seconds when the program has none. */
	static wl_opt_t common[sizeof bench_common / sizeof bench_common[0]];
	int n = 0;
	for (const wl_opt_t *o = bench_common; o->name; o++) {
		wl_opt_t row = *o;
		if (strcmp(o->name, "threads") == 0)
			row.value = &b->threads;
		else if (strcmp(o->name, "seed") == 0)
			row.value = &b->seed;
		else if (strcmp(o->name, "ops") == 0) {
			if (!prog->default_ops)
				continue;
			row.value = &b->ops;
			row.def = prog->default_ops;
		} else if (strcmp(o->name, "seconds") == 0) {
			if (!prog->default_seconds)
				continue;
			row.value = &b->seconds;
			row.def = prog->default_seconds;
		} else
			row.value = &b->limit_as_mb;
		common[n++] = row;
	}
	common[n] = (wl_opt_t)WL_OPT_END;

	b->cli.program = prog->name;
	b->cli.summary = prog->summary;
	b->cli.details = prog->op;
	b->cli.tables[0] = common;
	b->cli.tables[1] = prog->opts;
	b->cli.positional = prog->positional;
	wl_args_parse(&b->cli, argc, argv);
	bench_ready = 1;

	b->id = wl_identity_detect();
	wl_clock_calibrate();

	b->th = bench_map(sizeof(wl_thread_t) * (size_t)b->threads);
	if (!b->th)
		wl_fail("out of memory: cannot map the workers' state");
	for (int i = 0; i < b->threads; i++) {
		wl_thread_t *t = &b->th[i];
		t->index = i;
		t->nthreads = (int)b->threads;
		t->ops_target = b->ops ? wl_share((uint64_t)b->ops, i, (int)b->threads) : 0;
		t->hash = wl_mix64((uint64_t)i + 1);
		wl_rng_seed(&t->rng, (uint64_t)b->seed, (uint64_t)i);
		t->bench = b;
	}

	if (b->limit_as_mb > 0) {
		struct rlimit rl;
		rl.rlim_cur = rl.rlim_max = (rlim_t)b->limit_as_mb << 20;
		if (setrlimit(RLIMIT_AS, &rl) != 0)
			wl_usage_error(prog->name, "option --limit-as-mb: setrlimit(RLIMIT_AS, %lld MiB) "
				       "was refused; give a larger value or 0 for no cap.",
				       (long long)b->limit_as_mb);
	}
	return b;
}

void wl_bench_metric(wl_bench_t *b, const char *name, double value)
{
	for (int i = 0; i < b->nmetrics; i++) {
		if (strcmp(b->metric_name[i], name) == 0) {
			b->metric_value[i] = value;
			return;
		}
	}
	if (b->nmetrics < WL_MAX_METRICS) {
		b->metric_name[b->nmetrics] = name;
		b->metric_value[b->nmetrics++] = value;
	}
}

void wl_check_order(wl_bench_t *b, const char *lo_name, int64_t lo, const char *hi_name, int64_t hi)
{
	if (lo > hi)
		wl_usage_error(b->prog->name, "option --%s (%lld) is greater than option --%s (%lld); "
			       "give --%s <= --%s.", lo_name, (long long)lo, hi_name, (long long)hi,
			       lo_name, hi_name);
}

/* The checksum: each worker's ordered hash mixed, plus every commutative
 * part, summed (addition commutes, so the order of workers does not matter). */
static uint64_t bench_checksum(const wl_bench_t *b)
{
	uint64_t c = 0;
	for (int i = 0; i < b->threads; i++)
		c += wl_mix64(b->th[i].hash) + b->th[i].sum;
	return wl_mix64(c);
}

/* Write the result line; `error` NULL means status ok. */
static void bench_write(wl_bench_t *b, const char *error)
{
	wl_json_t j;
	uint64_t ops = 0;
	wl_hist_t *all = NULL;
	if (b->th && !error) {
		all = bench_map(sizeof *all);
		for (int i = 0; i < b->threads; i++) {
			ops += b->th[i].ops;
			if (all)
				wl_hist_merge(all, &b->th[i].hist);
		}
	}
	double secs = b->phase[WL_PHASE_RUN];
	wl_latency_t lat = {0};
	if (all)
		lat = wl_hist_latency(all);

	wl_json_begin(&j, bench_line, sizeof bench_line);
	wl_json_str(&j, "workload", b->workload);
	wl_json_str(&j, "program", b->prog->name);
	wl_json_str(&j, "allocator", b->id.allocator);
	wl_json_str(&j, "allocator_object", b->id.object);
	wl_json_int(&j, "threads", b->threads);
	wl_json_object(&j, "params");
	wl_args_json(&b->cli, &j);
	wl_json_close(&j);
	wl_json_int(&j, "seed", b->seed);
	wl_json_int(&j, "ops", (int64_t)ops);
	wl_json_num(&j, "seconds", secs);
	wl_json_num(&j, "ops_per_sec", secs > 0 ? (double)ops / secs : 0);
	wl_json_num(&j, "ns_per_op", ops > 0 ? secs * 1e9 / (double)ops : 0);
	wl_json_object(&j, "phases");
	wl_json_num(&j, "setup", b->phase[WL_PHASE_SETUP]);
	wl_json_num(&j, "run", b->phase[WL_PHASE_RUN]);
	wl_json_num(&j, "teardown", b->phase[WL_PHASE_TEARDOWN]);
	wl_json_close(&j);
	wl_json_object(&j, "latency_ns");
	wl_json_num(&j, "p50", lat.p50);
	wl_json_num(&j, "p90", lat.p90);
	wl_json_num(&j, "p99", lat.p99);
	wl_json_num(&j, "p99.9", lat.p999);
	wl_json_num(&j, "max", lat.max);
	wl_json_int(&j, "samples", (int64_t)lat.samples);
	wl_json_close(&j);
	wl_json_object(&j, "metrics");
	wl_json_int(&j, "rss_peak_kb", wl_rss_peak_kb());
	for (int i = 0; i < b->nmetrics; i++)
		wl_json_num(&j, b->metric_name[i], b->metric_value[i]);
	wl_json_close(&j);
	char hex[17];
	snprintf(hex, sizeof hex, "%016llx", error ? 0ULL : (unsigned long long)bench_checksum(b));
	wl_json_str(&j, "checksum", hex);
	wl_json_str(&j, "status", error ? "failed" : "ok");
	if (error)
		wl_json_str(&j, "error", error);
	long len = wl_json_end(&j);
	if (len < 0) {
		static const char msg[] = "result line too long for its buffer\n";
		(void)!write(2, msg, sizeof msg - 1);
		_exit(3);
	}
	for (long off = 0; off < len;) {
		ssize_t w = write(1, bench_line + off, (size_t)(len - off));
		if (w <= 0)
			break;
		off += w;
	}
}

int wl_bench_finish(wl_bench_t *b)
{
	int expected = 0;
	if (!atomic_compare_exchange_strong(&bench_reported, &expected, 1))
		pause(); /* a failure is being reported; it exits */
	bench_write(b, NULL);
	return 0;
}

void wl_fail(const char *message)
{
	int expected = 0;
	if (!atomic_compare_exchange_strong(&bench_reported, &expected, 1)) {
		for (;;)
			pause(); /* another thread reports and exits */
	}
	if (bench_ready) {
		bench_write(&bench_run, message);
	} else {
		(void)!write(2, message, strlen(message));
		(void)!write(2, "\n", 1);
	}
	_exit(3);
}

void wl_oom_in(const char *call, size_t size)
{
	char msg[128];
	snprintf(msg, sizeof msg, "out of memory: %s(%zu) returned NULL", call, size);
	wl_fail(msg);
}

void wl_oom(size_t size)
{
	wl_oom_in("malloc", size);
}
