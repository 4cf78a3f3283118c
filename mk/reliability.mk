# Reliability: check-asan, check-tsan, stress, fuzz, real programs (owned by the reliability work).
.PHONY: check-asan check-tsan stress fuzz
