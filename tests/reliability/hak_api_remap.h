/*
 * hak_api_remap.h - force-included (gcc -include) into hakmem's own C unit
 * tests for the sanitizer builds: their malloc-family calls become hak_
 * calls, so the sanitizer (which owns malloc) watches hakmem run them.
 * System headers are read first, so their declarations keep their names.
 */
#ifndef HAK_API_REMAP_H
#define HAK_API_REMAP_H

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "hakmem.h"

#define malloc hak_malloc
#define free hak_free
#define calloc hak_calloc
#define realloc hak_realloc
#define reallocarray hak_reallocarray
#define posix_memalign hak_posix_memalign
#define aligned_alloc hak_aligned_alloc
#define memalign hak_memalign
#define valloc hak_valloc
#define pvalloc hak_pvalloc
#define malloc_usable_size hak_malloc_usable_size

#endif /* HAK_API_REMAP_H */
