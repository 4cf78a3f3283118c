/*
 * timing.h - the per-phase cycle profile (contract between the tiers and the
 * profile). The tiers bracket each phase with HAK_TIME_BEGIN / HAK_TIME_END;
 * in the timing build (HAKMEM_DEBUG_TIMING defined) that reads the TSC and
 * accumulates cycles and calls per phase, and HAKMEM_TIMING=1 prints the table
 * at exit and writes it into the statistics file. In every other build both
 * macros compile to nothing, so hot code carries no #if.
 *
 * Phases are one X-macro list: adding a phase is a new row.
 */
#ifndef HAK_PROFILE_TIMING_H
#define HAK_PROFILE_TIMING_H

#include <stdint.h>

#define HAK_PHASES(X)                                                          \
	X(hak_alloc)      /* whole allocation, every tier */                      \
	X(hak_free)       /* whole free, every tier */                            \
	X(tiny_refill)    /* Tiny: refill of a thread's class list */             \
	X(mid_refill)     /* Mid: refill of a thread's page ring */               \
	X(l25_refill)     /* L2.5: refill of a pooled class */                    \
	X(large_alloc)    /* Large: mapping a block (whale miss) */               \
	X(syscall_mmap)   /* every mmap hakmem makes */                           \
	X(syscall_munmap) /* every munmap / madvise(DONTNEED) */                  \
	X(syscall_populate) /* every madvise(POPULATE_WRITE) */                   \
	X(whale_get)      /* BigCache lookup on Large allocation */               \
	X(whale_put)      /* BigCache insert on Large free */                     \
	X(learn_tick)     /* the learning layer's periodic tick */

typedef enum {
#define HAK_PHASE_ENUM(name) HAK_PH_##name,
	HAK_PHASES(HAK_PHASE_ENUM)
#undef HAK_PHASE_ENUM
	HAK_PH_COUNT
} hak_phase_t;

#ifdef HAKMEM_DEBUG_TIMING
#include <stdio.h>

/* Write `"timing": {...}` (cycles, calls, share per phase) to f; called once by
 * the statistics writer. */
void hak_timing_write_json(FILE *f);
/* Print the per-phase table to stderr (at exit, when HAKMEM_TIMING=1). */
void hak_timing_report(void);

/* Fold the calling thread's accumulators into the totals and free its slot
 * now. Optional: the profile's own pthread key does it when a thread ends. */
void hak_timing_thread_exit(void);

/* Record `cycles` spent in `phase` by the calling thread. Thread-safe; no
 * lock and no lock-prefixed instruction (the thread's own slot). Does
 * nothing unless HAKMEM_TIMING=1. */
void hak_timing_record(hak_phase_t phase, uint64_t cycles);

static inline uint64_t hak_timing_now(void)
{
	return __builtin_ia32_rdtsc();
}
#define HAK_TIME_BEGIN(var) uint64_t var = hak_timing_now()
#define HAK_TIME_END(phase, var) hak_timing_record(HAK_PH_##phase, hak_timing_now() - (var))
#else
#define HAK_TIME_BEGIN(var) ((void)0)
#define HAK_TIME_END(phase, var) ((void)0)
#endif

#endif /* HAK_PROFILE_TIMING_H */
