"""The record of a grading: results and how each test ended, the gradebook, and reports read from it."""
