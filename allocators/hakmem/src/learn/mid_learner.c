/*
 * mid_learner.c - the Mid pool's learner: CAP per class toward a target hit
 * rate, and W_MAX canary trials.
 *
 * CAP: each class keeps cumulative hit/miss counters (the Mid tier keeps
 * them on its own paths; the learner only reads them). Once a class has
 * min_samples new requests, its hit rate decides: below target - band the
 * CAP grows by a step, above target + band it shrinks (less memory held),
 * inside the band nothing moves (hysteresis). A change holds for the dwell
 * time; a change in the opposite direction of the last one doubles the
 * dwell and halves the step. Each decision also remembers its CAP as known
 * too low or too high, and a step never lands on a CAP already known to be
 * on the far side: where no CAP lies inside the band (one step below is
 * under it, one above is over it) the class holds instead of oscillating.
 * A hit rate far outside the band (3 x band: the workload changed) forgets
 * what was known.
 *
 * W_MAX: how much larger than the request a served block may be. Trials run
 * one candidate at a time against the current value; with canaries on they
 * alternate in short slices so both arms see the same moment of the
 * workload. An arm's score is its hit rate minus a waste penalty (the mean
 * rounding slack a W_MAX allows, (W_MAX - 1) / 2); the candidate is adopted
 * only if its score beats the current one's by the adopt margin.
 *
 * Owns: the decisions. Does not own: the counters or applying the values
 * (learn.c calls the Mid tier).
 */
#include <string.h>

#include "learn_internal.h"

/* ===================================================================== */
/* CAP per class                                                         */
/* ===================================================================== */

void hak_cap_class_init(hak_cap_class_t *c, unsigned cap, uint64_t hits, uint64_t misses,
                        double now_s)
{
	memset(c, 0, sizeof(*c));
	c->cap = cap;
	c->base_hits = hits;
	c->base_misses = misses;
	c->last_change_s = now_s;
	c->backoff = 1;
}

static unsigned cap_clamp(long v, const hak_cap_params_t *p)
{
	if (v < (long)p->cap_min)
		return p->cap_min;
	if (v > (long)p->cap_max)
		return p->cap_max;
	return (unsigned)v;
}

unsigned hak_cap_update(hak_cap_class_t *c, const hak_cap_params_t *p, uint64_t hits,
                        uint64_t misses, double now_s, hak_cap_event_t *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->old_cap = ev->new_cap = c->cap;
	uint64_t dh = hits - c->base_hits, dm = misses - c->base_misses;
	uint64_t n = dh + dm;
	if (n < p->min_samples || n == 0)
		return c->cap; /* keep accumulating */
	c->hit_rate = (double)dh / (double)n;
	c->samples = n;
	c->base_hits = hits; /* the next sample starts now */
	c->base_misses = misses;
	ev->decided = true;
	ev->hit_rate = c->hit_rate;
	ev->samples = n;
	if (now_s - c->last_change_s < p->dwell_s * c->backoff)
		return c->cap;

	int dir = 0;
	if (c->hit_rate < p->target - p->band)
		dir = +1;
	else if (c->hit_rate > p->target + p->band)
		dir = -1;
	double off = c->hit_rate > p->target ? c->hit_rate - p->target : p->target - c->hit_rate;
	if (off > 3.0 * p->band)
		c->too_low = c->too_high = 0; /* the workload moved: start over */
	if (dir > 0 && c->cap > c->too_low)
		c->too_low = c->cap;
	if (dir < 0 && (c->too_high == 0 || c->cap < c->too_high))
		c->too_high = c->cap;
	if (dir == 0)
		return c->cap;
	if (c->last_dir != 0 && dir != c->last_dir) { /* reversal: damp */
		if (c->backoff < 8)
			c->backoff *= 2;
		if (c->step_shift < 4)
			c->step_shift++;
	}
	unsigned step = p->step >> c->step_shift;
	if (step == 0)
		step = 1;
	unsigned next = cap_clamp((long)c->cap + dir * (long)step, p);
	if (dir > 0 && c->too_high && next >= c->too_high)
		next = c->too_high - 1; /* short of a CAP known to be over the band */
	if (dir < 0 && next <= c->too_low)
		next = c->too_low + 1; /* above a CAP known to be under it */
	if ((dir > 0 && next <= c->cap) || (dir < 0 && next >= c->cap))
		return c->cap; /* pinned: a bound, or no CAP left between what is known */
	c->last_dir = dir;
	c->cap = next;
	c->last_change_s = now_s;
	c->changes++;
	ev->changed = true;
	ev->new_cap = next;
	return next;
}

/* ===================================================================== */
/* W_MAX trials                                                          */
/* ===================================================================== */

double hak_wmax_score(const hak_wmax_params_t *p, uint64_t hits, uint64_t misses, unsigned w)
{
	double n = (double)(hits + misses);
	double rate = n > 0 ? (double)hits / n : 0.0;
	double slack = w > 1000 ? (w - 1000) / 2000.0 : 0.0; /* mean of (W_MAX - 1) / 2 */
	return rate - p->waste_weight * slack;
}

void hak_wmax_init(hak_wmax_t *w, unsigned current)
{
	memset(w, 0, sizeof(*w));
	w->phase = HAK_WMAX_IDLE;
	w->current = current;
}

/* Next candidate different from the current value; false when a full cycle
 * passed without an adoption (the trials are over). */
static bool wmax_next_candidate(hak_wmax_t *w, const hak_wmax_params_t *p)
{
	for (int pass = 0; pass < 2; pass++) {
		while (w->next < p->ncand) {
			unsigned c = p->cand[w->next++];
			if (c != w->current) {
				w->trying = c;
				return true;
			}
		}
		if (!w->adopted_this_cycle)
			return false;
		w->adopted_this_cycle = false;
		w->next = 0;
	}
	return false;
}

static void wmax_verdict(hak_wmax_t *w, const hak_wmax_params_t *p, bool enough,
                         hak_wmax_event_t *ev)
{
	double sb = hak_wmax_score(p, w->hits[0], w->misses[0], w->current);
	double sc = hak_wmax_score(p, w->hits[1], w->misses[1], w->trying);
	double margin = p->adopt_pct * (sb < 0 ? -sb : sb);
	ev->verdict = true;
	ev->old_wmax = w->current;
	ev->candidate = w->trying;
	ev->score_current = sb;
	ev->score_candidate = sc;
	ev->samples_current = w->hits[0] + w->misses[0];
	ev->samples_candidate = w->hits[1] + w->misses[1];
	ev->adopted = enough && sc > sb + margin;
	if (ev->adopted) {
		w->current = w->trying;
		w->adopted_this_cycle = true;
	}
	ev->new_wmax = w->current;
	w->phase = HAK_WMAX_IDLE;
}

unsigned hak_wmax_step(hak_wmax_t *w, const hak_wmax_params_t *p, uint64_t hits, uint64_t misses,
                       double now_s, hak_wmax_event_t *ev)
{
	memset(ev, 0, sizeof(*ev));
	if (w->phase == HAK_WMAX_DONE || p->ncand == 0)
		return w->current;
	if (w->phase == HAK_WMAX_IDLE) {
		if (!wmax_next_candidate(w, p)) {
			w->phase = HAK_WMAX_DONE;
			return w->current;
		}
		w->phase = HAK_WMAX_TRIAL;
		w->trial_start_s = w->arm_start_s = now_s;
		w->arm = 0;
		w->base_hits = hits;
		w->base_misses = misses;
		memset(w->hits, 0, sizeof(w->hits));
		memset(w->misses, 0, sizeof(w->misses));
		return w->current;
	}
	double arm_len = p->canary ? p->slice_s : p->trial_s / 2.0;
	if (now_s - w->arm_start_s >= arm_len) {
		w->hits[w->arm] += hits - w->base_hits;
		w->misses[w->arm] += misses - w->base_misses;
		w->base_hits = hits;
		w->base_misses = misses;
		w->arm_start_s = now_s;
		bool enough = w->hits[0] + w->misses[0] >= p->min_samples &&
		              w->hits[1] + w->misses[1] >= p->min_samples;
		double ran = now_s - w->trial_start_s;
		if (ran >= p->trial_s && (enough || ran >= 4.0 * p->trial_s)) {
			wmax_verdict(w, p, enough, ev);
			return w->current;
		}
		w->arm ^= 1;
	}
	return w->arm ? w->trying : w->current;
}
