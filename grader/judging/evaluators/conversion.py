"""The course's reference conversions, for the evaluator only; never shipped to learners.

This module computes the artifacts learners are graded on making: the
TFLite variants of a Keras fixture (float32, float16, dynamic range, full
int8) and the frozen GraphDef. It is a worked solution of the mobile
exercises, so ``hml release`` leaves it out of the learner bundle (see
``grader/instructor_tools/release.py``); public tests read the few reference numbers they
need from ``grader/fixtures/public_references.json`` instead, written by
``grader/fixtures/make_fixtures.py`` and checked against this module by
``tests/test_exercise_mobile_fixtures.py``.

Like every evaluator recipe, each function returns plain data.
"""
from __future__ import annotations

import numpy as np

from grader.judging.evaluators.tflite import KINDS, accuracy_of, predict


def convert_model(model, kind: str, calibration=None) -> bytes:
    """The course's reference conversion of a Keras model to one of ``KINDS``."""
    import tensorflow as tf

    if kind not in KINDS:
        raise ValueError(f"unknown variant {kind!r}; expected one of {KINDS}")
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if kind != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if kind == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if kind == "int8":
        samples = np.asarray(calibration, dtype=np.float32)

        def representative_data():
            for row in samples:
                yield [row[np.newaxis, :]]

        converter.representative_dataset = representative_data
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    return bytes(converter.convert())


def reference(ctx, fixture: str, kind: str, calibration=None) -> bytes:
    """The reference flatbuffer of fixture model ``fixture`` as variant ``kind``."""
    from grader.sandbox.recipes import keras as fixtures

    return convert_model(fixtures.load_model(fixture), kind, calibration)


def variants(ctx, fixture: str, calibration, x_val, y_val, probes=None) -> dict:
    """Every variant of ``fixture``: ``{kind: {"size", "accuracy" on (x_val, y_val)}}``.

    With ``probes``, each variant also carries ``"outputs"``: its float32
    (dequantized) outputs on them, so a learner's model can be compared with
    the reference variants without converting again.
    """
    from grader.sandbox.recipes import keras as fixtures

    model = fixtures.load_model(fixture)
    found = {}
    for kind in KINDS:
        content = convert_model(model, kind, calibration)
        found[kind] = {"size": len(content), "accuracy": accuracy_of(content, x_val, y_val)}
        if probes is not None:
            found[kind]["outputs"] = predict(content, probes)
    return found


def freeze_reference(ctx, fixture: str, input_name: str = "x") -> bytes:
    """The reference frozen GraphDef of fixture ``fixture``, its input placeholder named ``input_name``."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    from grader.sandbox.recipes import keras as fixtures

    model = fixtures.load_model(fixture)
    function = tf.function(lambda x: model(x, training=False))
    concrete = function.get_concrete_function(
        tf.TensorSpec([None, fixtures.n_features(fixture)], tf.float32, name=input_name))
    frozen = convert_variables_to_constants_v2(concrete)
    return frozen.graph.as_graph_def().SerializeToString()
