/*
 * route.h - size classes and the one routing table.
 *
 * Class boundaries (bytes):
 *   Tiny  (classes  0-19): 16, 32, 48, 64, 80, 96, 112, 128 (multiples of 16),
 *                          then 4 per power of two: 160 192 224 256, 320 384 448
 *                          512, 640 768 896 1024.
 *   Mid   (classes 20-39): 4 per power of two from 1 KiB to 32 KiB: 1280 1536
 *                          1792 2048 ... 28672 32768.
 *   L2.5  (32 KiB < size < large threshold, at most 8 MiB): 4 classes per
 *                          power of two, 40 KiB ... 8 MiB (l25/l25.c).
 *   Large (size >= large threshold, default 2 MiB, or > 8 MiB): one mapping
 *                          per block (large/large.c).
 * Every power of two from 16 B to 32 KiB is a class of its own, which is what
 * makes aligned allocations of small sizes free (see api.c; but for the Mid
 * classes of whole pages below). Rounding waste is at most 15 bytes up to
 * 128 B and under 25 % above it.
 *
 * Blocks lie a class size apart, but for the Mid classes of whole pages
 * (4, 8, 12 ... 28 KiB): HAK_MID_COLOUR bytes more (hak_class_stride). A
 * block of such a class would otherwise start at page offset 0 like every
 * other of its class, and a program's first-line and byte-per-page touches
 * of all of them would fall in one L1 set of 64 (mid_mt at 1 thread ran
 * 1.17x faster with the gap). 32 KiB keeps whole pages: 8 blocks to a
 * 256 KiB page, not 7, and aligned to 32 KiB by construction.
 *
 * A request of at most HAK_SMALL_MAX bytes is routed by ONE table lookup,
 * hak_size_class[(size + 15) >> 4]; Tiny and Mid share the fast path and
 * differ only in their slabs (64 KiB vs 256 KiB pages) and list caps.
 */
#ifndef HAK_CORE_ROUTE_H
#define HAK_CORE_ROUTE_H

#include <stddef.h>
#include <stdint.h>

/* X(class, size of the class below (exclusive lower bound), size) */
#define HAK_SMALL_CLASSES(X)                                                                       \
	X(0, 0, 16)                                                                                \
	X(1, 16, 32)                                                                               \
	X(2, 32, 48)                                                                               \
	X(3, 48, 64)                                                                               \
	X(4, 64, 80)                                                                               \
	X(5, 80, 96)                                                                               \
	X(6, 96, 112)                                                                              \
	X(7, 112, 128)                                                                             \
	X(8, 128, 160)                                                                             \
	X(9, 160, 192)                                                                             \
	X(10, 192, 224)                                                                            \
	X(11, 224, 256)                                                                            \
	X(12, 256, 320)                                                                            \
	X(13, 320, 384)                                                                            \
	X(14, 384, 448)                                                                            \
	X(15, 448, 512)                                                                            \
	X(16, 512, 640)                                                                            \
	X(17, 640, 768)                                                                            \
	X(18, 768, 896)                                                                            \
	X(19, 896, 1024)                                                                           \
	X(20, 1024, 1280)                                                                          \
	X(21, 1280, 1536)                                                                          \
	X(22, 1536, 1792)                                                                          \
	X(23, 1792, 2048)                                                                          \
	X(24, 2048, 2560)                                                                          \
	X(25, 2560, 3072)                                                                          \
	X(26, 3072, 3584)                                                                          \
	X(27, 3584, 4096)                                                                          \
	X(28, 4096, 5120)                                                                          \
	X(29, 5120, 6144)                                                                          \
	X(30, 6144, 7168)                                                                          \
	X(31, 7168, 8192)                                                                          \
	X(32, 8192, 10240)                                                                         \
	X(33, 10240, 12288)                                                                        \
	X(34, 12288, 14336)                                                                        \
	X(35, 14336, 16384)                                                                        \
	X(36, 16384, 20480)                                                                        \
	X(37, 20480, 24576)                                                                        \
	X(38, 24576, 28672)                                                                        \
	X(39, 28672, 32768)

#define HAK_SMALL_NCLS 40        /* Tiny + Mid classes */
#define HAK_TINY_NCLS 20         /* classes 0..19 are Tiny */
#define HAK_MID_NCLS 20          /* classes 20..39 are Mid */
#define HAK_TINY_MAX 1024        /* bytes: largest Tiny request */
#define HAK_SMALL_MAX 32768      /* bytes: largest Tiny/Mid request */
#define HAK_L25_MAX (8u << 20)   /* bytes: largest L2.5 class */

/* Tier ids (statistics, site rules). */
enum { HAK_TIER_TINY = 0, HAK_TIER_MID = 1, HAK_TIER_L25 = 2, HAK_TIER_LARGE = 3, HAK_NTIERS = 4 };

/* Block size of each small class, bytes. */
static const uint32_t hak_class_size[HAK_SMALL_NCLS] = {
#define HAK_CLS_SIZE(c, lo, sz) [c] = sz,
	HAK_SMALL_CLASSES(HAK_CLS_SIZE)
#undef HAK_CLS_SIZE
};

/* (size + 15) >> 4 -> class, for size <= HAK_SMALL_MAX. Built at compile
 * time, so it is valid before any initialisation (and in every thread). */
static const uint8_t hak_size_class[(HAK_SMALL_MAX >> 4) + 1] = {
#define HAK_CLS_RANGE(c, lo, sz) [(lo) / 16 + 1 ...(sz) / 16] = c,
	HAK_SMALL_CLASSES(HAK_CLS_RANGE)
#undef HAK_CLS_RANGE
};

#define HAK_MID_COLOUR 64 /* bytes between blocks of a Mid class of whole pages */

/* Bytes from one block of each small class to the next in its slab. */
#define hak_stride_of(c, sz)                                                                       \
	((sz) + ((c) >= HAK_TINY_NCLS && (sz) % 4096 == 0 && (sz) < HAK_SMALL_MAX ? HAK_MID_COLOUR : 0))
static const uint32_t hak_class_stride[HAK_SMALL_NCLS] = {
#define HAK_CLS_STRIDE(c, lo, sz) [c] = hak_stride_of(c, sz),
	HAK_SMALL_CLASSES(HAK_CLS_STRIDE)
#undef HAK_CLS_STRIDE
};

/* ceil(2^40 / stride) per small class: a block's index in its slab is
 * (offset * this) >> 40, exact for every offset within a slab (offset
 * < 2^18, so the error stays below 2^-22 < 1 / stride): the remote free
 * (heap.c) multiplies instead of dividing by a block size it would have
 * to load from the slab's record. */
#define HAK_RECIP_SHIFT 40
static const uint64_t hak_class_recip[HAK_SMALL_NCLS] = {
#define HAK_CLS_RECIP(c, lo, sz) [c] = (((uint64_t)1 << HAK_RECIP_SHIFT) + hak_stride_of(c, sz) - 1) / hak_stride_of(c, sz),
	HAK_SMALL_CLASSES(HAK_CLS_RECIP)
#undef HAK_CLS_RECIP
};

static inline unsigned hak_small_class(size_t size)
{
	return hak_size_class[(size + 15) >> 4];
}

static inline int hak_class_tier(unsigned cls)
{
	return cls < HAK_TINY_NCLS ? HAK_TIER_TINY : HAK_TIER_MID;
}

#endif /* HAK_CORE_ROUTE_H */
