# Suites (owned by the runner's work).
#
#   make run-suite THREADS=1,4 [SUITE= ALLOCATORS= WORKLOADS= VARIANTS= REPS=
#                  RUNTIME= TIMEOUT= OUT= RESUME= PIN= TIMER= SHUFFLE_SEED= CONFIG=]
#   make larson PROFILE=<name> THREADS=1,4 [the same variables]
#
# Both install missing Debian packages (make deps), build everything, then
# run runners/run_suite.py (run-suite-only and larson-only skip deps and the
# build); each variable is passed as the runner option of
# the same name (see `$(PYTHON) runners/run_suite.py --help`). CONFIG= is
# passed only when given, so the default stays the repository's bench.toml.
.PHONY: run-suite larson run-suite-only larson-only

RUNNER := runners/run_suite.py
# make variable:runner option. A variable that is empty passes nothing.
SUITE_VAR_OPTIONS := THREADS:threads SUITE:suite ALLOCATORS:allocators WORKLOADS:workloads \
  VARIANTS:variants REPS:reps RUNTIME:runtime TIMEOUT:timeout OUT:out RESUME:resume PIN:pin \
  TIMER:timer SHUFFLE_SEED:seed
suite_var = $(word 1,$(subst :, ,$(1)))
suite_opt = $(word 2,$(subst :, ,$(1)))
SUITE_OPTS = $(foreach p,$(SUITE_VAR_OPTIONS),$(if $($(call suite_var,$(p))),--$(call suite_opt,$(p))='$($(call suite_var,$(p)))')) \
  $(if $(filter command line environment,$(origin CONFIG)),--config='$(CONFIG)') \
  --cflags='$(WL_CFLAGS)'

run-suite:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory run-suite-only

larson:
	@[ -n "$(PROFILE)" ] || { echo "error: make larson needs PROFILE=<name> of [larson_profiles] in $(CONFIG)" >&2; exit 2; }
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory larson-only

# The same without deps and build (for a tree that is built already).
run-suite-only:
	$(PYTHON) $(RUNNER) $(SUITE_OPTS)

larson-only:
	$(PYTHON) $(RUNNER) --larson-profile='$(PROFILE)' $(SUITE_OPTS)

# `make print-VAR` prints a make variable (meta.json records WL_CFLAGS this way).
print-%:
	@echo '$($*)'
