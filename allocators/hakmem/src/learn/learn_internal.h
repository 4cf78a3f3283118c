/*
 * learn_internal.h - table of contents of the learning layer's own modules.
 *
 * Every module here is a pure function of its struct and explicit
 * parameters: no options, no clock, no globals, no allocation. That keeps
 * them unit-testable without the allocator (tests/test_learn_*.c) and keeps
 * the only glue (learn.c) small: it reads the options, owns the clock, the
 * try-lock and the Mid-tier accessors, and feeds the modules.
 *
 * Include order inside the layer: learn.h (contract) -> this header.
 */
#ifndef HAK_LEARN_INTERNAL_H
#define HAK_LEARN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "learn.h"

#ifdef HAKMEM_FEATURE_EVOLUTION
#define HAK_EVOLUTION_COMPILED 1 /* strategies evolve (when HAKMEM_LEARN=1) */
#else
#define HAK_EVOLUTION_COMPILED 0 /* the threshold stays pinned */
#endif

/* learn.c: replace the monotonic clock (ns) the tick reads, and the CPU
 * clock its costs are measured with, by one function; NULL restores both.
 * For tests, before hak_learn_init(). */
void hak_learn_set_clock(uint64_t (*now_ns)(void));
/* ... then replace the CPU clock alone (NULL: the calling thread's CPU time). */
void hak_learn_set_cpu_clock(uint64_t (*cpu_ns)(void));

/* ===================================================================== */
/* strategies: the large-object thresholds the evolution chooses among   */
/* ===================================================================== */

/* One row per strategy: id, threshold in bytes. Sorted ascending; the
 * default (HAK_DEFAULT_LARGE_THRESHOLD) must be a row. */
#define HAK_LEARN_STRATEGIES(X)                                                                    \
	X(t256k, (size_t)256 << 10)                                                                \
	X(t512k, (size_t)512 << 10)                                                                \
	X(t1m, (size_t)1 << 20)                                                                    \
	X(t2m, (size_t)2 << 20) /* default: mimalloc's large threshold */                          \
	X(t4m, (size_t)4 << 20)                                                                    \
	X(t8m, (size_t)8 << 20)

#define HAK_STRAT_ENUM(id, bytes) HAK_STRAT_##id,
enum { HAK_LEARN_STRATEGIES(HAK_STRAT_ENUM) HAK_STRAT_COUNT };
#undef HAK_STRAT_ENUM

extern const size_t hak_strategy_bytes[HAK_STRAT_COUNT]; /* bytes per id */

/* Strategy id of the row whose threshold is `bytes`, or -1 if none is. */
int hak_strategy_find(size_t bytes);

/* ===================================================================== */
/* p2.c: P-square streaming quantile estimator (five markers)            */
/* ===================================================================== */

typedef struct {
	double p;       /* the quantile estimated, 0 < p < 1 */
	double q[5];    /* marker heights (values) */
	double n[5];    /* marker positions, 0-based (observations) */
	double want[5]; /* desired marker positions */
	uint64_t count; /* observations seen */
} hak_p2_t;

/* Start an estimator of quantile p (0 < p < 1). */
void hak_p2_init(hak_p2_t *e, double p);
/* Add one observation. O(1), no allocation. */
void hak_p2_add(hak_p2_t *e, double x);
/* The current estimate; 0 before the first observation; exact order
 * statistic while fewer than five were seen. */
double hak_p2_value(const hak_p2_t *e);

/* ===================================================================== */
/* elo.c: ratings                                                        */
/* ===================================================================== */

#define HAK_ELO_INITIAL 1500.0 /* rating of a strategy never played */

/* Probability that a player rated ra beats one rated rb. */
double hak_elo_expected(double ra, double rb);
/* One match: score_a is 1 (a won), 0.5 (draw) or 0 (a lost); both ratings
 * move by k times the surprise, in opposite directions. */
void hak_elo_update(double *ra, double *rb, double score_a, double k);
/* Match score of cost a against cost b (lower wins): 1, 0.5 or 0; a draw
 * when they differ by less than `margin` (relative to the larger) or by
 * less than `noise` (absolute, e.g. z standard errors of the difference). */
double hak_elo_score_costs(double a, double b, double margin, double noise);

/* ===================================================================== */
/* rng (in evolution.c): xorshift64*, owned by the ticking thread         */
/* ===================================================================== */

/* Next 64 random bits; *s must not be 0. */
uint64_t hak_rng_next(uint64_t *s);
/* Uniform double in [0, 1) (multiplication, no division). */
double hak_rng_unit(uint64_t *s);

/* ===================================================================== */
/* evolution.c: LEARN -> CANARY -> FROZEN over the strategies             */
/* ===================================================================== */

#define HAK_EVO_MIN_SIZES 16 /* sizes a window needs to judge a shift */

typedef enum {
	HAK_EVO_LEARN,  /* epsilon-greedy exploration; matches every window */
	HAK_EVO_CANARY, /* confirmed leader, a small share to the runner-up */
	HAK_EVO_FROZEN, /* leader only; watches the size distribution */
} hak_evo_state_t;

typedef struct {
	double epsilon;           /* LEARN: most decisions explored (0.10), in turn */
	double canary_share;      /* CANARY: most decisions to the candidate (0.05) */
	unsigned stint;           /* decisions an exploration (or canary) holds its strategy */
	unsigned settle;          /* decisions after a switch whose cost is not measured */
	double cutoff;            /* LEARN: explored mean cost above cutoff x the leader's: not
	                             explored again this window (its stint ends) */
	double k;                 /* ELO K factor (rating points per surprise) */
	double margin;            /* relative cost gap that is not a draw */
	double z;                 /* ... nor a gap within z standard errors */
	unsigned min_decisions;   /* decisions a strategy needs in a window to play */
	unsigned confirm_windows; /* windows the leader must hold before CANARY */
	unsigned canary_windows;  /* windows the candidate must fail to win, -> FROZEN */
	double shift_factor;      /* p50 or p90 ratio (either way) that is a shift */
	unsigned shift_windows;   /* consecutive shifted windows to leave FROZEN */
} hak_evo_params_t;

/* The defaults documented in docs/LEARNING.md. */
void hak_evo_params_default(hak_evo_params_t *p);

/* What a window close changed, for the trace. */
typedef struct {
	bool leader_changed; /* the best-rated strategy is another one */
	bool state_changed;  /* LEARN/CANARY/FROZEN moved */
	int old_leader, new_leader;
	hak_evo_state_t old_state, new_state;
	const char *reason; /* why the state moved (static string) */
} hak_evo_event_t;

typedef struct {
	hak_evo_params_t prm;
	hak_evo_state_t state;
	double elo[HAK_STRAT_COUNT];       /* ratings */
	double cost_sum[HAK_STRAT_COUNT];  /* this window: summed costs */
	double cost_sq[HAK_STRAT_COUNT];   /* this window: summed squared costs */
	uint32_t n[HAK_STRAT_COUNT];       /* this window: decisions measured */
	double last_mean[HAK_STRAT_COUNT]; /* mean cost in the last window it played (0: none) */
	int active;                        /* strategy of the decision in progress */
	int leader;                        /* best-rated (confirmed in CANARY/FROZEN) */
	int candidate;                     /* CANARY: the runner-up under test; else -1 */
	int explore;                       /* LEARN: the strategy explored last */
	unsigned run;        /* decisions in a row on `active`, the one in progress included */
	unsigned stint_left; /* decisions left of the exploration or canary stint in progress */
	bool lost[HAK_STRAT_COUNT]; /* this window: past the cutoff, not explored again */
	unsigned streak;     /* windows the leader has held (LEARN) or the canary failed (CANARY) */
	unsigned shifted;    /* FROZEN: consecutive windows past shift_factor */
	hak_p2_t w50, w90;   /* this window's size quantiles */
	uint64_t relevant;   /* this window's sizes >= the smallest threshold */
	double ref50, ref90; /* size quantiles when FROZEN was entered */
	uint64_t rng;        /* xorshift state */
	uint64_t decisions;  /* total */
	uint64_t windows;    /* total */
	double credit;       /* decisions off the leader earned and not spent (at most a stint) */
} hak_evo_t;

void hak_evo_init(hak_evo_t *e, const hak_evo_params_t *p, int start, uint64_t seed);
/* One request size for the distribution estimate. */
void hak_evo_note_size(hak_evo_t *e, double bytes);
/* End the decision in progress with its measured cost (lower is better; any
 * unit, the same every time; negative: not measured) and choose the next
 * one: returns the strategy the allocator should use until the next call. */
int hak_evo_decide(hak_evo_t *e, double cost);
/* Close the measurement window: play the matches, move the state machine,
 * check for a shift of the size distribution, start a new window. Fills ev.
 * Returns true when something in ev changed. */
bool hak_evo_close_window(hak_evo_t *e, hak_evo_event_t *ev);

const char *hak_evo_state_name(hak_evo_state_t s);

/* ===================================================================== */
/* site_rules.c: direct-mapped call-site -> tier table                   */
/* ===================================================================== */

#define HAK_SITE_RULES   256 /* entries; a power of two */
#define HAK_SITE_CONFIRM 4   /* consistent notes before a rule is used */

/* Hash of a call site to a table index (multiply and shift, no division). */
static inline unsigned hak_site_index(uintptr_t site)
{
	return (unsigned)(((uint64_t)site * 0x9E3779B97F4A7C15ull) >> 56) & (HAK_SITE_RULES - 1);
}

void hak_site_rules_reset(void);
/* Entries holding a confirmed rule. */
unsigned hak_site_rules_count(void);

/* ===================================================================== */
/* mid_learner.c: CAP per Mid class, and W_MAX canary trials              */
/* ===================================================================== */

typedef struct {
	double target;        /* hit rate aimed at (HAKMEM_TARGET_HIT_MID) */
	double band;          /* dead zone half-width: no change inside target +- band */
	unsigned step;        /* CAP change per step (HAKMEM_CAP_STEP_MID) */
	unsigned cap_min;     /* blocks (HAKMEM_CAP_MIN_MID) */
	unsigned cap_max;     /* blocks (HAKMEM_CAP_MAX_MID) */
	double dwell_s;       /* seconds a CAP holds before the next change */
	uint64_t min_samples; /* hits + misses needed before a decision */
} hak_cap_params_t;

typedef struct {
	unsigned cap;       /* current CAP, blocks */
	uint64_t base_hits; /* cumulative counters at the start of the sample */
	uint64_t base_misses;
	double last_change_s; /* time of the last CAP change (seconds) */
	int last_dir;         /* +1 / -1: direction of the last change, 0: none */
	unsigned backoff;     /* dwell multiplier after a reversal (1, 2, 4, 8) */
	unsigned step_shift;  /* the step is halved this many times (reversals) */
	unsigned too_low;     /* CAPs at or below it measured below the band (0: none) */
	unsigned too_high;    /* CAPs at or above it measured above the band (0: none) */
	unsigned changes;     /* CAP changes made */
	double hit_rate;      /* of the last decided sample */
	uint64_t samples;     /* of the last decided sample */
} hak_cap_class_t;

typedef struct {
	bool changed; /* CAP moved */
	bool decided; /* a sample was complete (hit_rate valid) */
	unsigned old_cap, new_cap;
	double hit_rate;
	uint64_t samples;
} hak_cap_event_t;

void hak_cap_class_init(hak_cap_class_t *c, unsigned cap, uint64_t hits, uint64_t misses,
                        double now_s);
/* Given the class's cumulative hit and miss counters at time now_s, decide
 * its CAP: returns the CAP to apply (maybe unchanged) and fills ev. */
unsigned hak_cap_update(hak_cap_class_t *c, const hak_cap_params_t *p, uint64_t hits,
                        uint64_t misses, double now_s, hak_cap_event_t *ev);

#define HAK_WMAX_MAX_CANDIDATES 8

typedef struct {
	unsigned cand[HAK_WMAX_MAX_CANDIDATES]; /* W_MAX values to try, permille */
	int ncand;
	double trial_s;       /* seconds per trial (HAKMEM_WMAX_TRIAL_SEC) */
	bool canary;          /* alternate current/candidate inside a trial */
	double adopt_pct;     /* relative margin the candidate's score must win by */
	double waste_weight;  /* score points per unit of mean rounding slack */
	double slice_s;       /* canary: seconds per arm before switching */
	uint64_t min_samples; /* per arm, for a verdict */
} hak_wmax_params_t;

typedef enum { HAK_WMAX_IDLE, HAK_WMAX_TRIAL, HAK_WMAX_DONE } hak_wmax_phase_t;

typedef struct {
	hak_wmax_phase_t phase;
	unsigned current;        /* adopted W_MAX, permille */
	int next;                /* next candidate index to try */
	unsigned trying;         /* candidate of the running trial, permille */
	bool adopted_this_cycle; /* a full cycle without adoption ends the trials */
	int arm;                 /* 0: current, 1: candidate (what is applied now) */
	double arm_start_s;      /* when the applied arm started */
	double trial_start_s;
	uint64_t base_hits, base_misses; /* cumulative at the arm's start */
	uint64_t hits[2], misses[2];     /* per arm, this trial */
} hak_wmax_t;

typedef struct {
	bool verdict;                           /* a trial ended */
	bool adopted;                           /* ... and the candidate won */
	unsigned old_wmax, new_wmax, candidate; /* permille */
	double score_current, score_candidate;
	uint64_t samples_current, samples_candidate;
} hak_wmax_event_t;

/* Score of an arm: hit rate minus the waste penalty of W_MAX w (permille). */
double hak_wmax_score(const hak_wmax_params_t *p, uint64_t hits, uint64_t misses, unsigned w);
void hak_wmax_init(hak_wmax_t *w, unsigned current);
/* Advance the trials with the Mid pool's cumulative hits/misses (all
 * classes) at now_s; returns the W_MAX to apply (permille). */
unsigned hak_wmax_step(hak_wmax_t *w, const hak_wmax_params_t *p, uint64_t hits, uint64_t misses,
                       double now_s, hak_wmax_event_t *ev);

/* ===================================================================== */
/* trace.c: JSON building without malloc, and the trace file              */
/* ===================================================================== */

typedef struct {
	char buf[1536]; /* the object under construction */
	size_t len;     /* bytes used */
	bool first;     /* no member written yet */
	bool full;      /* something did not fit: the object was cut */
} hak_json_t;

void hak_json_begin(hak_json_t *j); /* "{" */
void hak_json_str(hak_json_t *j, const char *key, const char *val);
void hak_json_num(hak_json_t *j, const char *key, double val);
void hak_json_u64(hak_json_t *j, const char *key, uint64_t val);
void hak_json_bool(hak_json_t *j, const char *key, bool val);
/* A member whose value is already JSON text (an array or object). */
void hak_json_raw(hak_json_t *j, const char *key, const char *json);
void hak_json_end(hak_json_t *j); /* "}" */

/* The trace file: one JSON object per line. fd -1: off. */
int hak_trace_open(const char *path); /* fd, or -1 with a warning */
/* Write j and a newline to fd in one write(2); a no-op when fd < 0. */
void hak_trace_write(int fd, const hak_json_t *j);

#endif /* HAK_LEARN_INTERNAL_H */
