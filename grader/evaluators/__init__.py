"""Evaluator recipes: code that computes reference answers or parses learner artifacts.

They run only in an evaluator, the sandboxed worker that holds no learner
code. This folder (like ``grader/judging``) is never mounted into a learner's
sandbox: the reference conversions here would otherwise be one import away
from a submission.
"""
