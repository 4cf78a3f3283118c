/*
 * evolution.c - the strategy state machine LEARN -> CANARY -> FROZEN, with
 * epsilon-greedy selection (the explored share visits the other strategies
 * in turn), ELO matches per measurement window, and a P2
 * watch on the request-size distribution that leaves FROZEN on a shift.
 * Also the xorshift generator the ticking thread uses.
 *
 * A "decision" is the strategy the allocator uses from one tick to the
 * next; its "cost" is what the glue measured over that interval. Matches
 * compare strategies inside one window only, so slow drift of the workload
 * hits every player alike.
 *
 * A threshold acts on the blocks allocated under it, and those live on:
 * a decision's cost is partly that of the blocks of the decisions before
 * it. So exploration (and the canary) runs in stints of `stint` decisions
 * on one strategy, and a decision is measured only once its strategy has
 * held for `settle` decisions.
 *
 * The share of decisions explored is a budget, not only an average: every
 * decision earns epsilon (canary_share) of a decision's credit, every
 * decision off the leader spends one, and a stint begins (at a leader
 * decision, on a coin toss, so that stints do not fall in step with a
 * program's phases) only when the credit covers the whole stint. The
 * credit holds at most one stint, so stints never come back to back.
 * A run too short to earn one stint explores nothing, so a program whose
 * default is right never pays more than epsilon of its time for the
 * learner's curiosity; and the first stint comes as soon as it is earned,
 * not after a random wait that a run of ten seconds may not have.
 *
 * Owns: the state machine and its ratings. Does not own: measurement,
 * clock, locking, publishing the threshold (learn.c).
 */
#include "learn_internal.h"

const size_t hak_strategy_bytes[HAK_STRAT_COUNT] = {
#define HAK_STRAT_BYTES(id, bytes) bytes,
    HAK_LEARN_STRATEGIES(HAK_STRAT_BYTES)
#undef HAK_STRAT_BYTES
};

int hak_strategy_find(size_t bytes)
{
	for (int i = 0; i < HAK_STRAT_COUNT; i++)
		if (hak_strategy_bytes[i] == bytes)
			return i;
	return -1;
}

uint64_t hak_rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

double hak_rng_unit(uint64_t *s)
{
	return (double)(hak_rng_next(s) >> 11) * 0x1.0p-53;
}

/* Square root by Newton's method (no libm in the allocator). */
static double hak_sqrt(double x)
{
	if (x <= 0.0)
		return 0.0;
	double r = x > 1.0 ? x : 1.0;
	for (int i = 0; i < 64; i++) {
		double next = 0.5 * (r + x / r);
		if (next >= r)
			break;
		r = next;
	}
	return r;
}

void hak_evo_params_default(hak_evo_params_t *p)
{
	p->epsilon = 0.10;
	p->canary_share = 0.05;
	p->stint = 32;
	p->settle = 24;
	p->cutoff = 2.0;
	p->k = 32.0;
	p->margin = 0.03;
	p->z = 1.0;
	p->min_decisions = 2;
	p->confirm_windows = 5;
	p->canary_windows = 3;
	p->shift_factor = 2.0;
	p->shift_windows = 2;
}

const char *hak_evo_state_name(hak_evo_state_t s)
{
	switch (s) {
	case HAK_EVO_LEARN:
		return "LEARN";
	case HAK_EVO_CANARY:
		return "CANARY";
	case HAK_EVO_FROZEN:
		return "FROZEN";
	}
	return "?";
}

/* Decisions in a stint (a stint of 0 means one decision). */
static double evo_stint_len(const hak_evo_t *e)
{
	return e->prm.stint ? (double)e->prm.stint : 1.0;
}

static void evo_new_window(hak_evo_t *e)
{
	for (int i = 0; i < HAK_STRAT_COUNT; i++) {
		e->cost_sum[i] = e->cost_sq[i] = 0.0;
		e->n[i] = 0;
		e->lost[i] = false;
	}
	hak_p2_init(&e->w50, 0.5);
	hak_p2_init(&e->w90, 0.9);
	e->relevant = 0;
}

void hak_evo_init(hak_evo_t *e, const hak_evo_params_t *p, int start, uint64_t seed)
{
	e->prm = *p;
	e->state = HAK_EVO_LEARN;
	for (int i = 0; i < HAK_STRAT_COUNT; i++) {
		e->elo[i] = HAK_ELO_INITIAL;
		e->last_mean[i] = 0.0;
	}
	e->active = e->leader = start;
	e->candidate = -1;
	e->explore = start;
	e->run = 1;
	e->stint_left = 0;
	e->streak = e->shifted = 0;
	e->ref50 = e->ref90 = 0.0;
	e->rng = seed ? seed : 0x9E3779B97F4A7C15ull;
	e->decisions = e->windows = 0;
	e->credit = 0.0;
	evo_new_window(e);
}

void hak_evo_note_size(hak_evo_t *e, double bytes)
{
	hak_p2_add(&e->w50, bytes);
	hak_p2_add(&e->w90, bytes);
	if (bytes >= (double)hak_strategy_bytes[0])
		e->relevant++;
}

/* Has explored strategy a cost more than cutoff x the leader's this
 * window (both measured at least twice)? Without division. */
static bool evo_past_cutoff(const hak_evo_t *e, int a)
{
	int l = e->leader;
	return e->n[a] >= 2 && e->n[l] >= 2 &&
	       e->cost_sum[a] * e->n[l] > e->prm.cutoff * e->cost_sum[l] * e->n[a];
}

/* The strategies other than the leader, nearest first (one step up, one
 * down, two up, ...): a threshold's effect comes from the sizes it moves
 * between tiers, and a neighbour moves the fewest, so it is the likeliest
 * small gain and the cheapest loss; the far ones still come in turn. */
static int evo_explore_order(int leader, int order[HAK_STRAT_COUNT])
{
	int n = 0;
	for (int d = 1; d < HAK_STRAT_COUNT; d++) {
		if (leader + d < HAK_STRAT_COUNT)
			order[n++] = leader + d;
		if (leader - d >= 0)
			order[n++] = leader - d;
	}
	return n;
}

/* The next strategy to explore in turn (after the one explored last, in
 * the leader's order): not the leader, not one that lost this window; -1
 * when none is left. */
static int evo_next_explore(const hak_evo_t *e)
{
	int order[HAK_STRAT_COUNT];
	int n = evo_explore_order(e->leader, order);
	int at = -1;
	for (int i = 0; i < n; i++)
		if (order[i] == e->explore)
			at = i;
	for (int k = 1; k <= n; k++) {
		int s = order[(at + k) % n];
		if (!e->lost[s])
			return s;
	}
	return -1;
}

int hak_evo_decide(hak_evo_t *e, double cost)
{
	if (cost >= 0.0 && e->state != HAK_EVO_FROZEN && e->run > e->prm.settle) {
		e->cost_sum[e->active] += cost;
		e->cost_sq[e->active] += cost * cost;
		e->n[e->active]++;
		/* A strategy that clearly loses (a much slower tier for this
		 * program) is not paid for again until the next window. */
		if (e->state == HAK_EVO_LEARN && e->active != e->leader &&
		    evo_past_cutoff(e, e->active)) {
			e->lost[e->active] = true;
			e->stint_left = 0;
		}
	}
	e->decisions++;
	double earn = e->state == HAK_EVO_LEARN    ? e->prm.epsilon
	              : e->state == HAK_EVO_CANARY ? e->prm.canary_share
	                                           : 0.0;
	e->credit += earn;
	if (e->credit > evo_stint_len(e))
		e->credit = evo_stint_len(e);
	bool earned = e->credit >= evo_stint_len(e) && hak_rng_unit(&e->rng) < 0.5;
	int next = e->leader;
	int other = e->state == HAK_EVO_CANARY ? e->candidate : e->explore;
	if (e->state == HAK_EVO_FROZEN) {
		e->stint_left = 0;
	} else if (e->stint_left > 0) {
		e->stint_left--;
		next = other;
	} else if (e->state == HAK_EVO_LEARN) {
		/* Explore: the other strategies in turn, nearest first, so
		 * each one plays every few windows even when decisions are few. */
		int s = evo_next_explore(e);
		if (s >= 0 && earned) {
			e->explore = s;
			next = s;
			e->stint_left = (unsigned)evo_stint_len(e) - 1;
		}
	} else if (earned) {
		next = e->candidate; /* CANARY */
		e->stint_left = (unsigned)evo_stint_len(e) - 1;
	}
	e->run = next == e->active ? e->run + 1 : 1;
	e->active = next;
	if (next != e->leader)
		e->credit -= 1.0;
	return next;
}

/* Best-rated strategy other than `skip`; ties keep `prefer`. */
static int evo_best(const hak_evo_t *e, int prefer, int skip)
{
	int best = prefer != skip ? prefer : -1;
	for (int i = 0; i < HAK_STRAT_COUNT; i++) {
		if (i == skip)
			continue;
		if (best < 0 || e->elo[i] > e->elo[best])
			best = i;
	}
	return best;
}

/* Round robin among the strategies that played enough this window. Returns
 * the number of matches; *cand_score gets the candidate's score against the
 * leader (or -1 if they did not meet). */
static int evo_play(hak_evo_t *e, double *cand_score)
{
	double mean[HAK_STRAT_COUNT], se2[HAK_STRAT_COUNT]; /* mean, squared standard error */
	bool in[HAK_STRAT_COUNT];
	for (int i = 0; i < HAK_STRAT_COUNT; i++) {
		in[i] = e->n[i] >= e->prm.min_decisions && e->n[i] > 1;
		mean[i] = se2[i] = 0.0;
		if (!in[i])
			continue;
		mean[i] = e->cost_sum[i] / e->n[i];
		double var = (e->cost_sq[i] - e->n[i] * mean[i] * mean[i]) / (e->n[i] - 1);
		se2[i] = var > 0.0 ? var / e->n[i] : 0.0;
		e->last_mean[i] = mean[i];
	}
	int matches = 0;
	*cand_score = -1.0;
	for (int a = 0; a < HAK_STRAT_COUNT; a++) {
		for (int b = a + 1; b < HAK_STRAT_COUNT; b++) {
			if (!in[a] || !in[b])
				continue;
			double noise = e->prm.z * hak_sqrt(se2[a] + se2[b]);
			double s = hak_elo_score_costs(mean[a], mean[b], e->prm.margin, noise);
			hak_elo_update(&e->elo[a], &e->elo[b], s, e->prm.k);
			matches++;
			if (a == e->candidate && b == e->leader)
				*cand_score = s;
			else if (b == e->candidate && a == e->leader)
				*cand_score = 1.0 - s;
		}
	}
	return matches;
}

static void evo_enter(hak_evo_t *e, hak_evo_state_t s, const char *why, hak_evo_event_t *ev)
{
	e->state = s;
	e->streak = 0;
	e->stint_left = 0; /* a stint belongs to the state that began it */
	e->shifted = 0;
	e->credit = 0.0; /* each state's share is earned from its start */
	ev->reason = why;
}

bool hak_evo_close_window(hak_evo_t *e, hak_evo_event_t *ev)
{
	ev->old_leader = e->leader;
	ev->old_state = e->state;
	ev->reason = "";
	e->windows++;
	double cand_score = -1.0;
	/* A window without a request of at least the smallest threshold is
	 * one in which every strategy routed alike: its costs differ by noise
	 * only, so it plays no matches and counts as the leader holding. */
	bool evidence = e->relevant > 0;
	int matches = e->state == HAK_EVO_FROZEN || !evidence ? 0 : evo_play(e, &cand_score);

	switch (e->state) {
	case HAK_EVO_LEARN: {
		int best = evo_best(e, e->leader, -1);
		if (best != e->leader) {
			e->leader = best;
			e->streak = 0;
		} else if (matches > 0 || !evidence) {
			e->streak++;
		}
		if (e->streak >= e->prm.confirm_windows) {
			e->candidate = evo_best(e, -1, e->leader);
			evo_enter(e, HAK_EVO_CANARY, "leader held its rating", ev);
		}
		break;
	}
	case HAK_EVO_CANARY:
		if (cand_score < 0.0 && evidence)
			break; /* the two did not meet: no evidence either way */
		if (cand_score == 1.0 && e->elo[e->candidate] > e->elo[e->leader]) {
			e->leader = e->candidate;
			e->candidate = -1;
			evo_enter(e, HAK_EVO_LEARN, "canary beat the leader", ev);
		} else if (++e->streak >= e->prm.canary_windows) {
			e->candidate = -1;
			bool sized = e->w50.count >= HAK_EVO_MIN_SIZES;
			e->ref50 =
			    sized ? hak_p2_value(&e->w50) : 0.0; /* 0: frozen without sizes */
			e->ref90 = sized ? hak_p2_value(&e->w90) : 0.0;
			evo_enter(e, HAK_EVO_FROZEN, "canary did not beat the leader", ev);
		}
		break;
	case HAK_EVO_FROZEN: {
		if (e->w50.count < HAK_EVO_MIN_SIZES)
			break; /* too few sizes this window to judge */
		double p50 = hak_p2_value(&e->w50), p90 = hak_p2_value(&e->w90);
		double f = e->prm.shift_factor;
		bool shift = e->ref50 <= 0.0 ||
		             e->ref90 <= 0.0 /* frozen without sizes: they appeared */
		             || p50 > e->ref50 * f || p50 * f < e->ref50 || p90 > e->ref90 * f ||
		             p90 * f < e->ref90;
		e->shifted = shift ? e->shifted + 1 : 0;
		if (e->shifted >= e->prm.shift_windows) {
			for (int i = 0; i < HAK_STRAT_COUNT; i++)
				e->elo[i] = HAK_ELO_INITIAL; /* old evidence is about another
				                                distribution */
			evo_enter(e, HAK_EVO_LEARN, "size distribution shifted", ev);
		}
		break;
	}
	}
	evo_new_window(e);
	ev->new_leader = e->leader;
	ev->new_state = e->state;
	ev->leader_changed = ev->new_leader != ev->old_leader;
	ev->state_changed = ev->new_state != ev->old_state;
	return ev->leader_changed || ev->state_changed;
}
