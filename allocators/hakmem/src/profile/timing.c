/*
 * timing.c - the per-phase cycle profile of the timing build
 * (HAKMEM_DEBUG_TIMING): cycles and calls per phase, per thread, summed at
 * report time; with HAKMEM_TIMING=1 a table on stderr at exit and a
 * "timing" member in the statistics file.
 *
 * Recording: each thread owns a slot of a static table (claimed on its
 * first record, so nothing is allocated and a slot outlives its thread);
 * a record is a relaxed load and store in the thread's own slot: no lock,
 * no lock-prefixed instruction. Threads beyond the table share one overflow
 * slot with atomic adds. When a thread ends (a pthread key destructor of
 * this file's own, or an explicit hak_timing_thread_exit()) its slot is
 * folded into the retired totals and freed for the next thread.
 *
 * Share: a phase's cycles over the sum of every phase's cycles. Phases nest
 * (hak_alloc contains tiny_refill, which contains syscall_mmap), so a share
 * is a share of the table, not of run time; the shares sum to 1.
 *
 * Owns: the accumulators and both outputs. Does not own: where phases begin
 * and end (the tiers, through timing.h's macros), when the outputs are
 * written (the statistics writer).
 */
#include "timing.h"

typedef int hak_timing_nonempty_unit_t; /* this file is empty outside the timing build */

#ifdef HAKMEM_DEBUG_TIMING
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "../core/config.h"

#define TIMING_SLOTS 256 /* threads with a slot of their own at one time */

typedef struct {
	_Atomic uint64_t cycles[HAK_PH_COUNT]; /* TSC ticks */
	_Atomic uint64_t calls[HAK_PH_COUNT];  /* completed phases */
	_Atomic int used;                      /* 1: owned by a live thread */
} __attribute__((aligned(64))) timing_slot_t;

static timing_slot_t timing_slots[TIMING_SLOTS];
static timing_slot_t timing_shared;  /* overflow: atomic adds */
static timing_slot_t timing_retired; /* slots of finished threads */
static __thread timing_slot_t *timing_mine __attribute__((tls_model("initial-exec")));

static const char *const timing_names[HAK_PH_COUNT] = {
#define HAK_PHASE_NAME(name) #name,
    HAK_PHASES(HAK_PHASE_NAME)
#undef HAK_PHASE_NAME
};

static pthread_once_t timing_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t timing_key;
static bool timing_key_ok;

/* Fold a slot into the retired totals and free it. */
static void timing_retire(timing_slot_t *s)
{
	for (int p = 0; p < HAK_PH_COUNT; p++) {
		atomic_fetch_add_explicit(
		    &timing_retired.cycles[p],
		    atomic_exchange_explicit(&s->cycles[p], 0, memory_order_relaxed),
		    memory_order_relaxed);
		atomic_fetch_add_explicit(
		    &timing_retired.calls[p],
		    atomic_exchange_explicit(&s->calls[p], 0, memory_order_relaxed),
		    memory_order_relaxed);
	}
	atomic_store_explicit(&s->used, 0, memory_order_release);
}

static void timing_key_destructor(void *v)
{
	timing_slot_t *s = v;
	if (s == timing_mine)
		timing_mine = NULL;
	timing_retire(s);
}

static void timing_key_create(void)
{
	timing_key_ok = pthread_key_create(&timing_key, timing_key_destructor) == 0;
}

static timing_slot_t *timing_claim(void)
{
	for (int i = 0; i < TIMING_SLOTS; i++) {
		int free_ = 0;
		if (atomic_load_explicit(&timing_slots[i].used, memory_order_relaxed) == 0 &&
		    atomic_compare_exchange_strong(&timing_slots[i].used, &free_, 1)) {
			pthread_once(&timing_key_once, timing_key_create);
			if (timing_key_ok)
				pthread_setspecific(timing_key, &timing_slots[i]);
			return timing_mine = &timing_slots[i];
		}
	}
	return timing_mine = &timing_shared;
}

static void timing_add(_Atomic uint64_t *c, uint64_t v, bool shared)
{
	if (shared)
		atomic_fetch_add_explicit(c, v, memory_order_relaxed);
	else
		atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
		                      memory_order_relaxed);
}

void hak_timing_record(hak_phase_t phase, uint64_t cycles)
{
	if (!hak_config.timing || (unsigned)phase >= HAK_PH_COUNT)
		return;
	timing_slot_t *s = timing_mine ? timing_mine : timing_claim();
	bool shared = s == &timing_shared;
	timing_add(&s->cycles[phase], cycles, shared);
	timing_add(&s->calls[phase], 1, shared);
}

void hak_timing_thread_exit(void)
{
	timing_slot_t *s = timing_mine;
	if (!s || s == &timing_shared)
		return;
	if (timing_key_ok)
		pthread_setspecific(timing_key, NULL); /* the destructor must not retire it again */
	timing_mine = NULL;
	timing_retire(s);
}

/* Sum of every slot, the overflow and the retired totals. */
static void timing_sum(uint64_t cycles[HAK_PH_COUNT], uint64_t calls[HAK_PH_COUNT], uint64_t *total)
{
	memset(cycles, 0, sizeof(uint64_t) * HAK_PH_COUNT);
	memset(calls, 0, sizeof(uint64_t) * HAK_PH_COUNT);
	for (int i = 0; i < TIMING_SLOTS + 2; i++) {
		timing_slot_t *s = i < TIMING_SLOTS    ? &timing_slots[i]
		                   : i == TIMING_SLOTS ? &timing_shared
		                                       : &timing_retired;
		for (int p = 0; p < HAK_PH_COUNT; p++) {
			cycles[p] += atomic_load_explicit(&s->cycles[p], memory_order_relaxed);
			calls[p] += atomic_load_explicit(&s->calls[p], memory_order_relaxed);
		}
	}
	*total = 0;
	for (int p = 0; p < HAK_PH_COUNT; p++)
		*total += cycles[p];
}

static void timing_write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

void hak_timing_report(void)
{
	if (!hak_config.timing)
		return;
	uint64_t cycles[HAK_PH_COUNT], calls[HAK_PH_COUNT], total;
	timing_sum(cycles, calls, &total);
	char line[256];
	int n = snprintf(
	    line, sizeof line,
	    "hakmem timing (TSC cycles; share of all phases' cycles)\n%-16s %16s %12s %12s %7s\n",
	    "phase", "cycles", "calls", "cycles/call", "share");
	timing_write_all(2, line, (size_t)n);
	for (int p = 0; p < HAK_PH_COUNT; p++) {
		if (calls[p] == 0)
			continue;
		n = snprintf(line, sizeof line, "%-16s %16llu %12llu %12.1f %6.1f%%\n",
		             timing_names[p], (unsigned long long)cycles[p],
		             (unsigned long long)calls[p], (double)cycles[p] / (double)calls[p],
		             total ? 100.0 * (double)cycles[p] / (double)total : 0.0);
		timing_write_all(2, line, (size_t)n);
	}
}

void hak_timing_write_json(FILE *f)
{
	if (!hak_config.timing) {
		fputs("\"timing\": {\"enabled\": false}", f);
		return;
	}
	uint64_t cycles[HAK_PH_COUNT], calls[HAK_PH_COUNT], total;
	timing_sum(cycles, calls, &total);
	fprintf(f,
	        "\"timing\": {\"enabled\": true, \"unit\": \"tsc_cycles\", \"share_of\": "
	        "\"all_phases\", "
	        "\"total_cycles\": %llu, \"phases\": {",
	        (unsigned long long)total);
	bool first = true;
	for (int p = 0; p < HAK_PH_COUNT; p++) {
		if (calls[p] == 0)
			continue;
		fprintf(f,
		        "%s\"%s\": {\"cycles\": %llu, \"calls\": %llu, \"cycles_per_call\": %.1f, "
		        "\"share\": %.6f}",
		        first ? "" : ", ", timing_names[p], (unsigned long long)cycles[p],
		        (unsigned long long)calls[p], (double)cycles[p] / (double)calls[p],
		        total ? (double)cycles[p] / (double)total : 0.0);
		first = false;
	}
	fputs("}}", f);
}
#endif /* HAKMEM_DEBUG_TIMING */
