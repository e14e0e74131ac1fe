"""Reference outputs of the Keras fixture models, for the evaluator only."""
from __future__ import annotations

import numpy as np

from grader.sandbox.recipes.keras import load_model


def predict(ctx, name: str, x) -> np.ndarray:
    """The fixture model's own (Keras) outputs for ``x``: float32 ``(n, classes)``."""
    model = load_model(name)
    return np.asarray(model(np.asarray(x, dtype=np.float32), training=False), dtype=np.float32)


def accuracy(ctx, name: str, x, y) -> float:
    """The Keras model's accuracy on ``(x, y)``."""
    return float(np.mean(predict(ctx, name, x).argmax(axis=1) == np.asarray(y)))
