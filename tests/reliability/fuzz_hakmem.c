/*
 * fuzz_hakmem.c - libFuzzer target: hakmem's malloc family driven by the input.
 *
 * Owns: the interpretation of fuzz input as allocator calls and the checks on
 * their results. Built by mk/reliability.mk with clang -fsanitize=fuzzer,
 * address against hakmem's core compiled with ASan (build/fuzz/fuzz_hakmem);
 * it calls hakmem through the hak_ names, since ASan owns malloc.
 *
 * The input is a sequence of operations, each an opcode byte and its operand
 * bytes (missing bytes read as 0):
 *
 *   op % 10   operands             call
 *   0         slot, size(3)        malloc
 *   1         slot, n, size(3)     calloc(n % 16 + 1, size / (n % 16 + 1))
 *   2         slot, size(3)        realloc (of the slot's block, or of NULL)
 *   3         slot                 free (free(NULL) when the slot is empty)
 *   4         slot, align, size(3) posix_memalign (align byte >= 0xf0: a bad
 *                                  alignment, which must give EINVAL)
 *   5         slot, align, size(3) aligned_alloc (a bad alignment: rounded up to
 *                                  a power of two, as glibc 2.36 does, or
 *                                  NULL with EINVAL, as C17 and glibc 2.38 say)
 *   6         slot, align, size(3) memalign (likewise)
 *   7         slot, off(2), byte   write one byte into the block (and shadow)
 *   8         slot                 realloc(p, 0): frees p, returns NULL
 *   9         slot                 check the slot's block against its shadow
 *
 * size(3) is a tier selector and two bytes: sizes span Tiny, Mid, L2.5 and
 * Large (2 MiB .. 2.25 MiB; at most REQ_BUDGET bytes per input, so a run stays
 * fast: fresh big blocks cost page faults). Every live block has a shadow copy of its contents (in ASan's own
 * malloc); a block must match its shadow before it is freed or reallocated,
 * at a check, and when the input ends; fresh blocks must be aligned (to HAK_MIN_ALIGN and to
 * the requested alignment), hold their size (malloc_usable_size), and calloc's
 * must read zero. A failed check prints one line and aborts, which libFuzzer
 * records as a crash with its input.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rel_alloc.h"

#define SLOTS 32
#define LARGE_MIN ((size_t)2 << 20)	/* bytes: hakmem's default large threshold */
#define LARGE_SPAN ((size_t)256 << 10)	/* bytes: Large requests reach LARGE_MIN + this */
#define REQ_BUDGET ((size_t)8 << 20)	/* bytes requested per input, at most */

struct slot {
	unsigned char *p;	/* hakmem's block, or NULL */
	size_t size;		/* bytes requested */
	unsigned char *shadow;	/* copy of the block's contents (ASan's malloc) */
};

struct input {
	const uint8_t *data;	/* the fuzz input */
	size_t len;		/* its length, bytes */
	size_t pos;		/* next byte */
	size_t budget;		/* bytes that may still be requested */
	uint64_t fill;		/* seed of the next block's contents */
};

static struct slot slots[SLOTS];

static uint8_t next_byte(struct input *in)
{
	return in->pos < in->len ? in->data[in->pos++] : 0;
}

__attribute__((noreturn)) static void fail(const char *what, const struct slot *s, size_t detail)
{
	fprintf(stderr, "fuzz_hakmem: %s (block %p of %zu bytes, detail %zu)\n", what,
		s ? (void *)s->p : NULL, s ? s->size : 0, detail);
	abort();
}

/* A request size: a tier from the selector byte, a point in it from the next two. */
static size_t next_size(struct input *in)
{
	uint8_t t = next_byte(in);
	size_t v = next_byte(in) | (size_t)next_byte(in) << 8, size;

	switch (t & 3) {
	case 0: /* Tiny, 0 .. 1 KiB */
		size = v % 1025;
		break;
	case 1: /* Mid, 1 KiB .. 32 KiB */
		size = 1024 + v % (31 * 1024 + 1);
		break;
	case 2: /* L2.5, 32 KiB .. 2 MiB */
		size = 32768 + (v * 32 + (t >> 3)) % (LARGE_MIN - 32768);
		break;
	default: /* Large */
		size = LARGE_MIN + (v * 4) % LARGE_SPAN;
		break;
	}
	if (size > in->budget)
		size = v % 257;
	in->budget -= size;
	return size;
}

static void check_block(const struct slot *s, const char *when)
{
	if (s->p && memcmp(s->p, s->shadow, s->size)) {
		size_t i = 0;

		while (s->p[i] == s->shadow[i])
			i++;
		fprintf(stderr, "fuzz_hakmem: contents changed %s at offset %zu\n", when, i);
		fail("a live block does not match its shadow", s, i);
	}
}

/* Check a fresh block of `size` bytes at p, aligned to `align`. */
static void check_fresh(const struct slot *s, size_t align)
{
	if ((uintptr_t)s->p % HAK_MIN_ALIGN)
		fail("block not aligned to HAK_MIN_ALIGN", s, HAK_MIN_ALIGN);
	if (align && (uintptr_t)s->p % align)
		fail("block not aligned as requested", s, align);
	if (rel_usable_size(s->p) < s->size)
		fail("malloc_usable_size below the request", s, rel_usable_size(s->p));
}

#define FILL_PERIOD 4093 /* bytes: the contents repeat with this (prime) period */

/* Give a block new contents (block and shadow) from byte `from` on: random
 * bytes for the first FILL_PERIOD, repeated after that, so big blocks cost a
 * few memcpy calls rather than a loop per byte. */
static void fill_block(struct input *in, struct slot *s, size_t from)
{
	uint64_t x = ++in->fill * 0x9e3779b97f4a7c15ULL;
	size_t head = s->size - from < FILL_PERIOD ? s->size - from : FILL_PERIOD;
	unsigned char *d = s->shadow + from;

	for (size_t i = 0; i < head; i += 8) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		memcpy(d + i, &x, head - i < 8 ? head - i : 8);
	}
	for (size_t i = head; i < s->size - from; i += FILL_PERIOD)
		memcpy(d + i, d, s->size - from - i < FILL_PERIOD ? s->size - from - i : FILL_PERIOD);
	memcpy(s->p + from, d, s->size - from);
}

static void release(struct slot *s)
{
	check_block(s, "before free");
	rel_free(s->p);
	free(s->shadow);
	s->p = NULL;
	s->shadow = NULL;
	s->size = 0;
}

/* Record a fresh block in a slot (emptied first). */
static void adopt(struct input *in, struct slot *s, void *p, size_t size, size_t align)
{
	if (!p)
		fail("a request that fits returned NULL", NULL, size);
	s->p = p;
	s->size = size;
	s->shadow = malloc(size ? size : 1);
	if (!s->shadow)
		abort();
	check_fresh(s, align);
	fill_block(in, s, 0);
}

/* An alignment: a power of two from 8 B to 1 MiB, or (selector >= 0xf0) a bad
 * one: 4 (below sizeof(void *)) or a multiple of 8 that is no power of two. */
static size_t next_align(struct input *in, bool *bad)
{
	uint8_t a = next_byte(in);

	*bad = a >= 0xf0;
	if (!*bad)
		return (size_t)1 << (a % 18 + 3);
	return (a & 7) == 7 ? 4 : (size_t)24 + (a & 7) * 16;
}

/* The smallest power of two >= a (glibc 2.36 rounds bad alignments up to it). */
static size_t pow2_ceil(size_t a)
{
	return a <= 1 ? 1 : (size_t)1 << (64 - __builtin_clzll(a - 1));
}

/* realloc(p, 0): glibc frees p and returns NULL. */
static void op_realloc_zero(struct slot *s)
{
	check_block(s, "before realloc(p, 0)");
	if (rel_realloc(s->p, 0))
		fail("realloc(p, 0) did not return NULL", s, 0);
	free(s->shadow);
	s->p = NULL;
	s->shadow = NULL;
	s->size = 0;
}

static void op_realloc(struct input *in, struct slot *s, size_t size)
{
	size_t keep = s->size < size ? s->size : size;
	unsigned char *p, *shadow;

	check_block(s, "before realloc");
	p = rel_realloc(s->p, size);
	if (!p)
		fail("realloc that fits returned NULL", s, size);
	shadow = realloc(s->shadow, size ? size : 1);
	if (!shadow)
		abort();
	s->p = p;
	s->shadow = shadow;
	s->size = size;
	if (memcmp(p, shadow, keep))
		fail("realloc did not keep the contents", s, keep);
	check_fresh(s, 0);
	fill_block(in, s, keep);
}

static void run_op(struct input *in, uint8_t op)
{
	struct slot *s = &slots[next_byte(in) % SLOTS];
	bool bad;
	size_t align, size;
	void *p;

	switch (op % 10) {
	case 0:
		size = next_size(in);
		release(s);
		adopt(in, s, rel_malloc(size), size, 0);
		break;
	case 1: {
		size_t n = next_byte(in) % 16 + 1, each = next_size(in) / n;

		release(s);
		p = rel_calloc(n, each);
		/* zero: the first byte is 0 and every byte equals the next */
		if (p && n * each && (*(unsigned char *)p || memcmp(p, (char *)p + 1, n * each - 1)))
			fail("calloc memory is not zero", NULL, n * each);
		adopt(in, s, p, n * each, 0);
		break;
	}
	case 2:
		size = next_size(in);
		if (s->p && !size)
			op_realloc_zero(s);
		else if (s->p)
			op_realloc(in, s, size);
		else
			adopt(in, s, rel_realloc(NULL, size), size, 0);
		break;
	case 3:
		if (s->p)
			release(s);
		else
			rel_free(NULL);
		break;
	case 4:
		align = next_align(in, &bad);
		size = next_size(in);
		release(s);
		p = (void *)0x1;
		if (bad) {
			if (rel_posix_memalign(&p, align, size) != EINVAL || p != (void *)0x1)
				fail("posix_memalign with a bad alignment did not return EINVAL",
				     NULL, align);
			break;
		}
		if (rel_posix_memalign(&p, align, size))
			fail("posix_memalign that fits failed", NULL, size);
		adopt(in, s, p, size, align);
		break;
	case 5:
	case 6:
		align = next_align(in, &bad);
		size = next_size(in);
		release(s);
		errno = 0;
		p = op % 10 == 5 ? rel_aligned_alloc(align, size) : rel_memalign(align, size);
		/* aligned_alloc may also refuse an alignment that is no power of two
		 * (C17, glibc >= 2.38); it must then say EINVAL. */
		if (!p && op % 10 == 5 && (align & (align - 1)) && errno == EINVAL)
			break;
		adopt(in, s, p, size, pow2_ceil(align));
		break;
	case 7: {
		size_t off = next_byte(in) | (size_t)next_byte(in) << 8;
		uint8_t b = next_byte(in);

		if (s->p && s->size) {
			s->p[off % s->size] = b;
			s->shadow[off % s->size] = b;
		}
		break;
	}
	case 8:
		if (s->p)
			op_realloc_zero(s);
		break;
	default:
		check_block(s, "at a check");
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct input in = {.data = data, .len = len, .budget = REQ_BUDGET};

	while (in.pos < in.len)
		run_op(&in, next_byte(&in));
	for (int i = 0; i < SLOTS; i++)
		if (slots[i].p)
			release(&slots[i]);
	return 0;
}

/* ASan's quarantine only guards this target's own shadows and makes every
 * big shadow's free an munmap: keep it off (ASAN_OPTIONS still overrides). */
const char *__asan_default_options(void)
{
	return "quarantine_size_mb=0:allocator_may_return_null=1";
}
