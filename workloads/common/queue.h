/*
 * queue.h - handing blocks to another thread in bulk: a lock-free
 * many-producer, one-consumer queue of blocks, linked through the blocks'
 * own memory.
 *
 * A producer builds a chain privately (wl_chain_add, no atomics) and
 * publishes it with one compare-and-swap (wl_queue_push); the consumer takes
 * everything at once with one exchange (wl_queue_take), which rules out ABA.
 * Blocks must be at least WL_QUEUE_MIN_BLOCK bytes: the link lives in their
 * second word, so their first word (the touch tag) survives the trip.
 * `count` lets producers bound the blocks in flight (flow control).
 */
#ifndef WL_QUEUE_H
#define WL_QUEUE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define WL_QUEUE_MIN_BLOCK 16 /* bytes: a block carries its link at offset 8 */

typedef struct wl_queue {
	_Atomic(void *) head;  /* newest chain first; NULL when empty */
	atomic_size_t count;   /* blocks pushed and not yet taken */
	char pad[64 - sizeof(void *) - sizeof(size_t)];
} __attribute__((aligned(64))) wl_queue_t;

typedef struct wl_chain {
	void *first, *last; /* blocks, linked first -> last */
	size_t n;           /* blocks in the chain */
} wl_chain_t;

static inline void **wl_link(void *block)
{
	return (void **)((char *)block + 8);
}

/* Append `block` to a private chain. */
static inline void wl_chain_add(wl_chain_t *c, void *block)
{
	*wl_link(block) = NULL;
	if (c->last)
		*wl_link(c->last) = block;
	else
		c->first = block;
	c->last = block;
	c->n++;
}

/* Publish chain `c` on queue `q` (thread-safe) and empty `c`. */
static inline void wl_queue_push(wl_queue_t *q, wl_chain_t *c)
{
	if (!c->n)
		return;
	atomic_fetch_add_explicit(&q->count, c->n, memory_order_relaxed);
	void *old = atomic_load_explicit(&q->head, memory_order_relaxed);
	do
		*wl_link(c->last) = old;
	while (!atomic_compare_exchange_weak_explicit(&q->head, &old, c->first, memory_order_release,
						      memory_order_relaxed));
	c->first = c->last = NULL;
	c->n = 0;
}

/* Take every block on `q` (one consumer at a time). Returns the first block
 * of a NULL-terminated list (follow *wl_link(block)), or NULL. The consumer
 * reports the blocks it took with wl_queue_release once it handled them. */
static inline void *wl_queue_take(wl_queue_t *q)
{
	if (!atomic_load_explicit(&q->head, memory_order_relaxed))
		return NULL;
	return atomic_exchange_explicit(&q->head, NULL, memory_order_acquire);
}

/* The consumer handled `n` blocks taken from `q`. */
static inline void wl_queue_release(wl_queue_t *q, size_t n)
{
	atomic_fetch_sub_explicit(&q->count, n, memory_order_relaxed);
}

/* Blocks on `q` now (approximate while others push). */
static inline size_t wl_queue_count(wl_queue_t *q)
{
	return atomic_load_explicit(&q->count, memory_order_relaxed);
}

#endif /* WL_QUEUE_H */
