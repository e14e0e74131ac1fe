"""Keras fixtures: deterministic synthetic data sets and the small classifiers trained on them.

The mobile exercises hand learners a real ``keras.Model``. Nothing is ever
downloaded: each data set is drawn from a fixed numpy recipe (the same
arrays on every machine), and each classifier's trained weights are stored
in ``grader/fixtures/<name>.npz`` next to the script that made them
(``grader/fixtures/make_fixtures.py``). The worker rebuilds the model from
the architecture below and those weights in a fraction of a second, so the
learner's worker and the evaluator hold the very same model.

The data sets:

- ``blobs``: Gaussian clusters, one per class, every feature on the same
  scale. Every TFLite variant of a model trained on them keeps its
  accuracy: the ordinary case.
- ``pressure``: the same, but one feature is a raw sensor reading (air
  pressure in hPa, about 1000, barely varying) that was never normalised.
  8-bit quantization spends its 256 levels on that large range, so the
  small, informative features round to nothing: dynamic range and full
  integer models lose most of their accuracy while float16 keeps it. This
  is the fixture that shows the choice of a variant must be *measured*.

The numpy helpers (``make_data``, ``fixture_data``) import no TensorFlow, so
the trusted test process can draw inputs and labels itself. The recipes
(``classifier``, ``saved_model``) import TensorFlow lazily; reference outputs live
in ``grader/judging/evaluators/keras.py``, out of a learner's reach.

Public tests need a few reference results for the public fixtures (the
float32 conversion's size and accuracy, the variants table, a converted and
a frozen model). The code that computes them stays out of the learner
bundle, so they are stored as data (``public_reference``, ``fixture_file``),
written by ``grader/fixtures/make_fixtures.py --references``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where data is made: every worker with learner code imports the recipe
    import numpy as np  # modules, and a KFP worker has no use for numpy's 0.07 s

FIXTURE_DIR = Path(__file__).resolve().parents[2] / "fixtures"
PUBLIC_REFERENCES = FIXTURE_DIR / "public_references.json"


@dataclass(frozen=True)
class DataSpec:
    n_features: int
    n_classes: int
    centre_seed: int          # fixes the class centres: the "world" the data comes from
    separation: float         # spread of the class centres (per-sample noise is 1.0)
    pressure: tuple | None = None  # (feature index, mean in hPa, std in hPa) of an unscaled feature


@dataclass(frozen=True)
class FixtureSpec:
    data: str                 # a key of DATASETS
    hidden: tuple = (256, 128)
    train_seed: int = 1       # draw of the training set
    init_seed: int = 0        # Keras initialisation and shuffling


DATASETS = {
    "blobs20": DataSpec(n_features=20, n_classes=4, centre_seed=7, separation=0.6),
    "blobs16": DataSpec(n_features=16, n_classes=3, centre_seed=11, separation=0.6),
    "pressure20": DataSpec(n_features=20, n_classes=4, centre_seed=23, separation=0.6,
                           pressure=(0, 1013.25, 8.0)),
    "pressure24": DataSpec(n_features=24, n_classes=5, centre_seed=29, separation=0.7,
                           pressure=(5, 990.0, 12.0)),
}

# 20 -> 256 -> 128 -> 4 has 38,788 weights; 16 -> 256 -> 128 -> 3 has 37,635;
# 24 -> 256 -> 128 -> 5 has 39,941.
FIXTURES = {
    "mlp": FixtureSpec(data="blobs20"),
    "mlp_b": FixtureSpec(data="blobs16", train_seed=3, init_seed=5),
    "fragile": FixtureSpec(data="pressure20", train_seed=1, init_seed=0),
    "fragile_b": FixtureSpec(data="pressure24", train_seed=4, init_seed=6),
}

TRAIN_SIZE = 4000


# ----------------------------------------------------------------------------- data (numpy only)

def make_data(dataset: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` samples of data set ``dataset`` drawn with ``seed``: float32 ``x (n, features)``, int64 ``y (n,)``."""
    import numpy as np

    spec = DATASETS[dataset]
    centres = np.random.default_rng(spec.centre_seed).normal(0.0, spec.separation,
                                                              size=(spec.n_classes, spec.n_features))
    rng = np.random.default_rng(seed)
    y = rng.integers(0, spec.n_classes, size=int(n))
    x = centres[y] + rng.normal(0.0, 1.0, size=(int(n), spec.n_features))
    if spec.pressure is not None:
        index, mean, std = spec.pressure
        x[:, index] = mean + std * rng.normal(0.0, 1.0, size=int(n))
    return x.astype(np.float32), y.astype(np.int64)


def fixture_data(name: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Samples from the data set the fixture model ``name`` was trained on."""
    return make_data(FIXTURES[name].data, n, seed)


def probe_inputs(calibration, n: int, seed: int) -> np.ndarray:
    """``n`` inputs drawn uniformly in the box the calibration data spans, float32.

    Off the data's clusters, where two classifiers trained on the same data
    disagree (so a conversion of the given model and a stand-in trained on the
    data are told apart), yet inside the range an int8 model was calibrated
    for, so clipping its quantized input spoils nothing.
    """
    import numpy as np

    calibration = np.asarray(calibration, dtype=np.float32)
    low, high = calibration.min(axis=0), calibration.max(axis=0)
    return (low + (high - low) * np.random.default_rng(seed).random((int(n), calibration.shape[1]))).astype(np.float32)


def n_features(name: str) -> int:
    return DATASETS[FIXTURES[name].data].n_features


def n_classes(name: str) -> int:
    return DATASETS[FIXTURES[name].data].n_classes


def weights_path(name: str) -> Path:
    return FIXTURE_DIR / f"{name}.npz"


def public_reference(exercise: str) -> dict:
    """The stored reference results a public test of ``exercise`` compares with (plain JSON data)."""
    return json.loads(PUBLIC_REFERENCES.read_text())[exercise]


def fixture_file(name: str) -> bytes:
    """A stored reference artifact named in the public references (a flatbuffer, a GraphDef)."""
    path = FIXTURE_DIR / name
    if path.parent != FIXTURE_DIR or not path.is_file():
        raise LookupError(f"no stored fixture file {name!r}")
    return path.read_bytes()


# ----------------------------------------------------------------------------- models (TensorFlow)

def architecture(name: str, input_name: str = "features"):
    """The untrained Keras model of fixture ``name`` (softmax outputs)."""
    import keras

    spec = FIXTURES[name]
    data = DATASETS[spec.data]
    layers = [keras.Input(shape=(data.n_features,), name=input_name)]
    for i, units in enumerate(spec.hidden, start=1):
        layers.append(keras.layers.Dense(units, activation="relu", name=f"hidden_{i}"))
    layers.append(keras.layers.Dense(data.n_classes, activation="softmax", name="probabilities"))
    return keras.Sequential(layers, name=name)


def load_model(name: str):
    """Fixture ``name`` with its stored, trained weights."""
    if name not in FIXTURES:
        raise LookupError(f"no Keras fixture {name!r}; known: {', '.join(sorted(FIXTURES))}")
    import numpy as np

    model = architecture(name)
    with np.load(weights_path(name)) as stored:
        weights = [stored[f"w{i}"] for i in range(len(stored.files))]
    model.set_weights(weights)
    return model


def classifier(ctx, name: str):
    """A ``build`` recipe: a fresh copy of the trained fixture model ``name`` (a ``keras.Model``).

    Fresh on every call, so whatever one learner call does to its model
    cannot change the model the next call receives.
    """
    return load_model(name)


def saved_model(ctx, name: str, directory: str = "saved_model") -> str:
    """Export fixture ``name`` as a TensorFlow SavedModel under the scratch directory; its path."""
    target = Path(ctx.scratch) / directory
    if target.exists():
        import shutil

        shutil.rmtree(target)
    load_model(name).export(str(target), verbose=False)
    return str(target)
