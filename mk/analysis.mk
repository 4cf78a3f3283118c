# Analysis: `make figures RESULTS=<dir>` (owned by the analysis work).
#
#   make figures RESULTS=results/<run>   PNG and PDF under results/<run>/figures/
#   make analyze RESULTS=results/<run>   the table (quick_analyze.py), TABLE_FORMAT=text|markdown|csv,
#                                        FOCUS=hakmem: that allocator against every other, and the bar
#
# Both read stored results only; they need Debian's pandas, matplotlib, scipy.
.PHONY: figures analyze need-results-dir
TABLE_FORMAT ?= text

need-results-dir:
	@[ -n "$(RESULTS)" ] || { echo "error: RESULTS is not set; name a result directory, e.g. make $(MAKECMDGOALS) RESULTS=results/reference" >&2; exit 2; }

figures: need-sci-python need-results-dir
	$(PYTHON) analysis/figures.py $(RESULTS)

analyze: need-sci-python need-results-dir
	$(PYTHON) analysis/quick_analyze.py --format $(TABLE_FORMAT) $(if $(FOCUS),--focus $(FOCUS)) $(RESULTS)
