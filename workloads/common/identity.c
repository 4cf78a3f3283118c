/*
 * identity.c - run-time detection of the allocator serving malloc. Owns the
 * marker table; the result line only prints what it returns.
 */
#define _GNU_SOURCE
#include "identity.h"

#include <dlfcn.h>
#include <string.h>

/* Marker symbol -> allocator name; the first marker found in malloc's own
 * object wins. */
#define WL_IDENTITY_MARKERS(X)       \
	X("hak_version", "hakmem")   \
	X("mi_version", "mimalloc")  \
	X("mallctl", "jemalloc")     \
	X("tc_version", "tcmalloc")  \
	X("__libc_malloc", "glibc")

static const struct {
	const char *symbol; /* marker symbol */
	const char *name;   /* allocator it names */
} identity_markers[] = {
#define WL_MARKER_ROW(sym, nm) {sym, nm},
	WL_IDENTITY_MARKERS(WL_MARKER_ROW)
#undef WL_MARKER_ROW
};

/* True if `sym` resolves (globally or inside `handle`) to an address in the
 * object loaded at `base`. */
static int identity_in_object(void *handle, const char *sym, void *base)
{
	Dl_info info;
	void *p = dlsym(RTLD_DEFAULT, sym);
	if (p && dladdr(p, &info) && info.dli_fbase == base)
		return 1;
	if (handle) {
		p = dlsym(handle, sym);
		if (p && dladdr(p, &info) && info.dli_fbase == base)
			return 1;
	}
	return 0;
}

static const char *identity_basename(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;
	return slash ? slash + 1 : (path ? path : "");
}

wl_identity_t wl_identity_detect(void)
{
	wl_identity_t id = {"unknown", "unknown"};
	Dl_info info;
	void *m = dlsym(RTLD_DEFAULT, "malloc");
	if (!m || !dladdr(m, &info))
		return id;
	id.object = identity_basename(info.dli_fname);
	if (id.object[0] == '\0')
		id.object = "main-program";
	void *handle = NULL;
	if (info.dli_fname && info.dli_fname[0])
		handle = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
	for (size_t i = 0; i < sizeof identity_markers / sizeof identity_markers[0]; i++) {
		if (identity_in_object(handle, identity_markers[i].symbol, info.dli_fbase)) {
			id.allocator = identity_markers[i].name;
			goto out;
		}
	}
	if (strncmp(id.object, "libc.so", 7) == 0)
		id.allocator = "glibc";
out:
	if (handle)
		dlclose(handle);
	return id;
}
