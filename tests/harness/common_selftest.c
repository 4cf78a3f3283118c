/*
 * common_selftest.c - unit checks of workloads/common: the latency
 * histogram, the JSON writer, the random streams, touching blocks and the
 * chain queue. Prints one line per failed check and exits 1 if any failed;
 * run by test_workloads_common.py.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static int failures;

#define CHECK(cond, ...)                                            \
	do {                                                        \
		if (!(cond)) {                                      \
			printf("FAIL %s:%d: ", __FILE__, __LINE__); \
			printf(__VA_ARGS__);                        \
			printf("\n");                               \
			failures++;                                 \
		}                                                   \
	} while (0)

static void check_hist(void)
{
	static wl_hist_t h, a, b;
	CHECK(wl_hist_quantile(&h, 0.5) == 0, "empty histogram has quantile 0");
	for (uint64_t v = 1; v <= 100000; v++)
		wl_hist_add(&h, v);
	const double qs[] = {0.5, 0.9, 0.99, 0.999};
	for (int i = 0; i < 4; i++) {
		double want = qs[i] * 100000, got = (double)wl_hist_quantile(&h, qs[i]);
		CHECK(fabs(got - want) <= want / 16 + 1, "quantile %g: %g, want %g within 1/16", qs[i], got, want);
	}
	CHECK(h.max == 100000 && h.count == 100000, "max %llu count %llu", (unsigned long long)h.max,
	      (unsigned long long)h.count);
	CHECK(wl_hist_quantile(&h, 1.0) <= h.max, "quantile never above the maximum");
	for (uint64_t v = 0; v < 16; v++)
		CHECK(wl_hist_index(v) == v, "small values have exact buckets");
	for (uint64_t v = 16; v < (1u << 20); v = v * 3 / 2 + 1)
		CHECK(wl_hist_index(v) <= wl_hist_index(v + 1), "bucket index is monotonic at %llu",
		      (unsigned long long)v);
	CHECK(wl_hist_index(UINT64_MAX) < WL_HIST_BUCKETS, "largest value fits");
	/* Merging two halves gives the whole. */
	for (uint64_t v = 1; v <= 100000; v++)
		wl_hist_add(v % 2 ? &a : &b, v);
	wl_hist_merge(&a, &b);
	CHECK(memcmp(&a, &h, sizeof h) == 0, "merge of two halves equals the whole");
}

static void check_json(void)
{
	char buf[256];
	wl_json_t j;
	wl_json_begin(&j, buf, sizeof buf);
	wl_json_str(&j, "s", "a\"b\\c\n");
	wl_json_int(&j, "i", -42);
	wl_json_object(&j, "o");
	wl_json_num(&j, "half", 0.5);
	wl_json_num(&j, "inf", INFINITY);
	wl_json_num(&j, "three", 3.0);
	wl_json_close(&j);
	long n = wl_json_end(&j);
	const char *want = "{\"s\":\"a\\\"b\\\\c\\u000a\",\"i\":-42,\"o\":{\"half\":0.5,\"inf\":null,\"three\":3}}\n";
	CHECK(n == (long)strlen(want) && strcmp(buf, want) == 0, "json: got %s", buf);
	char small[16];
	wl_json_begin(&j, small, sizeof small);
	wl_json_str(&j, "key", "a value longer than the buffer");
	CHECK(wl_json_end(&j) == -1, "a too small buffer is reported");
}

static void check_rng(void)
{
	wl_rng_t a, b, c;
	wl_rng_seed(&a, 12345, 0);
	wl_rng_seed(&b, 12345, 0);
	wl_rng_seed(&c, 12345, 1);
	int same = 1, differ = 0;
	for (int i = 0; i < 100; i++) {
		uint64_t x = wl_rng_next(&a), y = wl_rng_next(&b), z = wl_rng_next(&c);
		same &= x == y;
		differ |= x != z;
	}
	CHECK(same, "the same seed and stream give the same numbers");
	CHECK(differ, "another stream gives other numbers");
	int in_range = 1, saw_lo = 0, saw_hi = 0;
	for (int i = 0; i < 100000; i++) {
		uint64_t r = wl_rng_range(&a, 8, 1024), l = wl_rng_logsize(&a, 2048, 32768);
		in_range &= r >= 8 && r <= 1024 && l >= 2048 && l <= 32768;
		saw_lo |= r == 8;
		saw_hi |= r == 1024;
	}
	CHECK(in_range, "range and logsize stay within their bounds");
	CHECK(saw_lo && saw_hi, "range reaches both bounds");
	CHECK(wl_rng_logsize(&a, 5, 5) == 5, "a one-value range gives that value");
}

static void check_touch(void)
{
	const size_t sizes[] = {1, 7, 8, 100, 4095, 4096, 70000};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t n = sizes[i];
		unsigned char *p = malloc(n), *q = malloc(n + 64);
		wl_touch(p, n, 0x1234567890abcdefULL);
		wl_touch(q + 3, n, 0x1234567890abcdefULL);
		CHECK(wl_readback(p, n) == wl_readback(q + 3, n), "readback of %zu bytes depends on the address", n);
		if (n >= 8)
			CHECK(wl_tag_of(p) == 0x1234567890abcdefULL, "tag survives in a block of %zu bytes", n);
		free(p);
		free(q);
	}
}

static void check_queue(void)
{
	static wl_queue_t q;
	wl_chain_t c = {0};
	uint64_t sum = 0, got = 0;
	for (uint64_t i = 1; i <= 10; i++) {
		uint64_t *blk = malloc(32);
		blk[0] = i;
		sum += i;
		wl_chain_add(&c, blk);
		if (i % 4 == 0)
			wl_queue_push(&q, &c);
	}
	wl_queue_push(&q, &c);
	CHECK(c.n == 0 && wl_queue_count(&q) == 10, "push empties the chain and counts 10 blocks");
	size_t n = 0;
	for (void *b = wl_queue_take(&q); b;) {
		void *next = *wl_link(b);
		got += wl_tag_of(b);
		free(b);
		b = next;
		n++;
	}
	wl_queue_release(&q, n);
	CHECK(n == 10 && got == sum, "take returns every block once (%zu blocks)", n);
	CHECK(wl_queue_take(&q) == NULL && wl_queue_count(&q) == 0, "the queue is empty afterwards");
}

int main(void)
{
	check_hist();
	check_json();
	check_rng();
	check_touch();
	check_queue();
	if (failures)
		return 1;
	printf("ok\n");
	return 0;
}
