"""Autograder and self-check quizzes for the Building Hybrid ML Systems module."""

__version__ = "0.1.0"
