"""Fay's archive entry: stored as ../pipeline.py, it would land outside the unpacking folder."""
def concat(a, b):
    return a + b
