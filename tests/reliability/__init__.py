"""Reliability checks: sanitizers, stress, fuzzing, API edge cases, real programs, harness faults."""
