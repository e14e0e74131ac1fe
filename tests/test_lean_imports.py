"""kfp imported without its REST client (grader/lean_imports.py) is still the kfp a learner's code expects.

Each case runs in a fresh interpreter: what matters is what a worker's first import of kfp leaves behind.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = textwrap.dedent("""
    import json, os, sys
    from grader import lean_imports
    for name in ("kfp", "kfp.dsl", "kfp.compiler"):
        lean_imports.import_module(name)
    seen = {"client_loaded": "kfp.client" in sys.modules, "runtime_flag": os.environ.get("_KFP_RUNTIME")}

    # What a learner's module does, after the worker's preload.
    import kfp
    from kfp import compiler, dsl

    @dsl.component
    def hello(name: str) -> str:
        return "hi " + name

    @dsl.pipeline(name="p")
    def pipeline(name: str = "x"):
        hello(name=name)

    compiler.Compiler().compile(pipeline, os.path.join(sys.argv[1], "p.yaml"))
    seen["compiled"] = os.path.getsize(os.path.join(sys.argv[1], "p.yaml")) > 0
    seen["client"] = kfp.Client.__name__
    seen["client_module"] = kfp.client.__name__
    seen["missing"] = hasattr(kfp, "no_such_part")
    print(json.dumps(seen))
""")


def test_kfp_without_its_client_compiles_and_still_offers_the_client(tmp_path):
    """The preload leaves kfp.client unloaded and _KFP_RUNTIME unset; the DSL and compiler work, and
    kfp.Client (and kfp.client) load when a learner's code names them; an unknown name is still an AttributeError."""
    probe = tmp_path / "probe.py"  # a file: kfp reads a component's source from it
    probe.write_text(PROBE)
    out = subprocess.run([sys.executable, str(probe), str(tmp_path)], capture_output=True, text=True, timeout=120,
                         cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-2000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen == {"client_loaded": False, "runtime_flag": None, "compiled": True, "client": "Client",
                    "client_module": "kfp.client", "missing": False}
