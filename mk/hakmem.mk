# hakmem: build/lib/libhakmem.{a,so} (release), the timing and debug builds.
# (Owned by the allocator's work; this placeholder builds nothing yet.)
.PHONY: hakmem
hakmem:
