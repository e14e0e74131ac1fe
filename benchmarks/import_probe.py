"""A pytest plugin for benchmarks/grade_batch.py: which heavy imports happen where, and how often.

Loaded into the trusted pytest process of each grading (``-p import_probe``,
with ``benchmarks/`` on ``PYTHONPATH``). It counts the workers the grading
starts (a cold one imports its ``preload`` libraries at start; one forked from a warm pool has them
already) and lists the
heavy libraries the trusted process itself imported, and splits its time:
``tests_seconds`` (every test's setup, call and teardown) and
``ready_seconds`` (of that, waiting for workers to start), then writes one
JSON line to ``$HML_PROBE_FILE``. Not a test; the grader never loads it
otherwise.
"""
from __future__ import annotations

import json
import os
import sys
import time

HEAVY = ("tensorflow", "keras", "kfp", "google.cloud.aiplatform", "ai_edge_litert")
_started: list[dict] = []
_seconds = {"tests": 0.0, "ready": 0.0}


def pytest_configure(config) -> None:
    from grader.sandbox import proxy as learner

    original = learner.Worker.__init__

    def counting_init(self, spec):
        original(self, spec)
        _started.append({"preload": list(spec.preload), "learner": spec.module_name is not None,
                         "forked": getattr(self, "_fork", None) is not None})

    learner.Worker.__init__ = counting_init
    waiting = learner.Worker.wait_ready

    def timed_wait_ready(self):
        started = time.perf_counter()
        try:
            return waiting(self)
        finally:
            _seconds["ready"] += time.perf_counter() - started

    learner.Worker.wait_ready = timed_wait_ready


def pytest_runtest_logreport(report) -> None:
    _seconds["tests"] += report.duration


def pytest_unconfigure(config) -> None:
    path = os.environ.get("HML_PROBE_FILE")
    if not path:
        return
    with open(config.getoption("--hml-config")) as stream:
        grading = json.load(stream)
    record = {"exercise": grading["exercise"], "submission": grading["submission"],
              "sandbox": grading.get("sandbox"), "workers": _started,
              "trusted_heavy": sorted(m for m in HEAVY if m in sys.modules),
              "tests_seconds": _seconds["tests"], "ready_seconds": _seconds["ready"]}
    with open(path, "a") as stream:
        stream.write(json.dumps(record) + "\n")
