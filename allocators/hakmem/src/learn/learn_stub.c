/*
 * learn_stub.c - placeholder of the learning layer until it lands: keeps the
 * default strategy (2 MiB large threshold), no site rules, nothing learned.
 * The learning layer's own files replace this one.
 */
#include "learn.h"

_Atomic size_t hak_learn_large_threshold_cached = HAK_DEFAULT_LARGE_THRESHOLD;

void hak_learn_init(void) {}
void hak_learn_tick(void) {}
int hak_learn_site_tier(uintptr_t site) { (void)site; return -1; }
void hak_learn_site_note(uintptr_t site, int tier) { (void)site; (void)tier; }
void hak_learn_write_json(FILE *f) { fputs("\"learn\": {\"enabled\": false}", f); }
