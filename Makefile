# hakmem-bench: build, deps, test, run-suite, figures, sanitizer and stress targets.
#
#   make                 build hakmem and every workload for every allocator
#   make deps            install missing Debian packages (as root; else print the line)
#   make run-suite THREADS=1,4 [SUITE= ALLOCATORS= WORKLOADS= REPS= ...]
#   make figures RESULTS=results/<run>
#   make test            every test, ending with pytest's summary line
#
# Each concern has its own fragment under mk/.

.DEFAULT_GOAL := all
SHELL := /bin/bash
.DELETE_ON_ERROR:
.SUFFIXES:

ifeq ($(origin CC),default)
CC := gcc
endif
BUILD ?= build
CONFIG ?= bench.toml

include mk/python.mk
include mk/deps.mk

# What to build comes from bench.toml (allocators, workload programs).
-include $(BUILD)/config.mk
$(BUILD)/config.mk: $(CONFIG) runners/bench_config.py
	@mkdir -p $(BUILD)
	$(PYTHON) runners/bench_config.py --make $(CONFIG) > $@.tmp && mv $@.tmp $@

include mk/hakmem.mk
include mk/workloads.mk
include mk/suite.mk
include mk/analysis.mk
include mk/reliability.mk
include mk/test.mk

.PHONY: all clean
all: hakmem workloads

clean:
	rm -rf $(BUILD)
