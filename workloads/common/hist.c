/*
 * hist.c - merging latency histograms and reading percentiles from them.
 * The recording side is inline in hist.h.
 */
#include "hist.h"

void wl_hist_merge(wl_hist_t *dst, const wl_hist_t *src)
{
	for (unsigned i = 0; i < WL_HIST_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	dst->count += src->count;
	if (src->max > dst->max)
		dst->max = src->max;
}

/* Midpoint of bucket `i`, cycles. */
static uint64_t hist_bucket_mid(unsigned i)
{
	if (i < WL_HIST_SUB)
		return i;
	unsigned e = i / WL_HIST_SUB + WL_HIST_SUB_BITS - 1;
	uint64_t sub = i % WL_HIST_SUB;
	uint64_t width = (uint64_t)1 << (e - WL_HIST_SUB_BITS);
	uint64_t lo = (WL_HIST_SUB + sub) << (e - WL_HIST_SUB_BITS);
	return lo + (width - 1) / 2;
}

uint64_t wl_hist_quantile(const wl_hist_t *h, double q)
{
	if (h->count == 0)
		return 0;
	uint64_t rank = (uint64_t)(q * (double)h->count);
	if (rank >= h->count)
		rank = h->count - 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < WL_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen > rank) {
			uint64_t v = hist_bucket_mid(i);
			return v < h->max ? v : h->max;
		}
	}
	return h->max;
}

wl_latency_t wl_hist_latency(const wl_hist_t *h)
{
	wl_latency_t l = {0};
	if (h->count == 0)
		return l;
	l.samples = h->count;
	l.p50 = wl_cycles_to_ns(wl_hist_quantile(h, 0.50));
	l.p90 = wl_cycles_to_ns(wl_hist_quantile(h, 0.90));
	l.p99 = wl_cycles_to_ns(wl_hist_quantile(h, 0.99));
	l.p999 = wl_cycles_to_ns(wl_hist_quantile(h, 0.999));
	l.max = wl_cycles_to_ns(h->max);
	return l;
}
