/*
 * test_learn_glue.c - learn.c end to end on a simulated allocator: a fake
 * Mid tier (hit rate a function of CAP and W_MAX), a clock the test drives,
 * request sizes whose best large threshold is 1 MiB. Usage:
 *
 *   test_learn_glue on  TRACE STATS   learning on: must freeze on 1 MiB, move
 *                                     CAPs into the band, write TRACE and STATS
 *   test_learn_glue off TRACE STATS   HAKMEM_LEARN=0 with a pinned threshold:
 *                                     nothing moves, nothing is traced
 *   test_learn_glue loaded            the same allocator on a loaded machine: the
 *                                     wall time per tick is fixed by the load, only
 *                                     CPU time differs; must still freeze on 1 MiB
 *   test_learn_glue twothreads        two threads tick in turn, each with its own
 *                                     CPU clock: must freeze on 1 MiB
 *   test_learn_glue lived MS          buffers that outlive many ticks, fast only
 *                                     once all of them were placed under 8 MiB;
 *                                     decisions of at least MS ms of CPU: must
 *                                     freeze on 8 MiB
 *   test_learn_glue threads           concurrent ticks on the real clock
 *   test_learn_glue fork              fork while another thread recomputes:
 *                                     the child still learns
 *
 * STATS gets `{` + hak_learn_write_json() + `}`; test_learn.py checks both
 * files' fields.
 */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/core/config.h"
#include "../../src/learn/learn_internal.h"
#include "learn_test.h"

hak_config_t hak_config; /* the test is the option reader */

/* ---- the fake Mid tier ---- */
#define NCLASS 3
static unsigned mid_cap[NCLASS] = {64, 64, 64};
static uint64_t mid_hits[NCLASS], mid_misses[NCLASS];
static unsigned mid_wmax = 1000;
static unsigned cap_sets, wmax_sets;

int hak_mid_class_count(void)
{
	return NCLASS;
}
size_t hak_mid_class_size(int cls)
{
	return (size_t)2048 << cls;
}
void hak_mid_counters(int cls, uint64_t *h, uint64_t *m)
{
	*h = mid_hits[cls];
	*m = mid_misses[cls];
}
unsigned hak_mid_get_cap(int cls)
{
	return mid_cap[cls];
}
void hak_mid_set_cap(int cls, unsigned cap)
{
	mid_cap[cls] = cap;
	cap_sets++;
}
void hak_mid_set_wmax_permille(unsigned w)
{
	mid_wmax = w;
	wmax_sets++;
}

/* Hit rate: more CAP, more hits; W_MAX 1.6 adds 5 points. */
static double mid_hit_rate(int cls)
{
	double r = 1.0 - exp(-(double)mid_cap[cls] / (60.0 * (cls + 1)));
	if (mid_wmax >= 1600)
		r += 0.05;
	return r > 1.0 ? 1.0 : r;
}

/* ---- the clock ---- */
static uint64_t sim_ns = 1000000000ull; /* the work done: CPU time */
static uint64_t sim_clock(void)
{
	return sim_ns;
}

/* The loaded machine, at its extreme: the process gets a core for a
 * fixed slice of wall time per tick's work (the other processes decide
 * the pace), whatever that work costs; only CPU time still tells the
 * strategies apart. */
#define SIM_LOADED_TICK_NS 2000000ull /* wall time per tick: above any tick's work */
static bool sim_loaded;
static uint64_t sim_wall_ns = 1000000000ull;
static uint64_t wall_clock(void)
{
	return sim_wall_ns;
}

static void simulate_load(uint64_t work_ns)
{
	(void)work_ns;
	if (sim_loaded)
		sim_wall_ns += SIM_LOADED_TICK_NS;
}

/* A thread's own CPU clock: the work it did (twothreads). */
static __thread uint64_t sim_thread_ns = 1000000000ull;
static uint64_t thread_clock(void)
{
	return sim_thread_ns;
}

static void config_defaults(void)
{
	memset(&hak_config, 0, sizeof hak_config);
	hak_config.target_hit_mid = 0.65;
	hak_config.cap_step_mid = 4;
	hak_config.cap_min_mid = 8;
	hak_config.cap_max_mid = 2048;
	hak_config.cap_dwell_sec_mid = 3;
	hak_config.learn_window_ms = 500;
	hak_config.learn_min_samples = 256;
	hak_config.wmax_candidates_mid.n = 2;
	hak_config.wmax_candidates_mid.v[0] = 1.4;
	hak_config.wmax_candidates_mid.v[1] = 1.6;
	hak_config.wmax_canary = true;
	hak_config.wmax_trial_sec = 3;
	hak_config.wmax_adopt_pct = 0.01;
	hak_config.wmax_mid = 1.4;
	hak_config.large_threshold = 2 << 20;
	hak_config.learn_trace = "";
	hak_config.stats_file = "";
	hak_config.mode = "";
}

/* One tick's worth of simulated work: 1,024 allocations whose large-object
 * sizes are uniform in [300 KiB, 900 KiB] (best threshold 1 MiB: the cost
 * model of test_learn_evolution.c), plus Mid traffic. */
static void simulate_tick(uint64_t *rng)
{
	size_t t = hak_learn_large_threshold();
	double ns = 0;
	for (int i = 0; i < 16; i++) {
		double s = (300 << 10) + (600 << 10) * hak_rng_unit(rng);
		hak_learn_note_size((size_t)s);
		ns += s >= (double)t ? 10.0 : 1.0 + 0.5 * (double)t / (1 << 20);
	}
	/* x50: the allocations plus the program's own work between them */
	uint64_t work = (uint64_t)(50.0 * ns / 16 * 1024 * (0.95 + 0.1 * hak_rng_unit(rng)));
	sim_ns += work;
	sim_thread_ns += work;
	simulate_load(work);
	for (int c = 0; c < NCLASS; c++) {
		uint64_t h = (uint64_t)(100 * mid_hit_rate(c) + hak_rng_unit(rng));
		mid_hits[c] += h;
		mid_misses[c] += 100 - h;
	}
	hak_learn_tick();
}

static void write_stats(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		CHECK(0, "cannot write %s", path);
		return;
	}
	fputc('{', f);
	hak_learn_write_json(f);
	fputs("}\n", f);
	fclose(f);
}

static int run_on(const char *trace, const char *stats)
{
	config_defaults();
	hak_config.learn = true;
	hak_config.wmax_learn = true;
	hak_config.learn_trace = trace;
	hak_learn_set_clock(sim_clock);
	hak_learn_init();
	uint64_t rng = 77;
	long ticks = 0;
	for (; ticks < 8000000 && sim_ns < 121000000000ull; ticks++) { /* two simulated minutes */
		simulate_tick(&rng);
		size_t t = hak_learn_large_threshold();
		if (hak_strategy_find(t) < 0) {
			CHECK(0, "published threshold %zu is not a strategy", t);
			break;
		}
	}
	printf("after %ld ticks (%.1f simulated s): threshold %zu, caps %u %u %u, W_MAX %u\n",
	       ticks, sim_ns * 1e-9, hak_learn_large_threshold(), mid_cap[0], mid_cap[1],
	       mid_cap[2], mid_wmax);
	CHECK(hak_learn_large_threshold() == (size_t)1 << 20,
	      "threshold %zu after two minutes, want 1 MiB", hak_learn_large_threshold());
	CHECK(cap_sets > 0, "the CAP learner never moved a CAP");
	for (int c = 0; c < NCLASS; c++)
		CHECK(mid_hit_rate(c) > 0.60 && mid_hit_rate(c) < 0.70,
		      "class %d hit rate %.3f out of the band", c, mid_hit_rate(c));
	write_stats(stats);
	return 0;
}

/* The allocator of run_on on a loaded machine: the costs must come from
 * CPU time (with wall time, the bursts of waiting decided the matches and
 * the learner followed them). */
static int run_loaded(void)
{
	config_defaults();
	hak_config.learn = true;
	hak_learn_set_clock(wall_clock);
	hak_learn_set_cpu_clock(sim_clock);
	sim_loaded = true;
	hak_learn_init();
	uint64_t rng = 77;
	while (sim_ns < 61000000000ull) /* one simulated minute of work */
		simulate_tick(&rng);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	hak_learn_write_json(f);
	fclose(f);
	printf("loaded: wall %.1f s for %.1f s of CPU, threshold %zu\n", wall_clock() * 1e-9,
	       sim_ns * 1e-9, hak_learn_large_threshold());
	CHECK(strstr(text, "\"state\": \"FROZEN\", \"strategy\": 1048576") != NULL,
	      "not frozen on 1 MiB after a minute of loaded work: %.120s", text);
	free(text);
	return 0;
}

/* Two threads tick in strict turn (each tick recomputes), each with its
 * own CPU clock; the costs must add up both threads' time (a clock read
 * only by the recomputing thread gave differences between two threads'
 * clocks). */
static _Atomic int turn;
static void *turn_thread(void *arg)
{
	int me = (int)(intptr_t)arg;
	uint64_t rng = 77 + (uint64_t)me;
	sim_thread_ns = me ? 5000000000ull : 1000000000ull; /* clocks that differ */
	for (int i = 0; i < 100000; i++) {
		while (atomic_load(&turn) != me)
			sched_yield();
		simulate_tick(&rng);
		atomic_store(&turn, !me);
	}
	return NULL;
}

static int run_twothreads(void)
{
	config_defaults();
	hak_config.learn = true;
	hak_learn_set_clock(sim_clock);
	hak_learn_set_cpu_clock(thread_clock);
	hak_learn_init();
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, turn_thread, (void *)(intptr_t)i);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	hak_learn_write_json(f);
	fclose(f);
	printf("twothreads: %.1f simulated s, threshold %zu\n", sim_ns * 1e-9,
	       hak_learn_large_threshold());
	CHECK(strstr(text, "\"state\": \"FROZEN\", \"strategy\": 1048576") != NULL,
	      "two threads: not frozen on 1 MiB: %.120s", text);
	free(text);
	return 0;
}

static int run_off(const char *trace, const char *stats)
{
	config_defaults();
	hak_config.learn = false;
	hak_config.learn_trace = trace; /* ignored: learning is off */
	hak_config.large_threshold = 1 << 20;
	hak_learn_set_clock(sim_clock);
	hak_learn_init();
	uint64_t rng = 5;
	for (int i = 0; i < 100000; i++) {
		simulate_tick(&rng);
		CHECK(hak_learn_large_threshold() == (size_t)1 << 20,
		      "pinned threshold moved to %zu", hak_learn_large_threshold());
		if (failures)
			break;
	}
	CHECK(cap_sets == 0 && wmax_sets == 0, "learning off moved CAP or W_MAX");
	write_stats(stats);
	return 0;
}

/* realloc_append in miniature: 16 buffers grow from 64 KiB to 8 MiB and
 * live through hundreds of ticks (a tick comes every 16 or so requests of
 * such sizes). Under 8 MiB every buffer grows within resident cached
 * mappings; under any lower threshold the buffers past it move and fault
 * pages, and the buffers and cached mappings placed then keep costing
 * until they are gone: a tick is fast only when no tick of the last
 * SIM_LIFE_NS ran under another strategy (on realloc_append the switch
 * from 2 to 8 MiB took 100 - 220 ms of CPU time to reach 8 MiB's cost). */
#define SIM_LIFE_NS     150000000ull /* CPU time until a switch to 8 MiB pays */
#define SIM_FAST_TICK_NS 200000ull  /* a tick's work under 8 MiB, all settled */
#define SIM_SLOW_TICK_NS 900000ull  /* ... otherwise */
static int run_lived(long decision_ms)
{
	config_defaults();
	hak_config.learn = true;
	hak_config.learn_decision_ms = decision_ms;
	hak_learn_set_clock(sim_clock);
	hak_learn_init();
	uint64_t rng = 99, other_ns = sim_ns; /* end of the last tick not under 8 MiB */
	while (sim_ns < 121000000000ull) { /* two simulated minutes */
		bool big = hak_learn_large_threshold() == (size_t)8 << 20;
		uint64_t base = big && sim_ns - other_ns >= SIM_LIFE_NS ? SIM_FAST_TICK_NS
		                                                        : SIM_SLOW_TICK_NS;
		sim_ns += (uint64_t)((double)base * (0.95 + 0.1 * hak_rng_unit(&rng)));
		if (!big)
			other_ns = sim_ns;
		for (int i = 0; i < 16; i++) /* room sizes of moved buffers */
			hak_learn_note_size((size_t)(256 << 10) << (hak_rng_next(&rng) % 6));
		hak_learn_tick();
	}
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	hak_learn_write_json(f);
	fclose(f);
	printf("lived: decisions of %ld ms, threshold %zu\n", decision_ms,
	       hak_learn_large_threshold());
	CHECK(strstr(text, "\"state\": \"FROZEN\", \"strategy\": 8388608") != NULL,
	      "buffers living %llu ms: not frozen on 8 MiB with decisions of %ld ms: %.120s",
	      SIM_LIFE_NS / 1000000ull, decision_ms, text);
	free(text);
	return 0;
}

/* fork() by one thread while another recomputes (it holds the lock): the
 * child, which has no copy of that thread, must still learn on its ticks. */
static _Atomic int holder_inside, forked;
static _Atomic bool hold_armed;

static uint64_t holding_clock(void)
{
	if (atomic_exchange(&hold_armed, false)) {
		atomic_store(&holder_inside, 1);
		while (!atomic_load(&forked))
			; /* hold the lock until the fork happened */
	}
	return sim_ns += 1000000;
}

static void *holder(void *arg)
{
	(void)arg;
	hak_learn_tick();
	return NULL;
}

static uint64_t decisions_now(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	hak_learn_write_json(f);
	fclose(f);
	const char *d = strstr(text, "\"decisions\": ");
	uint64_t n = d ? strtoull(d + 13, NULL, 10) : 0;
	free(text);
	return n;
}

static int run_fork(void)
{
	config_defaults();
	hak_config.learn = true;
	hak_learn_set_clock(holding_clock);
	hak_learn_init();
	for (int i = 0; i < 10; i++)
		hak_learn_tick();
	atomic_store(&hold_armed, true);
	pthread_t th;
	pthread_create(&th, NULL, holder, NULL);
	while (!atomic_load(&holder_inside))
		;
	pid_t pid = fork();
	if (pid == 0) {
		uint64_t before = decisions_now();
		for (int i = 0; i < 10; i++)
			hak_learn_tick();
		_exit(decisions_now() >= before + 10 ? 0 : 1);
	}
	atomic_store(&forked, 1);
	pthread_join(th, NULL);
	int status = 0;
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid, "fork failed");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "the child of a fork during a recomputation stopped learning");
	return 0;
}

static void *tick_thread(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20000; i++) {
		hak_learn_note_size((size_t)(512 << 10));
		hak_learn_tick();
		size_t t = hak_learn_large_threshold();
		if (hak_strategy_find(t) < 0)
			return (void *)1;
	}
	return NULL;
}

static int run_threads(void)
{
	config_defaults();
	hak_config.learn = true;
	hak_learn_init();
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, tick_thread, NULL);
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(th[i], &r);
		CHECK(r == NULL, "thread %d saw a threshold outside the strategies", i);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "on"))
		run_on(argv[2], argv[3]);
	else if (argc == 4 && !strcmp(argv[1], "off"))
		run_off(argv[2], argv[3]);
	else if (argc == 2 && !strcmp(argv[1], "loaded"))
		run_loaded();
	else if (argc == 2 && !strcmp(argv[1], "twothreads"))
		run_twothreads();
	else if (argc == 3 && !strcmp(argv[1], "lived"))
		run_lived(atol(argv[2]));
	else if (argc == 2 && !strcmp(argv[1], "threads"))
		run_threads();
	else if (argc == 2 && !strcmp(argv[1], "fork"))
		run_fork();
	else {
		fprintf(stderr,
		        "usage: %s on|off TRACE STATS, or %s loaded|twothreads|threads|fork, or %s "
		        "lived MS\n",
		        argv[0], argv[0], argv[0]);
		return 2;
	}
	return test_finish("test_learn_glue");
}
