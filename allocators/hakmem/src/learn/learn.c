/*
 * learn.c - the learning layer's glue: reads the options, owns the clock,
 * the try-lock and the published threshold, and feeds the pure modules
 * (evolution.c, mid_learner.c) from the tick.
 *
 * Hot-path contract: the allocation path reads hak_learn_large_threshold()
 * (one relaxed load) and nothing else of this file. Everything here runs in
 * hak_learn_tick(), which the tiers call from a slow path once per
 * HAK_LEARN_TICK_ALLOCS allocations of a thread; one thread at a time
 * recomputes (try-lock: a thread that finds the lock taken only counts its
 * allocations and leaves).
 *
 * A decision (one strategy in force) lasts from one recomputation until
 * the threads have reported HAKMEM_LEARN_DECISION_MS of CPU time since,
 * not one tick: a program of big buffers ticks every few dozen requests
 * (a request's weight is its size), while a buffer lives through hundreds
 * of them and keeps the tier it was placed in. With decisions of one tick,
 * a stint of 16 covered a sixteenth of realloc_append's buffer lifetimes,
 * so no strategy was ever measured on blocks it had placed, and 8 MiB,
 * 6.5x faster pinned, measured level with 2 MiB (docs/LEARNING.md).
 *
 * Measured outcome of a decision:
 *   cost = ns of CPU time (user + system) all threads reported at their
 *          ticks in the decision / allocations of all threads in it
 *        + HAK_LEARN_MEM_NS_PER_MIB * MiB mapped by hakmem at its end.
 * Each thread reads its own CPU clock at its tick and adds what it used
 * since its last tick, with the 1,024 allocations it reports: the process
 * clock is exact for the calling thread only (other running threads'
 * time moves at scheduler ticks, milliseconds), which made the costs of
 * short decisions lumpy with several threads.
 * CPU time, not wall time: on a loaded machine the time the process spends
 * waiting for a core is most of the wall time and comes in bursts that
 * fall on one strategy's stint and not the other's; the learner then
 * followed the load instead of the allocator (docs/LEARNING.md).
 *
 * Owns: hak_learn_* of learn.h, the trace lines, the "learn" statistics.
 * Does not own: the counters it reads (Mid tier, OS layer), the options.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "../core/config.h"
#include "learn_internal.h"

#define HAK_LEARN_MEM_NS_PER_MIB 0.05 /* ns per allocation a mapped MiB is worth */
#define HAK_LEARN_MID_BAND       0.03 /* hit-rate dead zone around the target */
#define HAK_LEARN_MID_CLASSES    64   /* Mid classes the learner can follow */
#define HAK_LEARN_WASTE_WEIGHT   0.2  /* W_MAX score points per unit of mean slack */
/* A window closes with at least this many decisions (each other strategy
 * explored about 3 times), or after HAK_LEARN_WINDOW_STRETCH window lengths. */
#define HAK_LEARN_WINDOW_DECISIONS 150
#define HAK_LEARN_WINDOW_STRETCH   8

_Atomic size_t hak_learn_large_threshold_cached = HAK_DEFAULT_LARGE_THRESHOLD;
__thread hak_learn_sizes_t hak_learn_tls_sizes __attribute__((tls_model("initial-exec")));

/* Bytes hakmem has mapped now: learn_os.c in the allocator; this weak
 * default of 0 (no memory term) serves the tests that link learn.c alone. */
__attribute__((weak)) size_t hak_learn_mapped_bytes(void)
{
	return 0;
}

static uint64_t learn_clock_read(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Window lengths and trace times. */
static uint64_t learn_clock_monotonic(void)
{
	return learn_clock_read(CLOCK_MONOTONIC);
}

/* Decision costs: the calling thread's CPU time (a system call, not the
 * vDSO; once per tick of a thread). */
static uint64_t learn_clock_cpu(void)
{
	return learn_clock_read(CLOCK_THREAD_CPUTIME_ID);
}

/* Everything below is written under learn_lock only (or before threads). */
static struct {
	bool on;                  /* HAKMEM_LEARN */
	bool evolve;              /* strategies evolve (on and compiled in) */
	bool mid;                 /* the Mid pool learner runs */
	bool wmax;                /* W_MAX trials run */
	uint64_t (*now_ns)(void); /* the clock (tests inject theirs) */
	uint64_t (*cpu_ns)(void); /* this thread's CPU time, for costs (tests inject theirs) */
	uint64_t t0_ns;           /* hak_learn_init time */
	uint64_t last_cpu_ns;     /* learn_cpu_ns when the decision in progress began */
	uint64_t decision_ns;     /* CPU time a decision lasts at least (HAKMEM_LEARN_DECISION_MS) */
	uint64_t window_ns;       /* window length */
	uint64_t window_start_ns;
	uint64_t window_start_decisions; /* evo.decisions when the window began */
	uint64_t last_ticks;             /* learn_ticks when the decision in progress began */
	int trace_fd;                    /* HAKMEM_LEARN_TRACE, or -1 */
	hak_evo_t evo;
	hak_cap_params_t capp;
	int nclass; /* Mid classes followed */
	hak_cap_class_t cap[HAK_LEARN_MID_CLASSES];
	hak_wmax_params_t wmp;
	hak_wmax_t wm;
	unsigned wmax_applied; /* permille */
	uint64_t wmax_trials, wmax_adopted;
	uint64_t cap_changes;
	uint64_t trace_lines;
	double last_p50, last_p90; /* of the last closed window, bytes */
} L = {.trace_fd = -1, .now_ns = learn_clock_monotonic, .cpu_ns = learn_clock_cpu};

static _Atomic uint64_t learn_ticks; /* ticks of all threads (slow path only) */
static _Atomic uint64_t learn_cpu_ns; /* CPU time all threads reported at their ticks */
/* This thread's CPU clock at its last tick (0: none yet). */
static __thread uint64_t learn_tls_cpu_ns __attribute__((tls_model("initial-exec")));
static _Atomic int learn_lock;       /* 1 while a thread recomputes */

/* ===================================================================== */
/* trace                                                                 */
/* ===================================================================== */

static double learn_seconds(uint64_t now_ns)
{
	return (double)(now_ns - L.t0_ns) * 1e-9;
}

/* A trace line's common start: time and event name. */
static void trace_begin(hak_json_t *j, uint64_t now_ns, const char *event)
{
	hak_json_begin(j);
	hak_json_num(j, "t", learn_seconds(now_ns));
	hak_json_str(j, "event", event);
}

static void trace_end(hak_json_t *j)
{
	hak_json_end(j);
	hak_trace_write(L.trace_fd, j);
	L.trace_lines++;
}

/* "elo": {"262144": 1500, ...} and "cost": {...} keyed by threshold bytes. */
static void trace_ratings(hak_json_t *j)
{
	char elo[512], cost[512];
	size_t a = 0, b = 0;
	for (int i = 0; i < HAK_STRAT_COUNT; i++) {
		a += (size_t)snprintf(elo + a, sizeof elo - a, "%s\"%zu\": %.1f", i ? ", " : "{",
		                      hak_strategy_bytes[i], L.evo.elo[i]);
		b += (size_t)snprintf(cost + b, sizeof cost - b, "%s\"%zu\": %.4g", i ? ", " : "{",
		                      hak_strategy_bytes[i], L.evo.last_mean[i]);
	}
	snprintf(elo + a, sizeof elo - a, "}");
	snprintf(cost + b, sizeof cost - b, "}");
	hak_json_raw(j, "elo", elo);
	hak_json_raw(j, "cost_ns", cost);
}

/* What drove an evolution line (decisions measured in the window, size
 * quantiles, ratings, costs); then the line is written. */
static void trace_measurements(hak_json_t *j, uint64_t samples)
{
	hak_json_u64(j, "samples", samples);
	hak_json_u64(j, "window", L.evo.windows);
	hak_json_num(j, "p50", L.last_p50);
	hak_json_num(j, "p90", L.last_p90);
	trace_ratings(j);
	trace_end(j);
}

static void trace_evolution(uint64_t now_ns, const hak_evo_event_t *ev, const uint32_t *played)
{
	hak_json_t j;
	uint64_t n = 0;
	for (int i = 0; i < HAK_STRAT_COUNT; i++)
		n += played[i];
	if (ev->leader_changed) {
		trace_begin(&j, now_ns, "strategy");
		hak_json_u64(&j, "old", hak_strategy_bytes[ev->old_leader]);
		hak_json_u64(&j, "new", hak_strategy_bytes[ev->new_leader]);
		hak_json_str(&j, "state", hak_evo_state_name(ev->new_state));
		trace_measurements(&j, n);
	}
	if (ev->state_changed) {
		trace_begin(&j, now_ns, "state");
		hak_json_str(&j, "old", hak_evo_state_name(ev->old_state));
		hak_json_str(&j, "new", hak_evo_state_name(ev->new_state));
		hak_json_str(&j, "reason", ev->reason);
		hak_json_u64(&j, "strategy", hak_strategy_bytes[L.evo.leader]);
		if (L.evo.candidate >= 0)
			hak_json_u64(&j, "candidate", hak_strategy_bytes[L.evo.candidate]);
		trace_measurements(&j, n);
	}
	/* One summary per window: what the learner figure draws over time. */
	trace_begin(&j, now_ns, "window");
	hak_json_str(&j, "state", hak_evo_state_name(L.evo.state));
	hak_json_u64(&j, "strategy", hak_strategy_bytes[L.evo.leader]);
	trace_measurements(&j, n);
}

static void trace_cap(uint64_t now_ns, int cls, const hak_cap_event_t *ev)
{
	hak_json_t j;
	trace_begin(&j, now_ns, "cap");
	hak_json_u64(&j, "class", (uint64_t)cls);
	hak_json_u64(&j, "class_size", hak_mid_class_size(cls));
	hak_json_u64(&j, "old", ev->old_cap);
	hak_json_u64(&j, "new", ev->new_cap);
	hak_json_num(&j, "hit_rate", ev->hit_rate);
	hak_json_num(&j, "target", L.capp.target);
	hak_json_u64(&j, "samples", ev->samples);
	hak_json_num(&j, "window_ms", (double)L.window_ns * 1e-6);
	trace_end(&j);
}

static void trace_wmax(uint64_t now_ns, const hak_wmax_event_t *ev)
{
	hak_json_t j;
	trace_begin(&j, now_ns, "wmax");
	hak_json_num(&j, "old", ev->old_wmax / 1000.0);
	hak_json_num(&j, "new", ev->new_wmax / 1000.0);
	hak_json_num(&j, "candidate", ev->candidate / 1000.0);
	hak_json_bool(&j, "adopted", ev->adopted);
	hak_json_num(&j, "score_current", ev->score_current);
	hak_json_num(&j, "score_candidate", ev->score_candidate);
	hak_json_u64(&j, "samples_current", ev->samples_current);
	hak_json_u64(&j, "samples_candidate", ev->samples_candidate);
	hak_json_num(&j, "adopt_pct", L.wmp.adopt_pct);
	trace_end(&j);
}

/* ===================================================================== */
/* init                                                                  */
/* ===================================================================== */

/* The strategy row nearest to `bytes` (the first at or above it). */
static int learn_nearest_strategy(size_t bytes)
{
	for (int i = 0; i < HAK_STRAT_COUNT; i++)
		if (hak_strategy_bytes[i] >= bytes)
			return i;
	return HAK_STRAT_COUNT - 1;
}

static void learn_init_mid(uint64_t now_ns)
{
	const hak_config_t *c = &hak_config;
	L.capp.target = c->target_hit_mid;
	L.capp.band = HAK_LEARN_MID_BAND;
	L.capp.step = (unsigned)c->cap_step_mid;
	L.capp.cap_min = (unsigned)c->cap_min_mid;
	L.capp.cap_max = (unsigned)c->cap_max_mid;
	L.capp.dwell_s = (double)c->cap_dwell_sec_mid;
	L.capp.min_samples = (uint64_t)c->learn_min_samples;
	L.wmax_applied = (unsigned)(c->wmax_mid * 1000.0 + 0.5);
	if (!L.on)
		return; /* learning off: the Mid tier is not even asked */
	L.nclass = hak_mid_class_count();
	if (L.nclass > HAK_LEARN_MID_CLASSES)
		L.nclass = HAK_LEARN_MID_CLASSES;
	if (L.nclass < 0)
		L.nclass = 0;
	for (int i = 0; i < L.nclass; i++) {
		uint64_t h, m;
		hak_mid_counters(i, &h, &m);
		hak_cap_class_init(&L.cap[i], hak_mid_get_cap(i), h, m, learn_seconds(now_ns));
	}
	L.mid = L.on && L.nclass > 0;

	L.wmp.ncand = 0;
	for (int i = 0; i < c->wmax_candidates_mid.n && i < HAK_WMAX_MAX_CANDIDATES; i++)
		L.wmp.cand[L.wmp.ncand++] = (unsigned)(c->wmax_candidates_mid.v[i] * 1000.0 + 0.5);
	L.wmp.trial_s = (double)c->wmax_trial_sec;
	L.wmp.canary = c->wmax_canary;
	L.wmp.adopt_pct = c->wmax_adopt_pct;
	L.wmp.waste_weight = HAK_LEARN_WASTE_WEIGHT;
	L.wmp.slice_s = (double)L.window_ns * 1e-9;
	L.wmp.min_samples = (uint64_t)c->learn_min_samples;
	hak_wmax_init(&L.wm, L.wmax_applied);
	L.wmax = L.mid && c->wmax_learn;
}

/* A fork while another thread recomputed leaves the child with the lock
 * taken by a thread it does not have: release it there. */
static void learn_atfork_child(void)
{
	atomic_store_explicit(&learn_lock, 0, memory_order_relaxed);
}

void hak_learn_init(void)
{
	const hak_config_t *c = &hak_config;
	uint64_t now = L.now_ns();
	L.t0_ns = L.window_start_ns = now;
	L.last_cpu_ns = atomic_load_explicit(&learn_cpu_ns, memory_order_relaxed);
	L.window_ns = (uint64_t)c->learn_window_ms * 1000000ull;
	L.decision_ns = (uint64_t)c->learn_decision_ms * 1000000ull;
	L.on = c->learn;
	L.evolve = L.on && HAK_EVOLUTION_COMPILED;
	L.last_ticks = atomic_load_explicit(&learn_ticks, memory_order_relaxed);

	int start = learn_nearest_strategy((size_t)c->large_threshold);
	size_t pinned = L.evolve ? hak_strategy_bytes[start] : (size_t)c->large_threshold;
	atomic_store_explicit(&hak_learn_large_threshold_cached, pinned, memory_order_relaxed);

	hak_evo_params_t ep;
	hak_evo_params_default(&ep);
	hak_evo_init(&L.evo, &ep, start, now ^ 0x5DEECE66Dull);
	learn_init_mid(now);

	if (L.on)
		pthread_atfork(NULL, NULL, learn_atfork_child);
	if (L.on && c->learn_trace[0]) {
		L.trace_fd = hak_trace_open(c->learn_trace);
		hak_json_t j;
		trace_begin(&j, now, "start");
		hak_json_u64(&j, "strategy", hak_strategy_bytes[start]);
		hak_json_bool(&j, "evolution", L.evolve);
		hak_json_bool(&j, "mid", L.mid);
		hak_json_bool(&j, "wmax", L.wmax);
		hak_json_num(&j, "window_ms", (double)c->learn_window_ms);
		trace_end(&j);
	}
}

void hak_learn_set_clock(uint64_t (*now_ns)(void))
{
	L.now_ns = now_ns ? now_ns : learn_clock_monotonic;
	L.cpu_ns = now_ns ? now_ns : learn_clock_cpu;
}

void hak_learn_set_cpu_clock(uint64_t (*cpu_ns)(void))
{
	L.cpu_ns = cpu_ns ? cpu_ns : learn_clock_cpu;
}

/* ===================================================================== */
/* the tick                                                              */
/* ===================================================================== */

/* This thread's noted sizes since its last drain go into the window. */
static void learn_drain_sizes(void)
{
	hak_learn_sizes_t *r = &hak_learn_tls_sizes;
	unsigned n = r->pos - r->drained;
	if (n > HAK_LEARN_SIZE_RING)
		n = HAK_LEARN_SIZE_RING;
	for (unsigned i = r->pos - n; i != r->pos; i++)
		hak_evo_note_size(&L.evo, (double)r->size[i & (HAK_LEARN_SIZE_RING - 1)]);
	r->drained = r->pos;
}

static void learn_close_window(uint64_t now_ns)
{
	double now_s = learn_seconds(now_ns);
	if (L.evolve) {
		uint32_t played[HAK_STRAT_COUNT];
		memcpy(played, L.evo.n, sizeof played);
		L.last_p50 = hak_p2_value(&L.evo.w50);
		L.last_p90 = hak_p2_value(&L.evo.w90);
		hak_evo_event_t ev;
		hak_evo_close_window(&L.evo, &ev);
		trace_evolution(now_ns, &ev, played);
	}
	if (!L.mid)
		return;
	bool trial = L.wmax && L.wm.phase == HAK_WMAX_TRIAL;
	uint64_t th = 0, tm = 0;
	for (int i = 0; i < L.nclass; i++) {
		uint64_t h, m;
		hak_mid_counters(i, &h, &m);
		th += h;
		tm += m;
		if (trial) { /* CAPs hold still while a W_MAX trial measures */
			L.cap[i].base_hits = h;
			L.cap[i].base_misses = m;
			continue;
		}
		hak_cap_event_t ev;
		unsigned cap = hak_cap_update(&L.cap[i], &L.capp, h, m, now_s, &ev);
		if (ev.changed) {
			hak_mid_set_cap(i, cap);
			L.cap_changes++;
			trace_cap(now_ns, i, &ev);
		}
	}
	if (L.wmax) {
		hak_wmax_event_t ev;
		unsigned w = hak_wmax_step(&L.wm, &L.wmp, th, tm, now_s, &ev);
		if (w != L.wmax_applied) {
			hak_mid_set_wmax_permille(w);
			L.wmax_applied = w;
		}
		if (ev.verdict) {
			L.wmax_trials++;
			L.wmax_adopted += ev.adopted;
			trace_wmax(now_ns, &ev);
		}
	}
}

/* End the decision in progress, which has used `cpu` - L.last_cpu_ns of
 * CPU time, with its cost, and publish the strategy of the next one. */
static void learn_decide(uint64_t cpu)
{
	uint64_t ticks = atomic_load_explicit(&learn_ticks, memory_order_relaxed);
	uint64_t allocs = (ticks - L.last_ticks) * HAK_LEARN_TICK_ALLOCS;
	double cost = -1.0;
	if (allocs > 0 && cpu > L.last_cpu_ns)
		cost = (double)(cpu - L.last_cpu_ns) / (double)allocs +
		       HAK_LEARN_MEM_NS_PER_MIB * (double)hak_learn_mapped_bytes() / (1024.0 * 1024.0);
	L.last_cpu_ns = cpu;
	L.last_ticks = ticks;
	/* The deciding thread's last sizes, a sample per decision: folding
	 * every tick's ring into the estimators was 2 % of mir's instructions
	 * with learning on (callgrind), and a decision's 32 sizes are plenty
	 * for a window's quantiles. */
	learn_drain_sizes();
	int next = hak_evo_decide(&L.evo, cost);
	atomic_store_explicit(&hak_learn_large_threshold_cached, hak_strategy_bytes[next],
	                      memory_order_relaxed);
}

/* One recomputation; the caller holds learn_lock. */
static void learn_tick_locked(void)
{
	uint64_t now = L.now_ns();
	if (L.evolve) {
		uint64_t cpu = atomic_load_explicit(&learn_cpu_ns, memory_order_relaxed);
		if (cpu - L.last_cpu_ns >= L.decision_ns)
			learn_decide(cpu);
	}
	/* A window needs its time and, at low allocation rates, enough
	 * decisions for every strategy to be explored (or a longer time). */
	uint64_t age = now - L.window_start_ns;
	if (age >= L.window_ns &&
	    (L.evo.decisions - L.window_start_decisions >= HAK_LEARN_WINDOW_DECISIONS ||
	     age >= HAK_LEARN_WINDOW_STRETCH * L.window_ns)) {
		L.window_start_ns = now;
		L.window_start_decisions = L.evo.decisions;
		learn_close_window(now);
	}
}

/* The caller brackets the call as the learn_tick phase (timing build). */
void hak_learn_tick(void)
{
	if (!L.on)
		return;
	if (L.evolve) { /* this thread's CPU time since its last tick */
		uint64_t cpu = L.cpu_ns();
		if (learn_tls_cpu_ns && cpu > learn_tls_cpu_ns)
			atomic_fetch_add_explicit(&learn_cpu_ns, cpu - learn_tls_cpu_ns,
			                          memory_order_relaxed);
		learn_tls_cpu_ns = cpu;
	}
	atomic_fetch_add_explicit(&learn_ticks, 1, memory_order_relaxed);
	if (atomic_load_explicit(&learn_lock, memory_order_relaxed) == 0 &&
	    atomic_exchange_explicit(&learn_lock, 1, memory_order_acquire) == 0) {
		learn_tick_locked();
		atomic_store_explicit(&learn_lock, 0, memory_order_release);
	}
}

/* ===================================================================== */
/* statistics                                                            */
/* ===================================================================== */

void hak_learn_write_json(FILE *f)
{
	/* Racy reads of a running learner are fine: the file is written at exit. */
	fprintf(f, "\"learn\": {\"enabled\": %s, \"evolution_compiled\": %s, \"evolution\": %s",
	        L.on ? "true" : "false", HAK_EVOLUTION_COMPILED ? "true" : "false",
	        L.evolve ? "true" : "false");
	fprintf(f, ", \"large_threshold\": %zu, \"state\": \"%s\", \"strategy\": %zu",
	        hak_learn_large_threshold(), L.evolve ? hak_evo_state_name(L.evo.state) : "OFF",
	        hak_strategy_bytes[L.evo.leader]);
	fprintf(f, ", \"ticks\": %llu, \"decisions\": %llu, \"windows\": %llu",
	        (unsigned long long)atomic_load_explicit(&learn_ticks, memory_order_relaxed),
	        (unsigned long long)L.evo.decisions, (unsigned long long)L.evo.windows);
	fprintf(f, ", \"size_p50\": %.0f, \"size_p90\": %.0f", L.last_p50, L.last_p90);
	fputs(", \"strategies\": [", f);
	for (int i = 0; i < HAK_STRAT_COUNT; i++)
		fprintf(f, "%s{\"threshold\": %zu, \"elo\": %.1f, \"cost_ns\": %.4g}",
		        i ? ", " : "", hak_strategy_bytes[i], L.evo.elo[i], L.evo.last_mean[i]);
	fprintf(f, "], \"site_rules\": %u", hak_site_rules_count());
	fprintf(f, ", \"mid\": {\"enabled\": %s, \"cap_changes\": %llu, \"classes\": [",
	        L.mid ? "true" : "false", (unsigned long long)L.cap_changes);
	for (int i = 0; i < L.nclass; i++)
		fprintf(f,
		        "%s{\"class\": %d, \"size\": %zu, \"cap\": %u, \"hit_rate\": %.4f, "
		        "\"samples\": %llu, \"changes\": %u}",
		        i ? ", " : "", i, hak_mid_class_size(i), L.cap[i].cap, L.cap[i].hit_rate,
		        (unsigned long long)L.cap[i].samples, L.cap[i].changes);
	fprintf(
	    f,
	    "], \"wmax\": %.3f, \"wmax_learn\": %s, \"wmax_trials\": %llu, \"wmax_adopted\": %llu}",
	    L.wmax_applied / 1000.0, L.wmax ? "true" : "false", (unsigned long long)L.wmax_trials,
	    (unsigned long long)L.wmax_adopted);
	fprintf(f, ", \"trace_lines\": %llu}", (unsigned long long)L.trace_lines);
}
