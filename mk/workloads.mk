# Workloads: every program under workloads/ built once per allocator of
# bench.toml as build/<allocator>/<program>, linked with that allocator's
# `link` flags. Files under build/ named in a `link` string (hakmem's
# library) become prerequisites.
# Loops and functions start on a cache line: each allocator's binary links
# other code before the workload's, and a hot loop that happens to cross a
# 64-byte boundary in one binary and not in another measured up to 2x apart
# (cache_scratch, docs/PERFORMANCE.md) - the link order, not the allocator.
WL_ALIGN := -falign-functions=64 -falign-loops=64
WL_CFLAGS ?= -O2 -g -std=gnu11 -pthread -Wall -Wextra -Wno-unused-parameter -fno-builtin-malloc -fno-builtin-free $(WL_ALIGN)
WL_CPPFLAGS := -Iworkloads/common
WL_LDLIBS := -ldl -lm -pthread
WL_COMMON_SRC := $(wildcard workloads/common/*.c)
WL_COMMON_HDR := $(wildcard workloads/common/*.h)
WL_COMMON_OBJ := $(patsubst workloads/common/%.c,$(BUILD)/common/%.o,$(WL_COMMON_SRC))

$(BUILD)/common/%.o: workloads/common/%.c $(WL_COMMON_HDR)
	@mkdir -p $(@D)
	$(CC) $(WL_CPPFLAGS) $(WL_CFLAGS) -c -o $@ $<

# $(1) = allocator name
define WL_ALLOCATOR_RULES
$(BUILD)/$(1)/%: workloads/%.c $(WL_COMMON_OBJ) $(WL_COMMON_HDR) $(filter $(BUILD)/%,$(LINK_$(1)))
	@mkdir -p $$(@D)
	$(CC) $(WL_CPPFLAGS) $(WL_CFLAGS) -o $$@ $$< $(WL_COMMON_OBJ) $(LINK_$(1)) $(WL_LDLIBS)
endef
$(foreach a,$(BENCH_ALLOCATORS),$(eval $(call WL_ALLOCATOR_RULES,$(a))))

WL_BINARIES := $(foreach a,$(BENCH_ALLOCATORS),$(foreach p,$(BENCH_PROGRAMS),$(BUILD)/$(a)/$(p)))

.PHONY: workloads
workloads: $(WL_BINARIES)

# The shared objects are kept between builds (not intermediate files).
.SECONDARY: $(WL_COMMON_OBJ)
