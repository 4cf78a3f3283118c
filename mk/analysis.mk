# Analysis: `make figures RESULTS=<dir>` (owned by the analysis work).
.PHONY: figures
