/*
 * account.c - where the small tiers' resident memory is: a diagnostic of
 * the debug and timing builds, for a debugger to call while every thread
 * is stopped (it reads other threads' heaps without locks), e.g.
 *
 *   LD_PRELOAD=build/lib/libhakmem_timing.so build/system/mid_mt --threads 4 &
 *   gdb -p $! -batch -ex 'thread 2' -ex 'call (void)hak_account_print(2)'
 *
 * (select a worker thread: gdb could not restore the registers of one
 * waiting in futex_wait on the project's machine, and the program
 * aborted). One row per heap and one per class: pages (slabs) holding a
 * class, of them empty (kept or shared), the KiB of them resident
 * (mincore), and how those are held: by blocks the program holds (live),
 * by blocks in the Mid caches, on the pages' free lists (listed), on their
 * remote frees; `other` is resident but holding no block (carved ahead,
 * slack). Free slabs with resident pages have a row per tier; the last
 * line is the process's VmRSS. It never allocates. docs/PERFORMANCE.md
 * (mid_mt at 4 threads) shows a reading.
 */
#include "../hakmem_internal.h"

#ifdef HAK_DEBUG_STATS
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct {
	uint64_t pages, empty;                           /* slabs */
	uint64_t resident, live, cached, listed, remote; /* bytes */
} account_row_t;

/* Blocks on a list threaded through them; at most `cap` (a list being
 * changed by a thread the debugger did not stop cannot loop it). */
static uint64_t list_length(const void *b, uint64_t cap)
{
	uint64_t n = 0;
	for (; b && n < cap; b = *(void *const *)b)
		n++;
	return n;
}

static void row_add(account_row_t *to, const account_row_t *r)
{
	to->pages += r->pages;
	to->empty += r->empty;
	to->resident += r->resident;
	to->live += r->live;
	to->cached += r->cached;
	to->listed += r->listed;
	to->remote += r->remote;
}

/* Slab s into its class's row of `rows`, or, free, into idle[kind]. */
static void account_slab(account_row_t *rows, account_row_t *idle, int kind, const hak_slab_t *s)
{
	size_t size = (size_t)1 << hak_slab_seg(s)->slab_shift;
	account_row_t r = {.pages = 1, .resident = hak_os_resident(hak_slab_start(s), size)};
	if (s->cls == HAK_CLS_NONE) {
		row_add(&idle[kind], &r);
		return;
	}
	uint64_t remote = atomic_load_explicit(&hak_slab_remote(s)->word, memory_order_relaxed) >> HAK_REMOTE_COUNT_SHIFT;
	uint64_t used = s->used - (s->where == SLAB_CUR); /* live, cached or remote */
	r.empty = used == 0;
	r.listed = list_length(s->free, size / s->block_size) * s->block_size;
	r.remote = remote * s->block_size;
	r.live = (used > remote ? used - remote : 0) * s->block_size;
	row_add(&rows[s->cls], &r);
}

static void out(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(int fd, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		(void)!write(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void out_header(int fd, const char *first)
{
	out(fd, "%-9s %6s %6s %9s %9s %9s %9s %9s %9s\n", first, "pages", "empty", "res_KiB",
	    "live", "cached", "listed", "remote", "other");
}

static void out_row(int fd, const char *name, const account_row_t *r)
{
	uint64_t held = r->live + r->cached + r->listed + r->remote;
	out(fd, "%-9s %6llu %6llu %9llu %9llu %9llu %9llu %9llu %9lld\n", name,
	    (unsigned long long)r->pages, (unsigned long long)r->empty,
	    (unsigned long long)(r->resident >> 10), (unsigned long long)(r->live >> 10),
	    (unsigned long long)(r->cached >> 10), (unsigned long long)(r->listed >> 10),
	    (unsigned long long)(r->remote >> 10),
	    ((long long)r->resident - (long long)held) / 1024);
}

/* The process's VmRSS, KiB, or 0. */
static long vm_rss_kb(void)
{
	char buf[4096];
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *p = strstr(buf, "VmRSS:");
	return p ? strtol(p + 6, NULL, 10) : 0;
}

/* Heap h's slabs into rows (per class) and idle (per tier); its Mid
 * caches' blocks move from live (they count in their pages' `used`) to
 * cached. */
static void account_heap(const hak_heap_t *h, account_row_t *rows, account_row_t *idle)
{
	for (int kind = 0; kind < HAK_SEG_KINDS; kind++)
		for (hak_seg_t *seg = h->segs[kind]; seg; seg = seg->next)
			for (unsigned i = 1; i < seg->nslabs; i++)
				account_slab(rows, idle, kind, &seg->slabs[i]);
	for (unsigned i = 0; i < HAK_MID_NCLS; i++) {
		const hak_slab_t *c = &h->mid_cache[i];
		uint64_t bytes = list_length(c->free, c->fresh_left) * c->block_size;
		account_row_t *r = &rows[HAK_TINY_NCLS + i];
		r->cached += bytes;
		r->live = r->live > bytes ? r->live - bytes : 0;
	}
}

void hak_account_print(int fd)
{
	account_row_t rows[HAK_SMALL_NCLS] = {0}, idle[HAK_SEG_KINDS] = {0}, total = {0};
	char name[16];
	out_header(fd, "heap");
	int n = 0;
	for (const hak_heap_t *h = hak_heaps_all(); h; h = h->next_all, n++) {
		account_row_t hrows[HAK_SMALL_NCLS] = {0}, hidle[HAK_SEG_KINDS] = {0}, ht = {0};
		account_heap(h, hrows, hidle);
		for (unsigned c = 0; c < HAK_SMALL_NCLS; c++) {
			row_add(&ht, &hrows[c]);
			row_add(&rows[c], &hrows[c]);
		}
		for (int k = 0; k < HAK_SEG_KINDS; k++)
			row_add(&idle[k], &hidle[k]);
		snprintf(name, sizeof(name), "h%d", n);
		out_row(fd, name, &ht);
	}
	out_header(fd, "class");
	for (unsigned c = 0; c < HAK_SMALL_NCLS; c++) {
		if (!rows[c].pages)
			continue;
		snprintf(name, sizeof(name), "%u", hak_class_size[c]);
		out_row(fd, name, &rows[c]);
		row_add(&total, &rows[c]);
	}
	out_row(fd, "classes", &total);
	out_row(fd, "idle_tiny", &idle[HAK_SEG_TINY]);
	out_row(fd, "idle_mid", &idle[HAK_SEG_MID]);
	out(fd, "VmRSS %ld KiB\n", vm_rss_kb());
}
#endif
