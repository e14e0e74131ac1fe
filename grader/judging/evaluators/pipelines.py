"""Recipes that compile the course's own pipelines into KFP YAML packages.

Meant for the ``evaluator`` (a worker that holds no learner code): a test
sends the text of a pipeline module it keeps on the trusted side, the recipe
compiles one pipeline of it with kfp's compiler and returns the package as
bytes, which the test then hands to the learner's worker with
``learner.write_bytes``. Nothing about any particular pipeline lives here:
this file is shipped to learners, the pipeline sources are not.

KFP lightweight components need their source on disk (``inspect.getsource``),
so the text is written to a module file and imported, never ``exec``'d.
"""
from __future__ import annotations

import hashlib
import importlib.util
import sys
import tempfile
from pathlib import Path


def compile_source(ctx, source: str, pipeline: str) -> bytes:
    """Compile the pipeline function named ``pipeline`` defined in ``source``; the package's bytes."""
    from kfp import compiler

    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:12]
    module_name = f"_course_pipelines_{digest}"
    with tempfile.TemporaryDirectory(dir=ctx.scratch) as directory:
        module_path = Path(directory) / f"{module_name}.py"
        module_path.write_text(source, encoding="utf-8")
        module = sys.modules.get(module_name)
        if module is None:
            spec = importlib.util.spec_from_file_location(module_name, module_path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                sys.modules.pop(module_name, None)
                raise
        function = getattr(module, pipeline, None)
        if function is None:
            raise LookupError(f"the pipeline source defines no {pipeline!r}")
        package = Path(directory) / f"{pipeline}.yaml"
        compiler.Compiler().compile(function, str(package))
        return package.read_bytes()
