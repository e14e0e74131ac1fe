"""Evaluator recipes: code that computes reference answers or parses learner artifacts.

They run only in an evaluator, the sandboxed worker that holds no learner
code; like the rest of ``grader/judging``, this folder is never mounted into a
learner's sandbox.
"""
