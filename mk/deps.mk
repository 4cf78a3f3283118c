# Debian packages the build, the suites and the tests need. `make deps`
# installs the missing ones as root (apt-get update first); as another user it
# prints the exact apt-get line to run. The allocator packages must match the
# `package` fields of bench.toml (tests/harness checks they do).
DEB_PACKAGES_BUILD := gcc make libc6-dev binutils git
DEB_PACKAGES_ALLOCATORS := libmimalloc-dev libjemalloc-dev libgoogle-perftools-dev
DEB_PACKAGES_RUN := python3 hyperfine util-linux
DEB_PACKAGES_ANALYSIS := python3-pandas python3-matplotlib python3-scipy jupyter-nbconvert python3-ipykernel python3-nbformat
DEB_PACKAGES_TEST := python3-pytest clang libclang-rt-14-dev valgrind sqlite3 redis-server redis-tools
DEB_PACKAGES := $(DEB_PACKAGES_BUILD) $(DEB_PACKAGES_ALLOCATORS) $(DEB_PACKAGES_RUN) $(DEB_PACKAGES_ANALYSIS) $(DEB_PACKAGES_TEST)

.PHONY: deps
deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: every Debian package is installed"; \
	elif [ "$$(id -u)" != 0 ]; then \
	  echo "deps: missing Debian packages; as root run:"; \
	  echo "apt-get update && apt-get install -y$$missing"; \
	else \
	  echo "deps: installing$$missing"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi
