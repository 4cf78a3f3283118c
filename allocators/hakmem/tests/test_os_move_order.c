/*
 * test_os_move_order.c - address space that one thread vacated by moving
 * its pages away (mremap) and another thread then grew a mapping over is
 * ordered, for ThreadSanitizer too, after the first thread's accesses
 * (src/core/os.c). The kernel orders every change of the address space,
 * but ThreadSanitizer does not intercept mremap: it kept the first
 * thread's write in the vacated range's shadow and reported the second
 * thread's write there as a data race (the stress program, a Large block
 * grown in place over the header of a span moved away a moment before).
 * The threads here share nothing but a relaxed flag, which orders nothing
 * for ThreadSanitizer. In the other builds the test checks the moves.
 */
#include <pthread.h>

#include "hakmem_internal.h"
#include "hak_test.h"

static uint8_t *base;         /* [base, base + 3 pages): one mapping at first */
static _Atomic int moved_away; /* relaxed: no order for ThreadSanitizer */

/* Writes the page at base + 1 page, then moves pages 1 - 2 elsewhere. */
static void *mover(void *arg)
{
	(void)arg;
	uint8_t *x = base + HAK_PAGE;
	x[0] = 1;
	void *to = hak_os_move(x, 2 * HAK_PAGE, 2 * HAK_PAGE, HAK_PAGE);
	CHECK(to && ((uint8_t *)to)[0] == 1);
	hak_os_unmap(to, 2 * HAK_PAGE);
	atomic_store_explicit(&moved_away, 1, memory_order_relaxed);
	return NULL;
}

/* Grows the first page's mapping back over the vacated pages and writes. */
static void *grower(void *arg)
{
	(void)arg;
	while (!atomic_load_explicit(&moved_away, memory_order_relaxed))
		;
	if (hak_os_grow_in_place(base, HAK_PAGE, 3 * HAK_PAGE) != 0) {
		printf("# another mapping took the vacated range: nothing to check\n");
		return NULL;
	}
	base[HAK_PAGE] = 2; /* a fresh page: zero before */
	CHECK(base[HAK_PAGE] == 2);
	return NULL;
}

int main(void)
{
	base = hak_os_map_aligned(3 * HAK_PAGE, HAK_PAGE, 0);
	CHECK(base);
	pthread_t a, b;
	CHECK(pthread_create(&b, NULL, grower, NULL) == 0);
	CHECK(pthread_create(&a, NULL, mover, NULL) == 0);
	CHECK(pthread_join(a, NULL) == 0);
	CHECK(pthread_join(b, NULL) == 0);
	hak_os_unmap(base, 3 * HAK_PAGE);
	OK("a range vacated by a move and grown over by another thread is ordered");
	return 0;
}
