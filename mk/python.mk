# The Python interpreter. Debian's /usr/bin/python3 sees Debian's pandas and
# matplotlib; a python3 earlier on PATH may not. We take the first candidate
# that imports them (evaluated once, on first use), else /usr/bin/python3 for
# the standard-library runner; `need-sci-python` stops analysis targets with
# one clear sentence when none does.
PYTHON_CANDIDATES ?= /usr/bin/python3 python3
PYTHON_SCI_FOUND = $(eval PYTHON_SCI_FOUND := $(firstword $(foreach p,$(PYTHON_CANDIDATES),$(shell $(p) -c 'import pandas, matplotlib' >/dev/null 2>&1 && echo $(p)))))$(PYTHON_SCI_FOUND)
PYTHON ?= $(or $(PYTHON_SCI_FOUND),/usr/bin/python3)

.PHONY: need-sci-python
need-sci-python:
	@[ -n "$(PYTHON_SCI_FOUND)" ] || { echo "error: no python3 among '$(PYTHON_CANDIDATES)' imports pandas and matplotlib; run 'make deps' (Debian's python3-pandas, python3-matplotlib)" >&2; exit 2; }
