/*
 * realloc - growing buffers, as string builders and vectors grow them:
 * repeated realloc to larger sizes, with the contents checked after every
 * move.
 *
 * Each worker keeps --buffers buffers. One op: pick a buffer at random and
 * grow it, either geometrically (x1.5, like a vector; with probability
 * --geometric-pct) or by a small append of 1 .. --append bytes (like a
 * string builder), with realloc; then check that the old contents survived
 * (the tag in the first 8 bytes and the last old byte) and write the new
 * part. A buffer that would pass --max bytes is freed and started again at
 * --start bytes with malloc. A lost byte fails the run (status "failed",
 * exit 3). One op = one realloc call (or the malloc of a restart).
 */
#include <stdio.h>

#include "bench.h"

static int64_t opt_buffers;       /* buffers per worker */
static int64_t opt_start;         /* bytes: size of a new buffer */
static int64_t opt_max;           /* bytes: largest size before a restart */
static int64_t opt_append;        /* bytes: largest small append */
static int64_t opt_geometric_pct; /* percent of steps that grow x1.5 */

static wl_opt_t realloc_opts[] = {
	WL_INT("buffers", &opt_buffers, "16", 1, 1 << 20, "growing buffers per worker"),
	WL_INT("start", &opt_start, "16", 8, 1 << 20, "size of a new buffer, bytes"),
	WL_INT("max", &opt_max, "1048576", 16, 1 << 30, "a buffer that would grow past this is freed and restarted, bytes"),
	WL_INT("append", &opt_append, "64", 1, 1 << 20, "largest small append, bytes"),
	WL_INT("geometric-pct", &opt_geometric_pct, "30", 0, 100, "percent of steps that grow x1.5 (the rest append)"),
	WL_OPT_END,
};

static const wl_program_t realloc_prog = {
	.name = "realloc",
	.summary = "realloc: growing buffers (string builders, vectors) by repeated realloc to larger sizes.",
	.op = "One op = one realloc to a larger size (or the malloc restarting a full buffer).",
	.opts = realloc_opts,
	.default_ops = "200000",
};

typedef struct realloc_buf {
	unsigned char *p; /* the buffer */
	size_t size;      /* bytes in use (allocated size) */
	uint64_t tag;     /* value of its first 8 bytes */
	unsigned char last; /* expected value of p[size - 1] */
} realloc_buf_t;

/* Write p[from..to) with byte b: whole for small spans, else by lines and
 * pages (the touch rule for big blocks). */
static void realloc_fill(unsigned char *p, size_t from, size_t to, unsigned char b)
{
	size_t n = to - from;
	if (n < WL_TOUCH_BIG) {
		memset(p + from, b, n);
		return;
	}
	memset(p + from, b, WL_LINE);
	for (size_t off = from + WL_PAGE; off < to; off += WL_PAGE)
		p[off] = b;
	memset(p + to - WL_LINE, b, WL_LINE);
}

static void realloc_start(wl_thread_t *t, realloc_buf_t *r, uint64_t seq)
{
	r->size = (size_t)opt_start;
	r->p = malloc(r->size);
	if (!r->p)
		wl_oom(r->size);
	r->tag = ((uint64_t)t->index << 44) ^ seq;
	r->last = (unsigned char)seq;
	realloc_fill(r->p, 0, r->size, r->last);
	memcpy(r->p, &r->tag, 8);
}

static void realloc_lost(const realloc_buf_t *r, size_t old, size_t size)
{
	char msg[160];
	snprintf(msg, sizeof msg, "realloc lost the contents of a buffer grown from %zu to %zu bytes", old, size);
	wl_fail(msg);
}

static void realloc_setup(wl_thread_t *t)
{
	realloc_buf_t *bufs = wl_malloc(sizeof *bufs * (size_t)opt_buffers);
	for (int64_t k = 0; k < opt_buffers; k++)
		realloc_start(t, &bufs[k], (uint64_t)k);
	t->user = bufs;
}

static void realloc_run(wl_thread_t *t)
{
	realloc_buf_t *bufs = t->user;
	uint64_t h = t->hash;
	for (uint64_t i = 0; i < t->ops_target; i++) {
		realloc_buf_t *r = &bufs[wl_rng_below(&t->rng, (uint64_t)opt_buffers)];
		size_t old = r->size, size;
		if (wl_rng_pct(&t->rng, (uint64_t)opt_geometric_pct))
			size = old + old / 2;
		else
			size = old + (size_t)wl_rng_range(&t->rng, 1, (uint64_t)opt_append);
		uint64_t t0 = wl_lat_begin(i);
		if (size > (size_t)opt_max) {
			h = wl_hash_step(h, r->tag ^ old);
			free(r->p);
			realloc_start(t, r, i + ((uint64_t)1 << 40));
			wl_lat_end(&t->hist, t0);
			continue;
		}
		unsigned char *p = realloc(r->p, size);
		if (__builtin_expect(!p, 0))
			wl_oom_in("realloc", size);
		if (wl_tag_of(p) != r->tag || p[old - 1] != r->last)
			realloc_lost(r, old, size);
		r->p = p;
		r->size = size;
		r->last = (unsigned char)(r->last + 1);
		realloc_fill(p, old, size, r->last);
		wl_lat_end(&t->hist, t0);
		h = wl_hash_step(h, size ^ ((uint64_t)r->last << 56));
	}
	t->hash = h;
	t->ops = t->ops_target;
}

static void realloc_teardown(wl_thread_t *t)
{
	realloc_buf_t *bufs = t->user;
	for (int64_t k = 0; k < opt_buffers; k++) {
		t->hash = wl_hash_step(t->hash, wl_tag_of(bufs[k].p) ^ bufs[k].size);
		free(bufs[k].p);
	}
	free(bufs);
}

int main(int argc, char **argv)
{
	wl_bench_t *b = wl_bench_init(&realloc_prog, argc, argv);
	wl_check_order(b, "start", opt_start, "max", opt_max);
	wl_bench_run(b, realloc_setup, realloc_run, realloc_teardown);
	return wl_bench_finish(b);
}
