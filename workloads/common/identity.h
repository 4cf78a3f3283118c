/*
 * identity.h - which allocator actually serves this process, detected at
 * run time (never taken from the program's name or directory).
 *
 * The object that defines the `malloc` the dynamic linker resolves
 * (dlsym(RTLD_DEFAULT, "malloc"), then dladdr) is the serving allocator; it
 * is named by a marker symbol that lives in that same object:
 *     hak_version -> "hakmem", mi_version -> "mimalloc",
 *     mallctl -> "jemalloc", tc_version -> "tcmalloc",
 *     __libc_malloc (or an object named libc.so*) -> "glibc",
 * else "unknown". A preloaded library's malloc wins, so this also names an
 * LD_PRELOAD-ed allocator. No allocation; thread-safe after the first call.
 */
#ifndef WL_IDENTITY_H
#define WL_IDENTITY_H

typedef struct wl_identity {
	const char *allocator; /* "glibc", "mimalloc", ... or "unknown" */
	const char *object;    /* file name (no directory) of malloc's object */
} wl_identity_t;

/* Detect the allocator serving malloc in this process. */
wl_identity_t wl_identity_detect(void);

#endif /* WL_IDENTITY_H */
