/*
 * os.c - the only file that calls mmap, munmap, madvise and mincore.
 *
 * Owns: aligned mappings (with an address hint so most 2 MiB-aligned maps
 * cost one system call: os_floor), the byte counters and the peak, the timing brackets
 * of every system call. Does not own: when memory goes back (the tiers'
 * policies decide; see segment.c, l25.c, large.c).
 */
#define _GNU_SOURCE /* mremap */
#include "../hakmem_internal.h"

#include <sys/mman.h>
#include <time.h>

#ifndef MREMAP_FIXED
#define MREMAP_FIXED 2
#endif

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HAK_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) || defined(HAK_TSAN)
#include <sanitizer/tsan_interface.h>
/* The kernel orders every change of the address space, but ThreadSanitizer
 * does not intercept mremap: a range one thread vacated by moving its pages
 * away kept that thread's accesses in its shadow, and another thread's
 * first write after growing a mapping over it was reported as a race
 * (tests/test_os_move_order.c). Each mremap says so: it follows every
 * mremap before it and precedes every one after. */
static char os_remap_order;
static void os_remap_ordered(void)
{
	__tsan_acquire(&os_remap_order);
	__tsan_release(&os_remap_order);
}
#else
static inline void os_remap_ordered(void)
{
}
#endif

/* Start of the lowest recent 2 MiB-aligned map: the next one is tried just
 * below it. Below, not above: the kernel places maps top-down, so the
 * range above a map made by the slow path is usually taken already (an
 * upward hint failed on nearly every map, each failure costing four system
 * calls instead of one); the range below is where the kernel would go
 * next. Each map still has its 2 MiB slot to itself, so spans grow in
 * place as before. */
static _Atomic uintptr_t os_floor;

static void *os_map_aligned(size_t size, size_t align, size_t skew);

static void os_account_map(size_t size)
{
	HAK_STAT_ADD(bytes_mapped, size);
	HAK_STAT_INC(mmap_calls);
	int64_t now = atomic_fetch_add_explicit(&hak_stats.cur_mapped, (int64_t)size,
						memory_order_relaxed) +
		      (int64_t)size;
	uint64_t peak = atomic_load_explicit(&hak_stats.peak_mapped, memory_order_relaxed);
	while ((uint64_t)now > peak &&
	       !atomic_compare_exchange_weak_explicit(&hak_stats.peak_mapped, &peak, (uint64_t)now,
						      memory_order_relaxed, memory_order_relaxed))
		;
}

/* Changes of the address space (mmap, munmap, mremap) under way in the
 * process. Each holds the kernel's address-space lock for writing, and a
 * MADV_POPULATE_WRITE needs it for reading while page faults take only
 * their area's lock (kernel 6.18): a populate issued meanwhile sleeps until
 * the change is done, and the change waits for the populates already in.
 * With two threads to a core the core then idles (fragmentation at 4
 * threads: 28 and 47 sleeps in its build and new-mix steps against
 * mimalloc's 7 and 5, docs/PERFORMANCE.md). Populating is only a saving,
 * so hak_os_populate skips it while a change is under way, and the pages
 * fault when touched. */
static _Atomic int os_changes;

void hak_os_change_begin(void)
{
	atomic_fetch_add_explicit(&os_changes, 1, memory_order_relaxed);
}

void hak_os_change_end(void)
{
	atomic_fetch_sub_explicit(&os_changes, 1, memory_order_relaxed);
}

void hak_os_fork_child(void)
{
	atomic_store_explicit(&os_changes, 0, memory_order_relaxed);
}

static void *os_mmap(void *addr, size_t size, int extra_flags)
{
	hak_os_change_begin();
	HAK_TIME_BEGIN(t);
	void *p = mmap(addr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | extra_flags,
		       -1, 0);
	HAK_TIME_END(syscall_mmap, t);
	hak_os_change_end();
	return p == MAP_FAILED ? NULL : p;
}

static void os_munmap_raw(void *p, size_t size)
{
	if (size == 0)
		return;
	hak_os_change_begin();
	HAK_TIME_BEGIN(t);
	munmap(p, size);
	HAK_TIME_END(syscall_munmap, t);
	hak_os_change_end();
}

/* mremap, bracketed as a change of the address space and ordered for
 * ThreadSanitizer (os_remap_ordered). */
static void *os_mremap(void *p, size_t old, size_t new_size, int flags, void *dst)
{
	hak_os_change_begin();
	os_remap_ordered();
	void *q = mremap(p, old, new_size, flags, dst);
	hak_os_change_end();
	return q;
}

/* errno is the caller's: a call that succeeds after an internal failure
 * (a refused hint, a failed in-place growth) leaves it as it was. */
void *hak_os_map_aligned(size_t size, size_t align, size_t skew)
{
	int saved = errno;
	void *p = os_map_aligned(size, align, skew);
	if (p)
		errno = saved;
	return p;
}

static void *os_map_aligned(size_t size, size_t align, size_t skew)
{
	/* Fast: one mmap just below the floor, the range claimed first so that
	 * threads mapping at once do not collide. */
	if (skew == 0 && align == HAK_SEG_SIZE) {
		uintptr_t floor = atomic_load_explicit(&os_floor, memory_order_relaxed);
		while (floor > size + 2 * align) {
			uintptr_t h = (floor - size) & ~(uintptr_t)(align - 1);
			/* A map that would end where the floor's begins leaves a
			 * slot free between them: adjacent anonymous maps merge
			 * into one area, and the kernel extends an area only once
			 * the page faults in it have finished, so threads faulting
			 * in the heap held every map up (fragmentation at 2 and 4
			 * threads: mmap ~1 ms per call). */
			if (h + size == floor)
				h -= align;
			if (!atomic_compare_exchange_weak_explicit(&os_floor, &floor, h,
								   memory_order_relaxed,
								   memory_order_relaxed))
				continue;
			void *p = os_mmap((void *)h, size, MAP_FIXED_NOREPLACE);
			if (p == (void *)h) {
				os_account_map(size);
				return p;
			}
			if (p)
				os_munmap_raw(p, size); /* an old kernel took the hint as a hint */
			break;
		}
	}
	/* Slow: over-map by `align`, trim both ends. */
	size_t over = size + align;
	if (over < size)
		return NULL;
	uint8_t *raw = os_mmap(NULL, over, 0);
	if (!raw)
		return NULL;
	uintptr_t s = hak_align_up((uintptr_t)raw + skew, align) - skew;
	if (s < (uintptr_t)raw)
		s += align;
	os_munmap_raw(raw, s - (uintptr_t)raw);
	os_munmap_raw((void *)(s + size), (uintptr_t)raw + over - (s + size));
	if (skew == 0 && align == HAK_SEG_SIZE)
		atomic_store_explicit(&os_floor, s, memory_order_relaxed);
	os_account_map(size);
	return (void *)s;
}

void hak_os_unmap(void *p, size_t size)
{
	os_munmap_raw(p, size);
	HAK_STAT_ADD(bytes_unmapped, size);
	HAK_STAT_INC(munmap_calls);
	atomic_fetch_sub_explicit(&hak_stats.cur_mapped, (int64_t)size, memory_order_relaxed);
}

void hak_os_purge(void *p, size_t size)
{
	if (size == 0)
		return;
	HAK_TIME_BEGIN(t);
	madvise(p, size, MADV_DONTNEED);
	HAK_TIME_END(syscall_munmap, t);
	HAK_STAT_ADD(bytes_purged, size);
	HAK_STAT_INC(madvise_calls);
}

size_t hak_os_resident(const void *p, size_t size)
{
	unsigned char vec[64]; /* pages asked per call */
	size_t n = 0;
	for (size_t off = 0; off < size; off += sizeof vec * HAK_PAGE) {
		size_t len = size - off < sizeof vec * HAK_PAGE ? size - off : sizeof vec * HAK_PAGE;
		if (mincore((void *)((const uint8_t *)p + off), len, vec) != 0)
			return 0;
		for (size_t i = 0; i < len / HAK_PAGE; i++)
			n += vec[i] & 1;
	}
	return n * HAK_PAGE;
}

/* Set once the kernel refused MADV_POPULATE_WRITE as unknown (before 5.14):
 * no more tries. */
static _Atomic bool os_populate_off;

void hak_os_populate(void *p, size_t size)
{
	if (size == 0 || atomic_load_explicit(&os_populate_off, memory_order_relaxed))
		return;
	if (atomic_load_explicit(&os_changes, memory_order_relaxed)) {
		HAK_STAT_INC(populate_skips);
		return;
	}
	int saved = errno;
	HAK_TIME_BEGIN(t);
	int r = madvise(p, size, MADV_POPULATE_WRITE);
	HAK_TIME_END(syscall_populate, t);
	if (r != 0 && errno == EINVAL)
		atomic_store_explicit(&os_populate_off, true, memory_order_relaxed);
	errno = saved;
	HAK_STAT_ADD(bytes_populated, size);
	HAK_STAT_INC(populate_calls);
}

/* Move the pages of [src, src + len) to dst (an existing range of ours,
 * replaced). A range made of several kernel mappings (pages moved in
 * earlier) cannot move in one mremap (EFAULT): it is halved until each
 * part moves. Returns the bytes moved, a prefix of len (len on success). */
static size_t os_move_range(uint8_t *src, size_t len, uint8_t *dst)
{
	HAK_TIME_BEGIN(t);
	void *q = os_mremap(src, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	HAK_TIME_END(syscall_mmap, t);
	if (q == dst)
		return len;
	if (errno != EFAULT || len <= HAK_PAGE)
		return 0;
	size_t half = (len / 2) & ~(size_t)(HAK_PAGE - 1);
	size_t moved = os_move_range(src, half, dst);
	if (moved < half)
		return moved;
	return half + os_move_range(src + half, len - half, dst + half);
}

/* os_move_range, or on failure the moved prefix back and the target range
 * fresh again; 0 or -1. */
static int os_move_all(uint8_t *src, size_t len, uint8_t *dst)
{
	size_t moved = os_move_range(src, len, dst);
	if (moved == len)
		return 0;
	if (moved)
		(void)os_move_range(dst, moved, src);
	/* the kernel may have dropped target pages before failing */
	(void)os_mmap(dst, len, MAP_FIXED);
	return -1;
}

int hak_os_grow_in_place(void *p, size_t old, size_t new_size)
{
	int saved = errno;
	HAK_TIME_BEGIN(t);
	void *q = os_mremap(p, old, new_size, 0, NULL);
	if (q == MAP_FAILED && errno == EFAULT) {
		/* several mappings (pages moved in): add one after them */
		q = os_mmap((uint8_t *)p + old, new_size - old, MAP_FIXED_NOREPLACE);
		if (q == (uint8_t *)p + old)
			q = p;
		else if (q)
			os_munmap_raw(q, new_size - old); /* an old kernel took the hint as a hint */
	}
	HAK_TIME_END(syscall_mmap, t);
	errno = saved;
	if (q != p)
		return -1;
	os_account_map(new_size - old);
	return 0;
}

void *hak_os_move(void *p, size_t old, size_t new_size, size_t align)
{
	uint8_t *target = hak_os_map_aligned(new_size, align, 0); /* the new place, reserved */
	if (!target)
		return NULL;
	if (hak_os_move_into(p, old, target) != 0) {
		hak_os_unmap(target, new_size);
		return NULL;
	}
	return target;
}

int hak_os_move_into(void *src, size_t len, void *dst)
{
	int saved = errno;
	int r = os_move_all(src, len, dst);
	errno = saved;
	if (r != 0)
		return -1;
	/* [dst, dst + len) was counted already; the source range is gone */
	HAK_STAT_ADD(bytes_unmapped, len);
	atomic_fetch_sub_explicit(&hak_stats.cur_mapped, (int64_t)len, memory_order_relaxed);
	return 0;
}

void *hak_os_map_meta(size_t size)
{
	void *p = os_mmap(NULL, size, 0);
	if (p)
		os_account_map(size);
	return p;
}

uint64_t hak_os_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
