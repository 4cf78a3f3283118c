/*
 * hakmem_internal.h - the table of contents of hakmem: its core structures
 * and the prototypes shared between files, grouped by the file that defines
 * them.
 *
 * Glossary
 *   segment   a 2 MiB-aligned region whose first bytes hold a header;
 *             `free` finds it by masking the pointer ((p - 1) & ~(2 MiB - 1)).
 *             Kinds: SuperSlab of Tiny slabs (64 KiB), SuperSlab of Mid pages
 *             (256 KiB), or a span (one L2.5 or Large block).
 *   slab      part of a SuperSlab carved into blocks of one size class; the
 *             first 64 KiB unit of every SuperSlab holds the header, so each
 *             slab starts at a multiple of its own size.
 *   heap      a thread's slabs and SuperSlabs (metadata, mmap'ed, never
 *             freed). When a thread exits its heap is orphaned and the next
 *             new thread adopts it, blocks, remote frees and all.
 *   free list each slab's LIFO list of free blocks, threaded through them;
 *             a thread allocates each class from its current slab (`cur`,
 *             in initial-exec thread-local storage) and frees a Tiny block
 *             into the block's own slab, so only live blocks hold a Tiny
 *             slab. A local Mid free goes to the heap's Mid cache of the
 *             class (bounded; `cur` points to it while it holds a block),
 *             so only live or cached blocks hold a Mid page.
 *   remote    a block freed by a thread other than its heap's: its bit set
 *             in the slab's remote bits, counted in the slab's remote
 *             word (lock-free); the owner drains them into its free list.
 *
 * Build switches (make variables select them, mk/hakmem.mk):
 *   HAKMEM_BUILD_RELEASE     release: no diagnostic output on hot paths
 *   HAKMEM_DEBUG             debug: assertions and invariant checks
 *   HAKMEM_DEBUG_TIMING      timing build: per-phase cycle profile
 *   HAKMEM_FEATURE_EVOLUTION the learning tick (on in every default build)
 */
#ifndef HAKMEM_INTERNAL_H
#define HAKMEM_INTERNAL_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../include/hakmem.h"
#include "core/config.h"
#include "core/os.h"
#include "core/route.h"
#include "learn/learn.h"
#include "profile/timing.h"

#if defined(HAKMEM_BUILD_RELEASE) && defined(HAKMEM_DEBUG)
#error "HAKMEM_BUILD_RELEASE and HAKMEM_DEBUG exclude each other"
#endif

#define HAK_LIKELY(x) __builtin_expect(!!(x), 1)
#define HAK_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define HAK_NOINLINE __attribute__((noinline))
#define HAK_HIDDEN __attribute__((visibility("hidden")))
#define HAK_TLS __thread __attribute__((tls_model("initial-exec")))

/* Debug counters (stats.def's HAK_DEBUG_STAT rows): debug and timing builds. */
#if defined(HAKMEM_DEBUG) || defined(HAKMEM_DEBUG_TIMING)
#define HAK_DEBUG_STATS 1
#endif
enum {
#define HAK_STAT(name, meaning)
#define HAK_DEBUG_STAT(name, meaning) HAK_DBG_##name,
#include "core/stats.def"
#undef HAK_DEBUG_STAT
#undef HAK_STAT
	HAK_DBG_N
};
/* HAK_DEBUG_STAT_INC: the calling thread's copy (threads with a heap: their
 * counts are published on slow paths and at exit); HAK_DEBUG_STAT_ANY, on
 * paths any thread may take with or without a heap: the thread's copy when
 * it has a heap, else the global count. Counting every such call in the
 * global one put a contended atomic add on every span free and remote free
 * of the timing build: json's free took 154, 311 and 575 cycles at 1, 2
 * and 4 threads, while the release build's time per operation and thread
 * did not grow from 1 to 2 threads (docs/PERFORMANCE.md). */
#ifdef HAK_DEBUG_STATS
#define HAK_DEBUG_STAT_AT(i) (hak_tls.dbg[(i)]++)
#define HAK_DEBUG_STAT_ANY(name)                                                                   \
	(hak_tls.heap ? (void)HAK_DEBUG_STAT_AT(HAK_DBG_##name)                                     \
		      : (void)atomic_fetch_add_explicit(&hak_stats.dbg[HAK_DBG_##name], 1,          \
							memory_order_relaxed))
#else
#define HAK_DEBUG_STAT_AT(i) ((void)(i))
#define HAK_DEBUG_STAT_ANY(name) ((void)0)
#endif
#define HAK_DEBUG_STAT_INC(name) HAK_DEBUG_STAT_AT(HAK_DBG_##name)

#ifdef HAKMEM_DEBUG
void hak_assert_fail(const char *expr, const char *file, int line);
#define HAK_ASSERT(e) ((e) ? (void)0 : hak_assert_fail(#e, __FILE__, __LINE__))
#else
#define HAK_ASSERT(e) ((void)0)
#endif

/* ------------------------------------------------------------------------
 * Segments and slabs (tiny/segment.c)
 * ------------------------------------------------------------------------ */
#define HAK_SEG_SHIFT 21                          /* 2 MiB segments */
#define HAK_SEG_SIZE ((size_t)1 << HAK_SEG_SHIFT) /* bytes */
#define HAK_SEG_MASK (HAK_SEG_SIZE - 1)
#define HAK_UNIT_SHIFT 16                          /* 64 KiB units */
#define HAK_UNITS (HAK_SEG_SIZE >> HAK_UNIT_SHIFT) /* 32 per segment */
#define HAK_TINY_SLAB_SHIFT 16                     /* Tiny slab: 64 KiB */
#define HAK_MID_SLAB_SHIFT 18                      /* Mid page: 256 KiB */
#define HAK_MAX_SLABS HAK_UNITS
/* Bytes before the block in a span: its header, then room so that the block
 * starts 256 bytes into its page. Blocks starting in a page's first or last
 * 128 bytes ran page-strided loops (a byte per page written, then read) about
 * 10 % slower on the project's machine (vm: glibc's block lies elsewhere in
 * its page). */
#define HAK_SPAN_HDR 256

enum { HAK_SEG_TINY = 0, HAK_SEG_MID = 1, HAK_SEG_KINDS = 2, HAK_SEG_SPAN = 3 };
enum { SLAB_FREE_DIRTY, SLAB_FREE_CLEAN, SLAB_CUR, SLAB_PARTIAL, SLAB_FULL, SLAB_SHARED,
       SLAB_CACHE /* not a slab: a heap's Mid cache of one class (heap.c) */ };
#define HAK_CLS_NONE 0xff

typedef struct hak_heap hak_heap_t;
typedef struct hak_seg hak_seg_t;

typedef struct hak_slab {
	void *free;               /* free blocks, LIFO, threaded through them (owner only) */
	uint32_t used;            /* blocks live or freed remotely and not yet drained
				   * (+1 while SLAB_CUR) */
	uint32_t frees;           /* Tiny: local frees past a full lifo not yet added to
				   * hak_tls.frees (hak_slab_fold_frees; owner only) */
	uint16_t block_size;      /* bytes from one block to the next (hak_class_stride) */
	uint16_t fresh_left;      /* blocks never handed out, from `bump` on */
	uint8_t cls;              /* size class, HAK_CLS_NONE when the slab is free */
	uint8_t where;            /* SLAB_* state */
	uint8_t index;            /* in the segment */
	uint8_t full;             /* 1 while SLAB_FULL: the next local free goes slow */
	uint8_t *bump;            /* next never-used block */
	uint64_t spare;           /* unused (the remote word is with the bits it
				   * counts: hak_remote_t) */
	struct hak_slab *next;    /* partial list of its class, or a free-slab list */
	struct hak_slab *prev;    /* same list, backwards */
	union {
		uint64_t dirty_ms; /* free or SHARED: when its pages became idle and
				    * resident, ms (UINT64_MAX: purged) */
		hak_heap_t *owner; /* in use (has a class): the heap allocating from it */
	};
} hak_slab_t;

/* A slab's remote frees (heap.c, where they are explained): a bit per
 * block freed by another thread and not yet taken by the slab's owner, in
 * words of 64 blocks (enough for a Tiny slab of 16-byte blocks), grouped
 * 8 words to a bit of the remote word, which also holds whether the slab
 * is listed in its heap and, from bit HAK_REMOTE_COUNT_SHIFT on, how many
 * remote frees wait. The word shares a line with the first words: a
 * remote free of a Mid block (at most 204 to a page) touches one line. */
#define HAK_REMOTE_COUNT_SHIFT 48
#define HAK_RBITS_WORDS (((size_t)1 << HAK_TINY_SLAB_SHIFT) / 16 / 64)
#define HAK_RBITS_GROUP 8 /* words per bit of the remote word */
typedef struct __attribute__((aligned(64))) hak_remote {
	_Atomic uint64_t word;                  /* listed, groups, count */
	_Atomic uint64_t bits[HAK_RBITS_WORDS]; /* a bit per block */
	int32_t early; /* debug build: blocks the owner took from bits before
			* their free's count reached `word` */
} hak_remote_t;

_Static_assert(sizeof(hak_slab_t) == 64, "slab metadata is one cache line");
_Static_assert(HAK_SMALL_MAX <= UINT16_MAX && ((size_t)1 << HAK_TINY_SLAB_SHIFT) / 16 <= UINT16_MAX,
	       "a block size and a slab's block count fit 16 bits");

/* Bytes before a segment's first header line, left unused. Blocks of the
 * Mid classes that are multiples of 4 KiB start at page boundaries, so a
 * workload's first-line and one-byte-per-page touches all fall in the L1
 * set of page offset 0; a header line there was evicted on most frees
 * (cachegrind, mid_mt: 0.8 L1 misses per free on the `owner` load). */
#define HAK_SEG_LEAD 192

struct hak_seg {
	uint8_t lead[HAK_SEG_LEAD];     /* unused (HAK_SEG_LEAD) */
	/* --- the header's first cache line: all the free fast path reads, and a span's header --- */
	hak_heap_t *owner;              /* heap of a Tiny SuperSlab; HAK_MID_OWNER for a Mid
					 * one (its pages' owners are per slab); HAK_SPAN_OWNER
					 * for a span */
	uint8_t kind;                   /* HAK_SEG_* */
	uint8_t slab_shift;             /* log2 of the slab size, bytes */
	uint8_t nslabs;                 /* slabs, including the reserved first one */
	uint8_t fresh;                  /* span: 1 while the block is untouched mmap memory */
	int32_t l25_cls;                /* span: L2.5 class, -1 for Large */
	union {
		uint8_t unit_cls[HAK_UNITS]; /* SuperSlab: size class of each 64 KiB unit */
		struct {
			size_t map_size;  /* span: bytes mapped from the header on */
			size_t usable;    /* span: bytes the block may hold */
			void *span_next;  /* span: next in an L2.5 pool or thread cache */
			uint32_t user_off; /* span: bytes from the header to the block */
		};
	};
	union {
		hak_heap_t *home;       /* SuperSlab: heap whose bookkeeping holds it */
		struct {                /* span: its pages [lo, hi) (from the header) were
					 * fresh when its Large block was handed out, and
					 * tell at its free whether the program wrote them
					 * (large/populate.c); lo == hi: nothing to tell */
			uint32_t fresh_lo, fresh_hi;
		};
	};
	_Atomic uint32_t offset_slabs;  /* Mid SuperSlab: bit i once slab i handed out a
					 * pointer inside a block (aligned allocation) */
	uint8_t pad1[4];
	/* --- SuperSlab bookkeeping (owner only; not present in spans) --- */
	hak_seg_t *next, *prev;         /* in the heap's segment list / the cache */
	uint32_t used_slabs;            /* slabs not free */
	uint32_t pad2;
	hak_slab_t slabs[HAK_MAX_SLABS] __attribute__((aligned(64))); /* one cache line each */
	_Atomic(hak_slab_t *) rnext[HAK_MAX_SLABS]; /* per slab: next in its heap's remote_slabs */
	/* Per slab: its first pages in carve order (from its colour on,
	 * wrapping) known resident, in HAK_PAGE units, written by whoever
	 * holds the slab. A carve past them pre-faults pages in one system
	 * call (hak_slab_populate); a purge sets 0. */
	uint8_t populated[HAK_MAX_SLABS];
	hak_remote_t remote[HAK_MAX_SLABS]; /* per slab: its remote frees (heap.c) */
};

/* Owner of every span: never a heap and never NULL (a thread without a heap
 * has hak_tls.heap == NULL), so the free fast path never takes a span. */
#define HAK_SPAN_OWNER ((hak_heap_t *)(uintptr_t)1)
/* Owner of every Mid SuperSlab: never a heap either, so every Mid free takes
 * hak_free_slow, which compares the page's own owner (pages move between
 * heaps through the shared lists of mid.c; SuperSlabs do not). */
#define HAK_MID_OWNER ((hak_heap_t *)(uintptr_t)2)

_Static_assert(offsetof(hak_seg_t, owner) % 64 == 0 &&
		       offsetof(hak_seg_t, next) == offsetof(hak_seg_t, owner) + 64,
	       "free fast path reads one cache line");
_Static_assert(offsetof(hak_seg_t, slabs) % 64 == 0, "each slab's metadata is one cache line");
_Static_assert(offsetof(hak_seg_t, pad1) <= HAK_SPAN_HDR, "a span header fits before its block");
_Static_assert(sizeof(hak_seg_t) <= (1u << HAK_UNIT_SHIFT), "header fits the reserved unit");
_Static_assert(((size_t)1 << HAK_MID_SLAB_SHIFT) / HAK_PAGE <= UINT8_MAX, "a slab's pages fit populated[]");

static inline hak_seg_t *hak_seg_of(const void *p)
{
	return (hak_seg_t *)(((uintptr_t)p - 1) & ~(uintptr_t)HAK_SEG_MASK);
}

static inline hak_slab_t *hak_slab_of(hak_seg_t *seg, const void *p)
{
	return &seg->slabs[((uintptr_t)p - (uintptr_t)seg) >> seg->slab_shift];
}

/* Index of the 64 KiB unit of its SuperSlab that p lies in (seg->unit_cls). */
static inline unsigned hak_seg_unit(const void *p)
{
	return (unsigned)(((uintptr_t)p >> HAK_UNIT_SHIFT) & (HAK_UNITS - 1));
}

/* hak_slab_of for a block of a Tiny SuperSlab: the slab's record at
 * bits 16 - 20 of the address times 64 bytes, one shift and one mask. */
static inline hak_slab_t *hak_tiny_slab_of(hak_seg_t *seg, const void *p)
{
	_Static_assert(sizeof(hak_slab_t) == 64 && HAK_TINY_SLAB_SHIFT > 6, "record index by shift");
	uintptr_t off = ((uintptr_t)p >> (HAK_TINY_SLAB_SHIFT - 6)) &
			((((uintptr_t)1 << (HAK_SEG_SHIFT - HAK_TINY_SLAB_SHIFT)) - 1) << 6);
	return (hak_slab_t *)((uint8_t *)seg->slabs + off);
}

/* The SuperSlab holding slab s (slab metadata lives in its header). */
static inline hak_seg_t *hak_slab_seg(const hak_slab_t *s)
{
	return (hak_seg_t *)((uintptr_t)s & ~(uintptr_t)HAK_SEG_MASK);
}

static inline uint8_t *hak_slab_start(const hak_slab_t *s)
{
	return (uint8_t *)hak_slab_seg(s) + ((size_t)s->index << hak_slab_seg(s)->slab_shift);
}

/* Slab s's remote frees (by its record's place, not its contents). */
static inline hak_remote_t *hak_slab_remote(const hak_slab_t *s)
{
	hak_seg_t *seg = hak_slab_seg(s);
	return &seg->remote[s - seg->slabs];
}

#ifdef HAKMEM_DEBUG
/* Slab s, empty, waits for no remote free: no count, no bit, no block
 * taken ahead of its count (debug build). */
static inline bool hak_slab_remote_clear(const hak_slab_t *s)
{
	hak_remote_t *r = hak_slab_remote(s);
	for (size_t w = 0; w < HAK_RBITS_WORDS; w++)
		if (atomic_load(&r->bits[w]))
			return false;
	return atomic_load(&r->word) == 0 && r->early == 0;
}
#endif

/* Page colours of slabs: where in its slab a slab's carving begins.
 *
 * Every slab starts 64 or 256 KiB aligned, so the first blocks carved from
 * each, the ones a lifo hands out again and again, all lay on pages whose
 * numbers are multiples of 16, which share one set of the L1 data TLB (16
 * sets of 4 on the project's machine). cross_thread at 1 thread kept 21 such
 * pages in that set and missed the TLB on its walk over freed blocks; its
 * free loop took 14.4 cycles a block against tcmalloc's 11.6, and 11.3 once
 * carving began on a different page per slab (docs/PERFORMANCE.md). So a
 * slab's carving begins on page hak_slab_colour of it, runs to its end and
 * then wraps to its start: carve order. Consecutive slab indices lie 5
 * colours apart, so slabs taken one after another get distinct colours. */
#define HAK_SLAB_COLOURS 16
static inline size_t hak_slab_colour(const hak_slab_t *s)
{
	return (size_t)((s->index * 5u) % HAK_SLAB_COLOURS) * HAK_PAGE;
}

/* Offset from slab s's start of its first block in carve order: the first
 * at or after its colour. */
static inline size_t hak_slab_carve_first(const hak_slab_t *s)
{
	size_t bs = s->block_size;
	return (hak_slab_colour(s) + bs - 1) / bs * bs;
}

/* Carve order of the block at offset `off` of slab s: bytes from the
 * colour, counting around the slab's end. */
static inline size_t hak_slab_carve_order(const hak_slab_t *s, size_t off)
{
	size_t colour = hak_slab_colour(s);
	return off >= colour ? off - colour : off + ((size_t)1 << hak_slab_seg(s)->slab_shift) - colour;
}

/* The block of Mid SuperSlab seg that p points into: p itself unless its
 * slab handed out pointers inside blocks (aligned allocations, api.c). */
static inline void *hak_mid_block_of(hak_seg_t *seg, const void *p)
{
	uint32_t offset = atomic_load_explicit(&seg->offset_slabs, memory_order_relaxed);
	if (HAK_LIKELY(offset == 0))
		return (void *)p;
	hak_slab_t *s = hak_slab_of(seg, p);
	if (!(offset & (1u << s->index)))
		return (void *)p;
	uintptr_t start = (uintptr_t)hak_slab_start(s);
	return (void *)(start + ((uintptr_t)p - start) / s->block_size * s->block_size);
}

/* Doubly linked slab lists (partial lists, free-slab lists). */
static inline void hak_slab_list_push(hak_slab_t **head, hak_slab_t *s)
{
	s->prev = NULL;
	s->next = *head;
	if (*head)
		(*head)->prev = s;
	*head = s;
}

static inline void hak_slab_list_remove(hak_slab_t **head, hak_slab_t *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		*head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
}

/* A free slab of `kind` for class `cls` from heap h (its free slabs, then a
 * cached or new SuperSlab); NULL when out of memory. Owner only. */
hak_slab_t *hak_seg_slab_acquire(hak_heap_t *h, int kind, unsigned cls);
/* Slab s (used == 0, on no list, of a SuperSlab whose home is h) goes back
 * to its SuperSlab as free; an empty SuperSlab goes back to the cache or the
 * OS. Owner only. */
void hak_seg_slab_release(hak_heap_t *h, hak_slab_t *s);
/* Reset slab s (used == 0) to never-carved: no free list, bump at its first
 * block in carve order. */
void hak_slab_reset(hak_slab_t *s);
/* Slab s is about to have its first `end` bytes in carve order carved
 * (hak_slab_carve_order): make its pages up to there resident in one or,
 * across its end, two system calls if they are not yet (at least
 * HAKMEM_POPULATE_KB at once; src/tiny/segment.c). */
void hak_slab_populate(hak_slab_t *s, size_t end);
/* Slab s's pages went back to the OS: none is known resident. */
static inline void hak_slab_pages_purged(hak_slab_t *s)
{
	hak_slab_seg(s)->populated[s->index] = 0;
}
/* Give the pages of every empty slab of h, and of the shared cache's
 * SuperSlabs, back to the OS (thread exit). */
void hak_seg_purge_all(hak_heap_t *h);
/* Purge the empty slabs of h that stayed unused for HAKMEM_PURGE_DELAY_MS;
 * cheap when nothing is due (slow paths call it). Owner only. */
void hak_seg_purge_due(hak_heap_t *h);
/* Fork: hold / release / reset the empty-SuperSlab cache's lock. */
void hak_seg_cache_lock(void);
void hak_seg_cache_unlock(void);
void hak_seg_cache_fork_child(void);

/* ------------------------------------------------------------------------
 * Heaps, slow paths, remote frees (tiny/heap.c)
 * ------------------------------------------------------------------------ */
#define HAK_L25_NCLS 32 /* L2.5 classes: 40 KiB ... 8 MiB */

/* The empty slab every class starts with: no free blocks, so the fast path
 * needs no NULL check and goes slow on first use. Never written. */
extern hak_slab_t hak_empty_slab;

/* L2.5 and Large allocations and frees and whale cache hits, counted per
 * thread (one shared counter bumped by every thread would bounce its cache
 * line between cores on every operation): HAK_SPAN_COUNT. Published on the
 * L2.5 shared pool's path, every HAK_SPAN_PUBLISH_EVERY Large allocations,
 * at thread exit and when the statistics are written. */
#define HAK_SPAN_COUNTER_NAMES(X) X(l25_allocs) X(l25_frees) X(large_allocs) X(large_frees) X(whale_hits)
#define HAK_SPAN_PUBLISH_EVERY 64
enum {
#define HAK_SC_ENUM(name) HAK_SC_##name,
	HAK_SPAN_COUNTER_NAMES(HAK_SC_ENUM)
#undef HAK_SC_ENUM
	HAK_SPAN_COUNTS
};

/* Remote frees of one slab waiting to reach its remote word in one update
 * (heap.c: small_free_remote). */
typedef struct hak_remote_batch {
	hak_slab_t *slab; /* the slab, NULL when none wait */
	uint64_t mask;    /* bits of its bits[word] not yet set there */
	uint16_t word;    /* that word's index */
	uint16_t groups;  /* the remote word's group bits of the words set since the
			   * batch began */
	uint32_t n;       /* blocks */
	uint64_t pad;
} hak_remote_batch_t;
_Static_assert(64 % sizeof(hak_remote_batch_t) == 0, "a remote batch within one cache line");

/* On a cache line of its own, like its batches, so that its fields' lines
 * do not depend on where the linker put it (nor on the fields before). */
typedef struct __attribute__((aligned(64))) hak_tls {
	hak_slab_t *cur[HAK_SMALL_NCLS]; /* slab allocating each class (or hak_empty_slab) */
	uint64_t allocs[HAK_SMALL_NCLS]; /* allocations per class, not yet published, but
					  * for a Tiny lifo's, derived when published */
	uint64_t frees[HAK_SMALL_NCLS];  /* local frees per class, not yet published (Tiny:
					  * the pushes onto its lifo) */
	void *lifo[HAK_SMALL_NCLS];      /* Tiny: blocks this thread freed into its own heap,
					  * per class, newest first (threaded through them;
					  * still counted live in their slabs' `used`); Mid
					  * entries stay NULL */
	uint32_t lifo_room[HAK_TINY_NCLS]; /* HAK_TINY_LIFO_MAX minus the blocks on each Tiny
					    * lifo; 1: full, the class's frees go to their
					    * slabs (set when the thread gets its heap) */
	uint32_t lifo_held[HAK_TINY_NCLS]; /* blocks on each Tiny lifo when its counts were
					    * last published (the lifo's allocations are
					    * derived then: counters_publish_one) */
	uint64_t slab_frees[HAK_TINY_NCLS]; /* Tiny: local frees past a full lifo folded from
					     * the slabs (hak_slab_fold_frees), not yet
					     * published; `frees` holds the lifo's pushes */
	hak_heap_t *heap;                /* this thread's heap, NULL before first use */
	int32_t tick;                    /* allocations until the next learning tick */
	uint8_t state;                   /* HAK_TLS_* */
	uint8_t exit_hook;               /* 1 once the thread-exit destructor is registered */
	uint32_t remote_frees[2];        /* Tiny, Mid remote frees, not yet published */
	uint8_t l25_count[HAK_L25_NCLS]; /* blocks in l25_head, per class */
	void *l25_head[HAK_L25_NCLS];    /* thread-cached L2.5 spans, per class */
	size_t l25_bytes;                /* bytes mapped by the thread-cached spans */
	uint64_t span_counts[HAK_SPAN_COUNTS]; /* L2.5/Large counts, not yet published */
	uint64_t remote_waiting;        /* bit per class whose remote_batch holds blocks */
	hak_remote_batch_t remote_batch[HAK_SMALL_NCLS] __attribute__((aligned(64))); /* per class:
							  * remote frees of one slab, pushed together; a
							  * batch within one cache line */
#ifdef HAK_DEBUG_STATS
	uint64_t dbg[HAK_DBG_N];         /* debug counters, not yet published */
#endif
} hak_tls_t;

enum { HAK_TLS_NEW = 0, HAK_TLS_LIVE = 1, HAK_TLS_EXITED = 2 };

extern HAK_TLS hak_tls_t hak_tls;

struct hak_heap {
	hak_tls_t *tls;                     /* thread using it; NULL when orphaned */
	hak_heap_t *next_all;               /* list of every heap (append only) */
	hak_heap_t *next_orphan;            /* in the orphan list */
	_Atomic(hak_slab_t *) remote_slabs; /* slabs with remote frees to drain */
	hak_slab_t *cur[HAK_SMALL_NCLS];    /* slab allocating each class, or NULL */
	hak_slab_t *partial[HAK_SMALL_NCLS]; /* slabs with free blocks, per class, newest first */
	hak_slab_t *partial_tail[HAK_SMALL_NCLS]; /* the oldest of each partial list */
	uint32_t kept_blocks[HAK_SMALL_NCLS]; /* Mid: blocks of empty pages kept on partial */
	hak_slab_t *free_dirty[HAK_SEG_KINDS]; /* free slabs with resident pages */
	hak_slab_t *free_clean[HAK_SEG_KINDS]; /* free slabs, pages purged */
	uint32_t ndirty[HAK_SEG_KINDS];     /* slabs on free_dirty */
	uint64_t purge_check_ms;            /* next time dirty slabs are looked at, ms */
	uint64_t release_ms;                /* when the slabs released now went idle (0: now), ms */
	hak_seg_t *segs[HAK_SEG_KINDS];     /* SuperSlabs of this heap */
	uint64_t mid_active_ms;             /* last Mid refill or cache flush, ms; 0 after
					     * the caches were trimmed as idle (heap.c) */
	/* Mid cache per class: the blocks the thread freed last, LIFO, from
	 * any of its pages (free: the block list; used: HAK_MID_CACHE_BASE
	 * minus the blocks held; fresh_left: the most it holds, blocks).
	 * While it holds a block, hak_tls.cur of the class points to it, so
	 * the allocation fast path pops it; its blocks still count in their
	 * pages' `used` until they go back (heap.c). */
	hak_slab_t mid_cache[HAK_MID_NCLS];
};

#define HAK_MID_CACHE_BASE (1u << 30) /* a Mid cache's `used` when it holds no block */

/* Partial lists: a slab joins at the head and refills take the tail, the
 * slab that became partial longest ago and so gathered the most frees
 * (taking the newest, which has just had its first free, switched slabs
 * every ~2 allocations on larson). Owner only. */
static inline void hak_partial_push(hak_heap_t *h, unsigned cls, hak_slab_t *s)
{
	if (!h->partial[cls])
		h->partial_tail[cls] = s;
	hak_slab_list_push(&h->partial[cls], s);
}

/* Slab s joins the partial list of cls at its tail, taken last (a Mid
 * page that waits with never-carved blocks, heap.c). Owner only. */
static inline void hak_partial_append(hak_heap_t *h, unsigned cls, hak_slab_t *s)
{
	hak_slab_t *t = h->partial_tail[cls];
	if (!t) {
		hak_partial_push(h, cls, s);
		return;
	}
	s->prev = t;
	s->next = NULL;
	t->next = s;
	h->partial_tail[cls] = s;
}

static inline void hak_partial_remove(hak_heap_t *h, unsigned cls, hak_slab_t *s)
{
	if (h->partial_tail[cls] == s)
		h->partial_tail[cls] = s->prev;
	hak_slab_list_remove(&h->partial[cls], s);
}

/* Tiny lifos (hak_tls.lifo): a local Tiny free pushes the block onto its
 * class's lifo and the allocation pops from there first, so the block freed
 * last is the next one handed out, whichever slab holds it (larson, mixed:
 * its lines are still cached, where a slab's own list handed out blocks
 * freed long ago; L2 misses per larson op 4.01 -> 2.70, PERFORMANCE.md).
 * A lifo holds fewer than HAK_TINY_LIFO_MAX blocks; the blocks on it count
 * live in their slabs, so they hold them: the purge check empties the
 * lifos (segment.c), and so does thread exit. */
#define HAK_TINY_LIFO_MAX 256
/* Send every block of Tiny class cls's lifo back to its slab (thread exit,
 * the purge check, tests). Owner only. */
void hak_tiny_lifo_flush(unsigned cls);
/* 1 while some Tiny lifo of the calling thread holds a block. */
bool hak_tiny_lifos_held(void);
/* Empty every Tiny lifo of the calling thread (heap h); the slabs this
 * empties count as idle since `since_ms` (the purge check before: a lifo
 * holds blocks only as long as its class's frees outnumber its
 * allocations). Owner only. */
void hak_tiny_lifos_flush_idle(hak_heap_t *h, uint64_t since_ms);
/* Allocation slow path of small class cls (its slab has no free block):
 * drain remote frees, carve fresh blocks or switch slabs, pop. NULL with
 * errno ENOMEM when memory is exhausted. */
void *hak_small_alloc_slow(unsigned cls, size_t size);
/* Free slow path: p is not a block of the calling thread's heap. */
void hak_free_slow(void *p);
/* A local free left slab s empty, or was the first into a full slab. */
void hak_slab_local_slow(hak_slab_t *s);
/* Add the frees slab s counted to the calling thread's class counts. The
 * free fast path past a full lifo counts in the slab, whose line it writes
 * anyway: a count in TLS indexed by the class waits for the slab's line to
 * know its address (1.5 ns a free on fragmentation's random frees). Owner
 * only: the slow paths that touch s, its release, hak_counters_publish. */
static inline void hak_slab_fold_frees(hak_slab_t *s)
{
	if (s->frees) {
		hak_tls.slab_frees[s->cls] += s->frees;
		s->frees = 0;
	}
}
/* Block p goes back onto slab s of the calling thread's heap (the free
 * fast path, and blocks a Mid cache returns). */
static inline void hak_slab_push_local(hak_slab_t *s, void *p)
{
	*(void **)p = s->free;
	s->free = p;
	if (HAK_UNLIKELY(--s->used == 0 || s->full))
		hak_slab_local_slow(s);
}
/* The calling thread's heap, created or adopted on first use; NULL only when
 * metadata cannot be mapped. */
hak_heap_t *hak_heap_get(void);
/* A thread on an L2.5 or Large path gets its heap state, if it has none:
 * from then on its span counts are per thread (HAK_SPAN_COUNT) and its
 * exit flushes them and its cached spans. */
static inline void hak_span_thread_enter(void)
{
	if (HAK_UNLIKELY(hak_tls.state == HAK_TLS_NEW))
		(void)hak_heap_get();
}
/* Thread exit: drain remote frees, orphan the heap. */
void hak_thread_exit(void);
/* Publish the calling thread's per-class counters (slow paths, exit). */
void hak_counters_publish(void);
/* Publish the calling thread's L2.5/Large counts (their slow paths). */
void hak_span_counts_publish(void);
/* Fork: the child resets the heap registry lock. */
void hak_heaps_lock(void);
void hak_heaps_unlock(void);
void hak_heaps_fork_child(void);

/* ------------------------------------------------------------------------
 * Mid tier specifics (mid/mid.c)
 * ------------------------------------------------------------------------ */
/* Current CAP of Mid class cls (index among all small classes): blocks of
 * empty pages a thread keeps for the class before pages are released. */
unsigned hak_mid_cap_of(unsigned cls);
/* Fresh blocks to carve per Mid refill of class cls. */
unsigned hak_mid_refill_blocks(unsigned cls);
/* Pop a block of a larger class within W_MAX of `size` from the thread's
 * current pages, or NULL. */
void *hak_mid_wmax_pop(unsigned cls, size_t size);
/* Mid class cls missed (refill); counts for hak_mid_counters. */
void hak_mid_note_miss(unsigned cls);
void hak_mid_init(void);

/* Shared lists of empty Mid pages (mid/shared.c): per class and shard, a few
 * lock-free slots, so a page one thread no longer needs serves another
 * without going back to the OS. */
/* Put empty Mid page s (used == 0, on no list, no remote free) of heap h
 * on a shared list of its class; false when every slot is taken. */
bool hak_mid_shared_put(hak_heap_t *h, hak_slab_t *s);
/* Take up to `max` pages of class cls (h's shard first, then the others)
 * into out[], owned by h from then on; returns how many. */
unsigned hak_mid_shared_take(hak_heap_t *h, unsigned cls, hak_slab_t **out, unsigned max);
/* Purge the shared pages idle for `delay` ms (their pages go back to the OS,
 * the page stays listed; one whose slot was taken meanwhile joins h). */
void hak_mid_shared_purge_due(hak_heap_t *h, uint64_t now, uint64_t delay);
/* 1 while some shared page holds resident memory. */
bool hak_mid_shared_dirty(void);

/* ------------------------------------------------------------------------
 * Spans: L2.5 pool (l25/l25.c) and Large with the whale cache (large/large.c)
 * ------------------------------------------------------------------------ */
/* Class of a request of 32 KiB < size <= 8 MiB, and a class's block size. */
unsigned hak_l25_class(size_t size);
size_t hak_l25_class_size(unsigned c);
void *hak_l25_alloc(size_t size);
/* For realloc growth: a block of size's class in a cached whale mapping
 * of at least `spare` bytes after its header (spare >= the class size; a
 * larger cached mapping is taken up to the boundary of hak_whale_get_room,
 * the rest stays cached), so that hak_span_realloc can
 * grow it to the mapping's end without moving it or faulting pages in (the
 * mapping's pages are resident). A whale span from
 * then on. NULL when the whale cache holds nothing: the caller allocates
 * as usual. Thread-safe. */
void *hak_l25_alloc_spare(size_t size, size_t spare);
void hak_l25_free(hak_seg_t *span);
void hak_l25_thread_flush(void);
void hak_l25_lock(void);
void hak_l25_unlock(void);
void hak_l25_fork_child(void);

/* A Large block of `size` bytes aligned to `align` (<= 16 for none). */
void *hak_large_alloc(size_t size, size_t align);
void hak_large_free(hak_seg_t *span);
/* Bytes to map for a span of n bytes (header included): pages, and from
 * 2 MiB on steps of 1/8 of the power of two below (whale reuse). */
size_t hak_large_map_size(size_t n);
/* Whale cache (Large spans and L2.5 spans of classes from 1 MiB on: "whale
 * spans"): a cached mapping made to hold `need` bytes (header included; a
 * larger one may keep up to 3 MiB more, a grown one maps `need`), counted
 * live from now on; NULL when nothing is cached (the caller maps anew and
 * calls hak_whale_note_live). Thread-safe. */
hak_seg_t *hak_whale_get(size_t need);
/* hak_whale_get for room to grow in: a cached mapping of `need` bytes or
 * more (the smallest such; a smaller one grown to `need`), taken as it is
 * up to the 4 MiB boundary above `need`, or the large threshold's 2 MiB
 * boundary when higher (its tail from there on stays cached).
 * Thread-safe. */
hak_seg_t *hak_whale_get_room(size_t need);
/* A whale span is freed: cache it within the bound (live + cached <= peak
 * of live) or unmap it; cached bytes beyond live + HAKMEM_WHALE_CACHE_MB go
 * back after HAKMEM_PURGE_DELAY_MS. Thread-safe. */
void hak_whale_put(hak_seg_t *span);
/* Is span (in use) a whale span? */
bool hak_whale_span(const hak_seg_t *span);
/* Whale spans in use changed by `delta` bytes mapped (a new mapping, a
 * realloc'ed one); tracks the peak. Thread-safe. */
void hak_whale_note_live(int64_t delta);
/* Bytes mapped by whale spans in use, by cached ones, and the peak of the
 * first (tests and statistics; a racy snapshot). */
void hak_whale_usage(int64_t *live, int64_t *cached, int64_t *peak);
void hak_large_lock(void);
void hak_large_unlock(void);
void hak_large_fork_child(void);

/* Large blocks with fresh pages (large/populate.c). A Large block of
 * `span` was handed out whose bytes [lo, hi) from the header (page-aligned)
 * are fresh: make them resident at once if the program has been writing
 * its Large blocks whole, else leave them to fault and learn from them at
 * the block's free. Call after hak_span_set_block. */
void hak_large_fresh(hak_seg_t *span, size_t lo, size_t hi);
/* The Large block of `span` is being freed (before the whale cache takes
 * its pages): what its fresh pages tell, if any. */
void hak_large_fresh_free(hak_seg_t *span);
/* The calling thread is about to map, unmap or move a span's pages. */
void hak_large_note_mapper(void);

/* Map a span: a header at a 2 MiB boundary and a block of `size` bytes at
 * offset `off`; `align`/`skew` as hak_os_map_aligned. */
hak_seg_t *hak_span_map(size_t size, size_t off, size_t align, size_t skew);
void hak_span_unmap(hak_seg_t *span);
/* Describe span's block: at `off` bytes from the header, of L2.5 class
 * `cls` (-1: Large), `usable` bytes; `fresh`: its pages were never used. */
static inline void hak_span_set_block(hak_seg_t *span, size_t off, int32_t cls, size_t usable,
				      bool fresh)
{
	span->user_off = (uint32_t)off;
	span->l25_cls = cls;
	span->usable = usable;
	span->fresh = fresh;
	span->fresh_lo = span->fresh_hi = 0;
}
/* Grow the block of `span` (user_off HAK_SPAN_HDR) to hold `size` bytes without
 * copying: an L2.5 block within its mapping (spare room, no system call);
 * a Large one, or an L2.5 block of a whale mapping becoming Large, in
 * place, else by moving its pages (mremap). The new block
 * pointer, or NULL (span unchanged) when none of these works. */
void *hak_span_realloc(hak_seg_t *span, size_t size);

/* ------------------------------------------------------------------------
 * Statistics (core/stats.c)
 * ------------------------------------------------------------------------ */
typedef struct hak_stats {
#define HAK_STAT(name, meaning) _Atomic uint64_t name;
#include "core/stats.def"
#undef HAK_STAT
	_Atomic uint64_t class_allocs[HAK_SMALL_NCLS]; /* published per-class allocations */
	_Atomic uint64_t class_frees[HAK_SMALL_NCLS];  /* published per-class local frees */
	_Atomic uint64_t peak_mapped;                  /* bytes, high-water mark */
	_Atomic int64_t cur_mapped;                    /* bytes mapped now */
	_Atomic uint64_t dbg[HAK_DBG_N];               /* published debug counters */
} hak_stats_t;

extern hak_stats_t hak_stats;

#define HAK_STAT_ADD(name, n) atomic_fetch_add_explicit(&hak_stats.name, (n), memory_order_relaxed)
#define HAK_STAT_INC(name) HAK_STAT_ADD(name, 1)

/* Count one L2.5/Large allocation or free (name: a HAK_SPAN_COUNTER_NAMES
 * row): in the thread's copy while it has a heap (published with the class
 * counters, at its exit at the latest), else in the global counter. */
#define HAK_SPAN_COUNT(name)                                                                       \
	(HAK_LIKELY(hak_tls.state == HAK_TLS_LIVE) ? (void)hak_tls.span_counts[HAK_SC_##name]++     \
						   : (void)HAK_STAT_INC(name))

/* Write the statistics file to `path` (also the HAKMEM_STATS_FILE writer). */
int hak_stats_write_file(const char *path);
/* At exit: the statistics file and the timing report, as configured. */
void hak_stats_at_exit(void);

/* ------------------------------------------------------------------------
 * Start-up, fork, crash messages (core/init.c)
 * ------------------------------------------------------------------------ */
extern _Atomic int hak_init_state; /* 0 none, 1 running, 2 done */
void hak_init_slow(void);
static inline void hak_init(void)
{
	if (HAK_UNLIKELY(atomic_load_explicit(&hak_init_state, memory_order_acquire) != 2))
		hak_init_slow();
}
/* Register the calling thread's exit destructor (first use of a heap). */
void hak_thread_register(hak_heap_t *h);
#ifdef HAK_DEBUG_STATS
/* Every heap ever made, newest first (linked by next_all; append only). */
hak_heap_t *hak_heaps_all(void);
/* Print where the small tiers' resident memory is, per heap and class, to
 * fd (profile/account.c; for a debugger, with every thread stopped). */
void hak_account_print(int fd);
#endif

/* A tiny lock for rare paths (no allocation, fork-safe by reset). */
typedef struct {
	_Atomic int v;
} hak_lock_t;
void hak_lock_slow(hak_lock_t *l);
static inline void hak_lock(hak_lock_t *l)
{
	int z = 0;
	if (!atomic_compare_exchange_weak_explicit(&l->v, &z, 1, memory_order_acquire,
						   memory_order_relaxed))
		hak_lock_slow(l);
}
static inline void hak_unlock(hak_lock_t *l)
{
	atomic_store_explicit(&l->v, 0, memory_order_release);
}

/* Learning tick countdown: `n` allocations were served by a slow path. */
static inline void hak_tick(uint32_t n)
{
#ifdef HAKMEM_FEATURE_EVOLUTION
	hak_tls.tick -= (int32_t)n;
	if (HAK_UNLIKELY(hak_tls.tick <= 0)) {
		hak_tls.tick = HAK_LEARN_TICK_ALLOCS;
		HAK_TIME_BEGIN(t);
		hak_learn_tick();
		HAK_TIME_END(learn_tick, t);
	}
#else
	(void)n;
#endif
}

/* ------------------------------------------------------------------------
 * The allocation and free fast paths (used by core/api.c)
 * ------------------------------------------------------------------------ */
void *hak_big_alloc(size_t size, uintptr_t site);

/* Budget (objdump -d of malloc, release .so): size compare, table load, TLS
 * lifo head load and test, next load, store, lifo count update: 16
 * instructions to `ret` on a lifo hit, no allocation count (derived when
 * published, heap.c: counters_publish_one; one less in the static library,
 * which needs no GOT load for the TLS offset); the current slab's
 * list (head load and test, next load, store, used and counter increments)
 * when the lifo is empty; no locks, atomics or calls. */
static inline void *hak_alloc_inline(size_t size, uintptr_t site)
{
	if (HAK_LIKELY(size <= HAK_SMALL_MAX)) {
#ifdef HAK_DEBUG_STATS
		if (size == 0)
			HAK_DEBUG_STAT_INC(malloc_zero);
#endif
		unsigned cls = hak_small_class(size);
		void *p = hak_tls.lifo[cls];
		if (HAK_LIKELY(p != NULL)) {
			/* not counted here: the lifo's pushes less its growth
			 * give its allocations when the counts are published,
			 * one read-modify-write less per allocation
			 * (cross_thread at 1 thread, tiny_hot; docs/PERFORMANCE.md) */
			hak_tls.lifo[cls] = *(void **)p;
			hak_tls.lifo_room[cls]++;
			return p;
		}
		hak_slab_t *s = hak_tls.cur[cls];
		p = s->free;
		if (HAK_LIKELY(p != NULL)) {
			s->free = *(void **)p;
			s->used++;
			hak_tls.allocs[cls]++;
			return p;
		}
		return hak_small_alloc_slow(cls, size);
	}
	return hak_big_alloc(size, site);
}

/* Budget (objdump -d of free, release .so): NULL test, mask, owner load and
 * compare with the TLS heap, the class from the same header line by shift
 * and mask, bound test, lifo count, counter, push onto the class's lifo: 24
 * instructions to `ret` on a local free; a full lifo's free pushes onto the
 * slab inline and counts in the slab, writing no TLS. The block stays
 * counted live in its slab while on the lifo, so a lifo push touches
 * neither the slab's record nor its list. */
static inline void hak_free_inline(void *p)
{
	if (HAK_UNLIKELY(p == NULL)) {
		HAK_DEBUG_STAT_ANY(free_null);
		return;
	}
	hak_seg_t *seg = hak_seg_of(p);
	if (HAK_LIKELY(seg->owner == hak_tls.heap)) {
		HAK_DEBUG_STAT_INC(free_local_fast);
		/* owner is a heap only in Tiny SuperSlabs, whose slabs are one
		 * unit each: the class is read from the line the owner came
		 * from, not from the slab's record, one more line per class in
		 * use (cross_thread's chains of 20 classes; docs/PERFORMANCE.md) */
		_Static_assert(HAK_TINY_SLAB_SHIFT == HAK_UNIT_SHIFT, "a Tiny slab is one unit");
		unsigned cls = seg->unit_cls[hak_seg_unit(p)];
		HAK_ASSERT(cls == hak_tiny_slab_of(seg, p)->cls);
		if (HAK_LIKELY(hak_tls.lifo_room[cls] > 1)) {
			hak_tls.lifo_room[cls]--;
			hak_tls.frees[cls]++;
			*(void **)p = hak_tls.lifo[cls];
			hak_tls.lifo[cls] = p;
			return;
		}
		/* lifo full: the block goes to its slab instead, inline, so
		 * that a burst of frees past the bound (fragmentation frees
		 * 90 % of its blocks at random) costs what it cost without the
		 * lifo, not a call per free; and with no store to TLS, whose
		 * address depends on the class loaded from the slab's line
		 * (the bound's count-down and the TLS free count cost those
		 * frees 4 and 1.5 ns each: tools/free_burst.c, 28.7 -> 23.9
		 * ns a free, mimalloc 23.0; docs/PERFORMANCE.md) */
		hak_slab_t *s = hak_tiny_slab_of(seg, p);
		s->frees++;
		hak_slab_push_local(s, p);
		return;
	}
	hak_free_slow(p);
}

#endif /* HAKMEM_INTERNAL_H */
