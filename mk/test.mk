# `make test`: build everything, then one pytest run over every test folder,
# so the last line is pytest's summary. Other fragments add what their tests
# need to TEST_PREREQS and their folders to TEST_PATHS.
TEST_PATHS += tests allocators/hakmem/tests
PYTEST_ARGS ?=

.PHONY: test
test: all $(TEST_PREREQS)
	$(PYTHON) -m pytest $(PYTEST_ARGS) $(TEST_PATHS)
