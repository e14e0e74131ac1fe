"""Recipes that compile the learner's Kubeflow Pipelines code inside the learner's worker.

The learner's worker only compiles: pipelines and components become KFP
YAML packages, which cross the trust boundary as bytes. They are run in the
pipeline runner (``grader/sandbox/recipes/kfp_local.py``), a sandboxed worker that
never imports the learner's module, so nothing the module does to its own
process (patched classes, patched libraries, environment variables) can
shape a run. A package is the learner's artifact: what it computes when run
is the evidence, never what this process says about it.
"""
from __future__ import annotations

import re
from typing import Any


class _Missing(LookupError):
    """The module does not define the object a test named."""


def compile_package(ctx, pipeline: str, filename: str = "kfp-compiled.yaml") -> dict:
    """Compile the learner's pipeline object ``pipeline`` with kfp's own compiler.

    Independent of the learner's ``compile_pipeline``, so an IR check can go on
    when only that function is broken. Returns ``{"ok", "path", "error"}``; the
    package is read back with ``learner.read_bytes(filename)``.
    """
    from kfp import compiler

    target = ctx.scratch / filename
    try:
        compiler.Compiler().compile(_learner_object(ctx, pipeline), str(target))
    except Exception as exc:  # noqa: BLE001 - reported as data
        return {"ok": False, "path": None, "error": _describe(exc)}
    return {"ok": True, "path": filename, "error": None}


def compile_objects(ctx, names: list) -> dict:
    """Compile each named pipeline or component alone: ``{name: {"ok", "package", "missing", "error"}}``.

    ``package`` is the YAML package's bytes; ``missing`` says the module does
    not define the name at all.
    """
    from kfp import compiler

    found: dict[str, dict[str, Any]] = {}
    folder = ctx.scratch / "kfp-objects"
    folder.mkdir(exist_ok=True)
    for name in names:
        target = folder / f"{_safe(name)}.yaml"
        try:
            compiler.Compiler().compile(_learner_object(ctx, name), str(target))
            found[name] = {"ok": True, "package": target.read_bytes(), "missing": False, "error": None}
        except Exception as exc:  # noqa: BLE001 - reported as data
            found[name] = {"ok": False, "package": None, "missing": isinstance(exc, _Missing),
                           "error": _describe(exc)}
    return found


def _learner_object(ctx, name: str):
    if ctx.module is None:
        raise RuntimeError("no learner module in this worker")
    obj = getattr(ctx.module, name, None)
    if obj is None:
        raise _Missing(f"your module does not define {name!r}")
    return obj


def _describe(exc: BaseException) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", f"{type(exc).__name__}: {exc}")[:2000]


def _safe(name: Any) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(name))[:40]
