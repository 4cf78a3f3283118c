# Reliability: sanitizer builds, stress, fuzzing, API edge cases, real programs.
#
#   make check-asan                  hakmem's unit tests, stress and edge cases (all through the
#                                    hak_ API) and the threaded workloads under ASan+UBSan
#   make check-tsan                  the same under ThreadSanitizer
#   make stress [THREADS=16] [DURATION=60]   the stress program on hakmem's malloc
#   make fuzz [FUZZ_SECONDS=60]      the libFuzzer target on hakmem's hak_ API
#   make check-real                  real programs under LD_PRELOAD=build/lib/libhakmem.so vs glibc
#
# Sanitizers own malloc, so the sanitized builds compile hakmem's core
# (HAKMEM_CORE_SRC of mk/hakmem.mk: everything but the malloc exports) with
# the sanitizer and call it through the hak_ names (-DHAK_STRESS_USE_API);
# the workloads, which call malloc, run on the sanitizer's own allocator, which
# checks the workloads' harness code. `make test` runs short versions of each
# check through the pytest files in tests/reliability/ (docs/RELIABILITY.md).
.PHONY: check-asan check-tsan check-real stress fuzz reliability-builds

REL_SRC := tests/reliability
REL_OUT := $(BUILD)/reliability
REL_CPPFLAGS := -Iallocators/hakmem/include -I$(REL_SRC)
REL_CFLAGS := -O2 -g -std=gnu11 -pthread -Wall -Wextra -fno-builtin
REL_HDR := $(wildcard $(REL_SRC)/*.h) allocators/hakmem/include/hakmem.h
REL_HAKMEM_A := $(BUILD)/lib/libhakmem.a
REL_HAKMEM_LINK := -Wl,--whole-archive $(REL_HAKMEM_A) -Wl,--no-whole-archive -lpthread
# Every header and table of hakmem: a sanitized object is rebuilt when one changes.
REL_HAKMEM_DEPS := $(shell find allocators/hakmem/src allocators/hakmem/include \
                     -name '*.h' -o -name '*.def' 2>/dev/null)
# The workloads that start threads: these run under the sanitizers.
REL_SAN_WORKLOADS ?= larson mid_mt cross_thread cache_scratch
# `make stress` defaults (THREADS is also run-suite's, so it gets no global default).
REL_STRESS_THREADS = $(or $(THREADS),16)
DURATION ?= 60
FUZZ_SECONDS ?= 60
REL_COMMA := ,
REL_CLANG ?= clang
# TSan maps its shadow at fixed addresses; some kernels' randomised layouts
# collide ("unexpected memory mapping"), so its programs run with ASLR off.
REL_TSAN_RUN := $(if $(shell command -v setarch),setarch $(shell uname -m) -R)
export REL_TSAN_RUN

# ---------------------------------------------------------------- glibc and hakmem builds

# Against glibc: the edge-case table's own proof, and a stress baseline.
$(REL_OUT)/%_system: $(REL_SRC)/%.c $(REL_HDR)
	@mkdir -p $(@D)
	$(CC) $(REL_CPPFLAGS) $(REL_CFLAGS) -o $@ $< -ldl

# Against hakmem's malloc exports (the release library).
$(REL_OUT)/%_hakmem: $(REL_SRC)/%.c $(REL_HDR) $(REL_HAKMEM_A)
	@mkdir -p $(@D)
	$(CC) $(REL_CPPFLAGS) $(REL_CFLAGS) -o $@ $< $(REL_HAKMEM_LINK) -ldl

# ---------------------------------------------------------------- sanitized builds
# $(1) = variant (asan, tsan, fuzz), $(2) = compiler, $(3) = flags for hakmem's
# core, $(4) = flags for the programs. Objects go to build/<variant>/obj/.
define REL_SAN_VARIANT
REL_$(1)_CORE_OBJ := $$(patsubst %.c,$(BUILD)/$(1)/obj/%.o,$$(HAKMEM_CORE_SRC))

$(BUILD)/$(1)/obj/%.o: %.c $$(REL_HAKMEM_DEPS)
	@mkdir -p $$(@D)
	$(2) $$(HAKMEM_CPPFLAGS) -O1 -g -pthread $(3) -c -o $$@ $$<

$(BUILD)/$(1)/libhakmem_core.a: $$(REL_$(1)_CORE_OBJ)
	@mkdir -p $$(@D)
	rm -f $$@ && ar rcs $$@ $$^

# A reliability program calling hakmem through the hak_ API.
$(BUILD)/$(1)/%: $(REL_SRC)/%.c $(REL_HDR) $(BUILD)/$(1)/libhakmem_core.a
	@mkdir -p $$(@D)
	$(2) $(REL_CPPFLAGS) -DHAK_STRESS_USE_API -O1 -g -pthread -fno-builtin $(4) \
	  -o $$@ $$< $(BUILD)/$(1)/libhakmem_core.a -lpthread -ldl -lm

# One of hakmem's own C unit tests, its malloc calls renamed to hak_ calls.
$(BUILD)/$(1)/hakmem-tests/%: allocators/hakmem/tests/%.c $(REL_SRC)/hak_api_remap.h $$(REL_HAKMEM_DEPS) $(BUILD)/$(1)/libhakmem_core.a
	@mkdir -p $$(@D)
	$(2) $$(HAKMEM_CPPFLAGS) -include $(REL_SRC)/hak_api_remap.h -O1 -g -pthread $(4) \
	  -o $$@ $$< $(BUILD)/$(1)/libhakmem_core.a -lpthread -ldl -lm

# A workload on the sanitizer's own malloc.
$(BUILD)/$(1)/wl/%: workloads/%.c $$(WL_COMMON_SRC) $$(WL_COMMON_HDR)
	@mkdir -p $$(@D)
	$(2) $$(WL_CPPFLAGS) -O1 -g -std=gnu11 -pthread $(4) -o $$@ $$< $$(WL_COMMON_SRC) $$(WL_LDLIBS)
endef

REL_ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
REL_TSAN_FLAGS := -fsanitize=thread
$(eval $(call REL_SAN_VARIANT,asan,$(CC),$(REL_ASAN_FLAGS),$(REL_ASAN_FLAGS)))
$(eval $(call REL_SAN_VARIANT,tsan,$(CC),$(REL_TSAN_FLAGS),$(REL_TSAN_FLAGS)))
$(eval $(call REL_SAN_VARIANT,fuzz,$(REL_CLANG),-fsanitize=fuzzer-no-link$(REL_COMMA)address,-fsanitize=fuzzer$(REL_COMMA)address$(REL_COMMA)undefined -fno-sanitize-recover=undefined))

# hakmem's sources come from mk/hakmem.mk; without them only the glibc builds exist.
REL_HAVE_HAKMEM := $(if $(strip $(HAKMEM_CORE_SRC)),yes)
REL_WORKLOADS_HERE := $(wildcard $(patsubst %,workloads/%.c,$(REL_SAN_WORKLOADS)))
REL_UNIT_TESTS := $(patsubst allocators/hakmem/tests/%.c,%,$(wildcard allocators/hakmem/tests/test_*.c))
REL_ASAN_BIN := $(if $(REL_HAVE_HAKMEM),$(BUILD)/asan/stress $(BUILD)/asan/api_edge \
    $(patsubst %,$(BUILD)/asan/hakmem-tests/%,$(REL_UNIT_TESTS))) \
  $(patsubst workloads/%.c,$(BUILD)/asan/wl/%,$(REL_WORKLOADS_HERE))
REL_TSAN_BIN := $(if $(REL_HAVE_HAKMEM),$(BUILD)/tsan/stress \
    $(patsubst %,$(BUILD)/tsan/hakmem-tests/%,$(REL_UNIT_TESTS))) \
  $(patsubst workloads/%.c,$(BUILD)/tsan/wl/%,$(REL_WORKLOADS_HERE))
REL_FUZZ_BIN := $(if $(REL_HAVE_HAKMEM),$(if $(shell command -v $(REL_CLANG)),$(BUILD)/fuzz/fuzz_hakmem))
REL_HAKMEM_BIN := $(if $(REL_HAVE_HAKMEM),$(REL_OUT)/stress_hakmem $(REL_OUT)/api_edge_hakmem)
REL_BUILDS := $(REL_OUT)/api_edge_system $(REL_OUT)/stress_system $(REL_HAKMEM_BIN) \
  $(REL_ASAN_BIN) $(REL_TSAN_BIN) $(REL_FUZZ_BIN)

# make test builds every reliability program before pytest runs the short checks.
TEST_PREREQS += $(REL_BUILDS)
reliability-builds: $(REL_BUILDS)

# ---------------------------------------------------------------- the checks

REL_NEED_HAKMEM = @[ -n "$(REL_HAVE_HAKMEM)" ] || { echo "error: $@ needs hakmem's sources (HAKMEM_CORE_SRC from mk/hakmem.mk); build hakmem first with 'make hakmem'" >&2; exit 2; }

# Full sanitizer checks: the pytest checks at their full length.
check-asan: $(REL_ASAN_BIN)
	$(REL_NEED_HAKMEM)
	RELIABILITY_FULL=1 $(PYTHON) -m pytest -q $(REL_SRC)/test_sanitizers.py $(REL_SRC)/test_api_edge.py -k asan

check-tsan: $(REL_TSAN_BIN)
	$(REL_NEED_HAKMEM)
	RELIABILITY_FULL=1 $(PYTHON) -m pytest -q $(REL_SRC)/test_sanitizers.py -k tsan

stress: $(if $(REL_HAVE_HAKMEM),$(REL_OUT)/stress_hakmem)
	$(REL_NEED_HAKMEM)
	$(REL_OUT)/stress_hakmem --threads $(REL_STRESS_THREADS) --seconds $(DURATION)

# The corpus grows in build/fuzz/corpus (seeded from the committed one), so a
# run never rewrites tests/fuzz/corpus/.
fuzz: $(REL_FUZZ_BIN)
	$(REL_NEED_HAKMEM)
	@[ -n "$(REL_FUZZ_BIN)" ] || { echo "error: make fuzz needs $(REL_CLANG) with libFuzzer; install Debian's clang and libclang-rt-14-dev (make deps)" >&2; exit 2; }
	@mkdir -p $(BUILD)/fuzz/corpus
	$(BUILD)/fuzz/fuzz_hakmem -max_total_time=$(FUZZ_SECONDS) -max_len=2048 -print_final_stats=1 \
	  $(BUILD)/fuzz/corpus tests/fuzz/corpus

check-real: hakmem
	$(PYTHON) -m pytest -q $(REL_SRC)/test_real_programs.py
