/*
 * threads.c - the workers of a run: started with a fixed stack size, lined
 * up at a barrier so that setup is not measured, timed phase by phase.
 * Owns the phases' clock readings; what a worker does is the program's.
 */
#include "bench.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define WL_STACK_BYTES (1u << 20) /* bytes of stack per worker */

typedef struct threads_ctx {
	wl_bench_t *b;             /* the run */
	wl_work_fn fn[3];          /* setup, run, teardown (each may be NULL) */
	pthread_barrier_t started; /* workers + main: setup done */
	pthread_barrier_t ran;     /* workers + main: run done */
} threads_ctx_t;

typedef struct threads_arg {
	threads_ctx_t *ctx;
	wl_thread_t *t;
} threads_arg_t;

static void *threads_main(void *p)
{
	threads_arg_t *a = p;
	threads_ctx_t *c = a->ctx;
	if (c->fn[0])
		c->fn[0](a->t);
	pthread_barrier_wait(&c->started);
	a->t->t_start = wl_now();
	if (c->fn[1])
		c->fn[1](a->t);
	a->t->t_end = wl_now();
	pthread_barrier_wait(&c->ran);
	if (c->fn[2])
		c->fn[2](a->t);
	return NULL;
}

void wl_thread_start(pthread_t *id, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, WL_STACK_BYTES);
	int err = pthread_create(id, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	if (err) {
		char msg[128];
		snprintf(msg, sizeof msg, "%s: cannot start a thread (%s)",
			 err == EAGAIN ? "out of memory" : "thread error", strerror(err));
		wl_fail(msg);
	}
}

void wl_bench_run(wl_bench_t *b, wl_work_fn setup, wl_work_fn run, wl_work_fn teardown)
{
	int n = (int)b->threads;
	threads_ctx_t ctx = {.b = b, .fn = {setup, run, teardown}};
	pthread_t ids[WL_MAX_THREADS];
	static threads_arg_t args[WL_MAX_THREADS];

	pthread_barrier_init(&ctx.started, NULL, (unsigned)n + 1);
	pthread_barrier_init(&ctx.ran, NULL, (unsigned)n + 1);
	double t0 = wl_now();
	for (int i = 0; i < n; i++) {
		args[i] = (threads_arg_t){&ctx, &b->th[i]};
		wl_thread_start(&ids[i], threads_main, &args[i]);
	}
	pthread_barrier_wait(&ctx.started);
	pthread_barrier_wait(&ctx.ran);
	for (int i = 0; i < n; i++)
		pthread_join(ids[i], NULL);
	double t3 = wl_now();
	pthread_barrier_destroy(&ctx.started);
	pthread_barrier_destroy(&ctx.ran);
	/* The run phase is read by the workers themselves: the main thread may
	 * wake from a barrier long after they did. */
	double start = b->th[0].t_start, end = b->th[0].t_end;
	for (int i = 1; i < n; i++) {
		if (b->th[i].t_start < start)
			start = b->th[i].t_start;
		if (b->th[i].t_end > end)
			end = b->th[i].t_end;
	}
	b->phase[WL_PHASE_SETUP] = start - t0;
	b->phase[WL_PHASE_RUN] = end - start;
	b->phase[WL_PHASE_TEARDOWN] = t3 - end;
}
