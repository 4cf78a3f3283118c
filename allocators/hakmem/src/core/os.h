/*
 * os.h - every system call hakmem makes on memory (mmap, munmap, madvise,
 * mincore), behind one small interface. Each call that maps, unmaps or
 * purges is counted (bytes mapped, unmapped, purged, peak mapped) and
 * bracketed for the timing profile.
 *
 * Contract: mapped memory is zero-filled (the kernel does it; callers never
 * clear fresh pages); on failure functions return NULL / -1 and never abort.
 * All functions are thread-safe and never allocate.
 */
#ifndef HAK_CORE_OS_H
#define HAK_CORE_OS_H

#include <stddef.h>
#include <stdint.h>

#define HAK_PAGE 4096u

/* Map `size` bytes (a multiple of HAK_PAGE) at an address S such that S is a
 * multiple of 2 MiB and (S + skew) is a multiple of `align` (a power of two
 * >= 2 MiB; skew < align). NULL when the kernel refuses. */
void *hak_os_map_aligned(size_t size, size_t align, size_t skew);
/* Unmap [p, p + size). */
void hak_os_unmap(void *p, size_t size);
/* Give the pages of [p, p + size) back to the OS, keeping the mapping; they
 * read as zero afterwards. p and size page-aligned. */
void hak_os_purge(void *p, size_t size);
/* Make the pages of [p, p + size) resident and written (zero-filled), in
 * one system call instead of one page fault per page (MADV_POPULATE_WRITE,
 * Linux 5.14). p and size page-aligned. Best effort: on a kernel without it,
 * short of memory, or while another call here changes the address space
 * (it would wait for that change: counted in populate_skips), nothing
 * happens and the pages fault when touched. */
void hak_os_populate(void *p, size_t size);
/* Bracket a change of the address space (every mmap, munmap and mremap
 * here does): hak_os_populate skips populating while one is under way. */
void hak_os_change_begin(void);
void hak_os_change_end(void);
/* In a fork's child: the changes other threads had under way are not. */
void hak_os_fork_child(void);
/* Bytes of [p, p + size) (page-aligned) resident now (mincore); 0 when
 * the range is not all mapped, so an unmapped range reads as never
 * written. */
size_t hak_os_resident(const void *p, size_t size);
/* Grow the mapping [p, p + old) to [p, p + new) where it is, if the address
 * space after it is free; 0 on success, -1 (nothing changed) otherwise. */
int hak_os_grow_in_place(void *p, size_t old, size_t new_size);
/* Move the mapping [p, p + old) with its pages (no copy) to a new place of
 * `new_size` bytes aligned as hak_os_map_aligned(new_size, align, 0); the
 * old range is gone afterwards. NULL (nothing changed) on failure. */
void *hak_os_move(void *p, size_t old, size_t new_size, size_t align);
/* Move the pages of [src, src + len) (page-aligned, a part of one of our
 * mappings) over [dst, dst + len) (a part of another of our mappings, whose
 * pages there are dropped): page tables move, resident pages stay resident,
 * nothing is copied. The source range is gone afterwards. 0 on success; -1
 * otherwise (the source is unchanged; the target range reads as fresh
 * pages). */
int hak_os_move_into(void *src, size_t len, void *dst);
/* Map `size` bytes of internal metadata (never returned). */
void *hak_os_map_meta(size_t size);
/* A coarse monotonic clock (a few ms resolution), milliseconds. */
uint64_t hak_os_now_ms(void);

static inline size_t hak_align_up(size_t x, size_t a)
{
	return (x + a - 1) & ~(a - 1);
}

/* The smallest power of two >= x, for 2 <= x <= 2^63. */
static inline size_t hak_pow2_up(size_t x)
{
	return (size_t)1 << (64 - __builtin_clzll(x - 1));
}

#endif /* HAK_CORE_OS_H */
