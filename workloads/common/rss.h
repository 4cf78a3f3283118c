/*
 * rss.h - resident memory of this process, for the result line's metrics.
 * Both functions are thread-safe and allocate nothing.
 */
#ifndef WL_RSS_H
#define WL_RSS_H

#include <stdint.h>

/* Peak resident set size so far, KiB (getrusage ru_maxrss). */
int64_t wl_rss_peak_kb(void);

/* Current resident set size, KiB (/proc/self/statm); -1 if unreadable. */
int64_t wl_rss_current_kb(void);

#endif /* WL_RSS_H */
