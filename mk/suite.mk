# Suites: `make run-suite`, `make larson` (owned by the runner's work).
.PHONY: run-suite larson
