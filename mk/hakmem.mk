# hakmem: the allocator's libraries, from ONE source set, selected by variables.
#
#   make hakmem            release: build/lib/libhakmem.{a,so}, plus the debug
#                          build, the api-only archive and (when the profile's
#                          sources exist) the timing build
#   make hakmem-debug      build/lib/libhakmem_debug.{a,so}: assertions, invariant checks
#   make hakmem-timing     build/lib/libhakmem_timing.{a,so}: HAKMEM_DEBUG_TIMING profile
#   make hakmem-api        build/lib/libhakmem_api.a: no malloc exports (sanitizer builds)
#   make hakmem-docs       regenerate docs/HAKMEM_OPTIONS.md from options.def
#   make hakmem-tests      the C unit tests, build/hakmem-tests/<name>
#   HAKMEM_EVOLUTION=0     leave the learning tick out (HAKMEM_FEATURE_EVOLUTION)
#
# Exported for other fragments (mk/reliability.mk compiles sanitized variants):
#   HAKMEM_CORE_SRC      every source but the malloc exports
#   HAKMEM_OVERRIDE_SRC  the malloc-family exports
#   HAKMEM_CPPFLAGS      include paths and defines every build needs

HAKMEM_DIR := allocators/hakmem
HAKMEM_EVOLUTION ?= 1
HAKMEM_CORE_SRC := $(sort $(filter-out $(HAKMEM_DIR)/src/override/%,$(shell find $(HAKMEM_DIR)/src -name '*.c')))
HAKMEM_OVERRIDE_SRC := $(HAKMEM_DIR)/src/override/malloc.c
HAKMEM_HDR := $(shell find $(HAKMEM_DIR)/include $(HAKMEM_DIR)/src -name '*.h' -o -name '*.def')
HAKMEM_CPPFLAGS := -I$(HAKMEM_DIR)/include -I$(HAKMEM_DIR)/src \
	$(if $(filter 1,$(HAKMEM_EVOLUTION)),-DHAKMEM_FEATURE_EVOLUTION)
# -fno-builtin-malloc etc.: the compiler must not turn malloc+memset into a
# call to calloc (or similar) inside the allocator itself.
# -falign-functions=64: every function starts on a cache line, so that a
# change to one file does not move the code of the others (sorted sources:
# two lines more in large.c moved heap.c's remote-free path and ran
# cross_thread at 2 threads 12 % faster; docs/PERFORMANCE.md). The
# workloads are built the same way (mk/workloads.mk).
HAKMEM_CFLAGS_COMMON := -std=gnu11 -g -pthread -fPIC -fvisibility=hidden -ftls-model=initial-exec -fno-semantic-interposition \
	-fno-plt -Wall -Wextra -fno-builtin-malloc -fno-builtin-calloc -fno-builtin-realloc \
	-fno-builtin-free -fno-stack-protector -falign-functions=64
HAKMEM_CFLAGS_release := -O2 -DHAKMEM_BUILD_RELEASE -DNDEBUG
HAKMEM_CFLAGS_debug := -O1 -DHAKMEM_DEBUG
HAKMEM_CFLAGS_timing := -O2 -DHAKMEM_BUILD_RELEASE -DHAKMEM_DEBUG_TIMING -DNDEBUG
HAKMEM_CFLAGS_api := $(HAKMEM_CFLAGS_release)
HAKMEM_HAS_PROFILE := $(wildcard $(HAKMEM_DIR)/src/profile/*.c)

HAKMEM_OBJDIR := $(BUILD)/hakmem-obj
hakmem_objs = $(patsubst $(HAKMEM_DIR)/src/%.c,$(HAKMEM_OBJDIR)/$(1)/%.o,$(2))

# $(1) = variant (release, debug, timing, api)
define HAKMEM_VARIANT_RULES
$(HAKMEM_OBJDIR)/$(1)/%.o: $(HAKMEM_DIR)/src/%.c $(HAKMEM_HDR) mk/hakmem.mk
	@mkdir -p $$(@D)
	$(CC) $(HAKMEM_CPPFLAGS) $(HAKMEM_CFLAGS_COMMON) $(HAKMEM_CFLAGS_$(1)) -c -o $$@ $$<
endef
$(foreach v,release debug timing api,$(eval $(call HAKMEM_VARIANT_RULES,$(v))))

# $(1) = library name suffix, $(2) = variant
define HAKMEM_LIB_RULES
$(BUILD)/lib/libhakmem$(1).a: $(call hakmem_objs,$(2),$(HAKMEM_CORE_SRC) $(HAKMEM_OVERRIDE_SRC))
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$^
$(BUILD)/lib/libhakmem$(1).so: $(call hakmem_objs,$(2),$(HAKMEM_CORE_SRC) $(HAKMEM_OVERRIDE_SRC))
	@mkdir -p $$(@D)
	$(CC) -shared -pthread -Wl,-z,nodelete -Wl,--no-undefined -Wl,-Bsymbolic-functions -o $$@ $$^
endef
$(eval $(call HAKMEM_LIB_RULES,,release))
$(eval $(call HAKMEM_LIB_RULES,_debug,debug))
$(eval $(call HAKMEM_LIB_RULES,_timing,timing))

$(BUILD)/lib/libhakmem_api.a: $(call hakmem_objs,api,$(HAKMEM_CORE_SRC))
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

.PHONY: hakmem hakmem-release hakmem-debug hakmem-timing hakmem-api hakmem-docs hakmem-tests
hakmem-release: $(BUILD)/lib/libhakmem.a $(BUILD)/lib/libhakmem.so
hakmem-debug: $(BUILD)/lib/libhakmem_debug.a $(BUILD)/lib/libhakmem_debug.so
hakmem-timing: $(BUILD)/lib/libhakmem_timing.a $(BUILD)/lib/libhakmem_timing.so
hakmem-api: $(BUILD)/lib/libhakmem_api.a
hakmem: hakmem-release hakmem-debug hakmem-api $(if $(HAKMEM_HAS_PROFILE),hakmem-timing)

# The option reference is generated from the option table (and committed).
HAKMEM_OPTIONS_DOC := docs/HAKMEM_OPTIONS.md
hakmem-docs: $(HAKMEM_DIR)/tools/gen_options_doc.py $(HAKMEM_DIR)/src/core/options.def
	@mkdir -p $(dir $(HAKMEM_OPTIONS_DOC))
	$(PYTHON) $(HAKMEM_DIR)/tools/gen_options_doc.py $(HAKMEM_DIR)/src/core/options.def > $(HAKMEM_OPTIONS_DOC)

# C unit tests: each tests/<name>.c links the debug archive (assertions on)
# and is compiled as that build is (HAKMEM_DEBUG), so that the thread state
# it reads has the same layout, debug counters included.
HAKMEM_TEST_SRC := $(wildcard $(HAKMEM_DIR)/tests/*.c)  # test_*: unit tests; others: probes
HAKMEM_TEST_BIN := $(patsubst $(HAKMEM_DIR)/tests/%.c,$(BUILD)/hakmem-tests/%,$(HAKMEM_TEST_SRC))
HAKMEM_TEST_CFLAGS := -DHAKMEM_DEBUG -std=gnu11 -O1 -g -pthread -Wall -Wextra -Wno-alloc-size-larger-than -fno-builtin-malloc -fno-builtin-free \
	-fno-builtin-calloc -fno-builtin-realloc

$(BUILD)/hakmem-tests/%: $(HAKMEM_DIR)/tests/%.c $(wildcard $(HAKMEM_DIR)/tests/*.h) $(BUILD)/lib/libhakmem_debug.a
	@mkdir -p $(@D)
	$(CC) $(HAKMEM_CPPFLAGS) $(HAKMEM_TEST_CFLAGS) -o $@ $< \
		-Wl,--whole-archive $(BUILD)/lib/libhakmem_debug.a -Wl,--no-whole-archive -pthread

hakmem-tests: $(HAKMEM_TEST_BIN)

TEST_PREREQS += hakmem hakmem-tests

# hakmem's library of another commit, for A/B runs through the harness
# against this tree's (variants `before` and `preload` of bench.toml):
#   make hakmem-before REV=<commit>
#   make run-suite-only VARIANTS=before,preload ALLOCATORS=hakmem ...
# Built from `git archive` of the commit, so the work tree is untouched.
HAKMEM_BEFORE_SRC := $(BUILD)/hakmem-before-src
hakmem-before:
	@test -n "$(REV)" || { echo "hakmem-before: name the commit to build, e.g. make hakmem-before REV=HEAD~1" >&2; exit 2; }
	@git rev-parse --verify --quiet "$(REV)^{commit}" > /dev/null || \
		{ echo "hakmem-before: '$(REV)' is not a commit of this repository; pass REV=<commit>" >&2; exit 2; }
	rm -rf $(HAKMEM_BEFORE_SRC) && mkdir -p $(HAKMEM_BEFORE_SRC) $(BUILD)/lib
	git archive "$(REV)" | tar -x -C $(HAKMEM_BEFORE_SRC)
	$(MAKE) -C $(HAKMEM_BEFORE_SRC) BUILD=build build/lib/libhakmem.so
	cp $(HAKMEM_BEFORE_SRC)/build/lib/libhakmem.so $(BUILD)/lib/libhakmem_before.so
	git rev-parse "$(REV)^{commit}" > $(BUILD)/lib/libhakmem_before.commit
	rm -rf $(HAKMEM_BEFORE_SRC)
.PHONY: hakmem-before
