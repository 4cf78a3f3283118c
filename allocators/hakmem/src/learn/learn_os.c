/*
 * learn_os.c - the one place the learning layer reads the allocator's own
 * statistics: bytes hakmem has mapped now, for the memory term of a
 * strategy's cost. Kept apart from learn.c so the learning layer's tests
 * link without the allocator (learn.c carries a weak default of 0).
 *
 * Owns: hak_learn_mapped_bytes(). Does not own: the counter (core/os.c).
 */
#include "../hakmem_internal.h"

size_t hak_learn_mapped_bytes(void)
{
	int64_t now = atomic_load_explicit(&hak_stats.cur_mapped, memory_order_relaxed);
	return now > 0 ? (size_t)now : 0;
}
