"""Trusted-side judging: helpers tests use to read learner artifacts as data (never mounted into a learner's worker)."""
