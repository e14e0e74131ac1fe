"""Trusted-side checks: helpers hidden tests use to inspect learner artifacts as data."""
