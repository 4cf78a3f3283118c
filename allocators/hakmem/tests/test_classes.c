/*
 * test_classes.c - size-to-class mapping and rounding waste, per tier:
 * every small size maps to the smallest class that holds it, class tables
 * are sorted, waste stays within the documented bounds (<= 15 B up to
 * 128 B, < 25 % above), L2.5 classes likewise; a block's index in its slab
 * by multiply (hak_class_recip) is exact.
 */
#include "hakmem_internal.h"
#include "hak_test.h"

static void test_small_classes(void)
{
	for (unsigned c = 1; c < HAK_SMALL_NCLS; c++)
		CHECK(hak_class_size[c] > hak_class_size[c - 1]);
	CHECK(hak_class_size[HAK_TINY_NCLS - 1] == HAK_TINY_MAX);
	CHECK(hak_class_size[HAK_SMALL_NCLS - 1] == HAK_SMALL_MAX);
	for (size_t size = 0; size <= HAK_SMALL_MAX; size++) {
		unsigned c = hak_small_class(size);
		CHECK(c < HAK_SMALL_NCLS);
		CHECK(hak_class_size[c] >= size);
		CHECK(c == 0 || hak_class_size[c - 1] < size);
		size_t waste = hak_class_size[c] - size;
		if (size == 0)
			CHECK(c == 0); /* malloc(0): a unique 16-byte block */
		else if (size <= 128)
			CHECK(waste <= 15);
		else
			CHECK(waste * 4 < size);
		CHECK(hak_class_tier(c) == (size <= HAK_TINY_MAX ? HAK_TIER_TINY : HAK_TIER_MID));
		CHECK(hak_class_size[c] % 16 == 0);
	}
	/* every power of two is a class of its own (aligned allocation relies on it) */
	for (size_t p = 16; p <= HAK_SMALL_MAX; p *= 2)
		CHECK(hak_class_size[hak_small_class(p)] == p);
	OK("small classes");
}

/* hak_class_recip gives a block's index in its slab by a multiply: exact
 * for every offset within the largest slab. */
static void test_block_index_by_multiply(void)
{
	for (unsigned c = 0; c < HAK_SMALL_NCLS; c++)
		for (uint64_t off = 0; off < ((uint64_t)1 << HAK_MID_SLAB_SHIFT); off++)
			CHECK(((off * hak_class_recip[c]) >> HAK_RECIP_SHIFT) == off / hak_class_stride[c]);
	OK("block index by multiply");
}

static void test_l25_classes(void)
{
	CHECK(hak_l25_class_size(0) == 40960);
	CHECK(hak_l25_class_size(HAK_L25_NCLS - 1) == HAK_L25_MAX);
	for (unsigned c = 1; c < HAK_L25_NCLS; c++)
		CHECK(hak_l25_class_size(c) > hak_l25_class_size(c - 1));
	for (size_t size = HAK_SMALL_MAX + 1; size <= HAK_L25_MAX; size += 509) {
		unsigned c = hak_l25_class(size);
		CHECK(c < HAK_L25_NCLS);
		CHECK(hak_l25_class_size(c) >= size);
		CHECK(c == 0 || hak_l25_class_size(c - 1) < size);
		CHECK((hak_l25_class_size(c) - size) * 4 < size);
	}
	for (size_t p = (size_t)HAK_SMALL_MAX * 2; p <= HAK_L25_MAX; p *= 2) {
		CHECK(hak_l25_class_size(hak_l25_class(p)) == p);
		CHECK(hak_l25_class_size(hak_l25_class(p + 1)) > p);
	}
	OK("l25 classes");
}

int main(void)
{
	test_small_classes();
	test_block_index_by_multiply();
	test_l25_classes();
	return 0;
}
