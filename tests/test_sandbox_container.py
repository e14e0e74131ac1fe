"""Grading inside a container: namespaces denied, as Docker's default seccomp profile denies them.

The grader is started under a seccomp filter that refuses ``unshare``,
``setns``, the namespace flags of ``clone`` and ``clone3`` (glibc then falls
back to ``clone``), which is what Docker's default profile does to a process
without CAP_SYS_ADMIN. bubblewrap cannot start there, so ``--sandbox auto``
must pick Landlock, and Landlock must still contain the attacks that matter:
snooping for hidden tests, the network, and tampering with results.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grading_helpers import accepted_connections

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "hostile"
NAMESPACE_FLAGS = {"CLONE_NEWNS": 0x00020000, "CLONE_NEWCGROUP": 0x02000000, "CLONE_NEWUTS": 0x04000000,
                   "CLONE_NEWIPC": 0x08000000, "CLONE_NEWUSER": 0x10000000, "CLONE_NEWPID": 0x20000000,
                   "CLONE_NEWNET": 0x40000000}

# Installs the filter, then becomes `hml` (the filter is kept across exec and by every child).
CONTAINED = textwrap.dedent("""
    import errno, os, sys
    import pyseccomp as seccomp
    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in ("unshare", "setns"):
        rules.add_rule(seccomp.ERRNO(errno.EPERM), name)
    for flag in {flags}:
        rules.add_rule(seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    rules.load()
    os.execv(sys.executable, [sys.executable, "-m", "grader.cli", *sys.argv[1:]])
""").format(flags=sorted(NAMESPACE_FLAGS.values()))

PROBE_BWRAP = "import sys; from grader.sandbox.launch import can_sandbox; sys.exit(0 if can_sandbox() else 3)"


def _contained(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CONTAINED, *args], capture_output=True, text=True, timeout=600,
                          cwd=str(cwd), env=env)


@pytest.fixture(scope="module")
def contained_batch(tmp_path_factory):
    pytest.importorskip("pyseccomp")
    tmp = tmp_path_factory.mktemp("container")
    output = tmp / "out"
    listener = socket.create_server(("127.0.0.1", 0))
    submissions = []
    for name in ("read_hidden", "network", "write_output"):
        text = (HOSTILE / f"{name}.py").read_text().replace("{{SOLUTIONS}}", str(ROOT / "solutions"))
        text = text.replace("{{OUTPUT}}", str(output)).replace("{{PORT}}", str(listener.getsockname()[1]))
        folder = tmp / name
        folder.mkdir()
        (folder / "placement.py").write_text(text)
        submissions.append(str(folder))
    env = {k: v for k, v in os.environ.items() if k != "HML_SANDBOX"}
    probe = subprocess.run([sys.executable, "-c", CONTAINED.replace(
        'os.execv(sys.executable, [sys.executable, "-m", "grader.cli", *sys.argv[1:]])',
        f"exec({PROBE_BWRAP!r})")], capture_output=True, text=True, cwd=str(ROOT), timeout=120, env=env)
    reference = str(ROOT / "solutions" / "hybrid_placement" / "placement.py")
    graded = _contained("grade", "-e", "hybrid_placement", "-o", str(output), "--jobs", "2", *submissions, reference,
                        env=env)
    connections = accepted_connections(listener)
    return {"probe": probe, "graded": graded, "output": output, "connections": connections}


def _result(batch, name: str) -> dict:
    return json.loads((batch["output"] / name / "results.json").read_text())


def test_bubblewrap_cannot_start_under_the_filter(contained_batch):
    """The filter really denies namespaces: bubblewrap's own probe fails inside it."""
    assert contained_batch["probe"].returncode == 3, contained_batch["probe"].stderr


def test_auto_picks_landlock_and_the_reference_earns_full_marks(contained_batch):
    """Inside the container `--sandbox auto` grades with Landlock, and says so in every result."""
    graded = contained_batch["graded"]
    assert graded.returncode == 0, graded.stdout[-3000:] + graded.stderr[-3000:]
    reference = _result(contained_batch, "placement")
    assert reference["extra_data"]["sandbox"]["kind"] == "landlock"
    assert "no TCP bind or connect" in reference["extra_data"]["sandbox"]["protections"]
    assert reference["score"] == reference["extra_data"]["max_score"] > 0


def test_snooping_network_and_tampering_are_contained(contained_batch):
    """Graded under Landlock (as each result records), the attacks earn nothing: no line of the hidden tests
    reaches the feedback, no connection reaches the host's listener, and no result or course file is written
    on the host. Judged from what the grader recorded and what is on the host, never from what the attacks
    printed."""
    results = {name: _result(contained_batch, name) for name in ("read_hidden", "network", "write_output")}
    for name, result in results.items():
        assert result["extra_data"]["sandbox"]["kind"] == "landlock", name
        assert result["score"] == 0 and result["tests"], name
    feedback = "\n".join(t["output"] for t in results["read_hidden"]["tests"])
    hidden = (ROOT / "solutions" / "hybrid_placement" / "test_hidden.py").read_text().splitlines()
    assert not [line for line in hidden if len(line.strip()) > 30 and line.strip() in feedback]
    assert contained_batch["connections"] == 0, f"{contained_batch['connections']} connections reached the host"
    assert not (contained_batch["output"] / "planted.txt").exists()
    assert not (ROOT / "solutions" / "planted.txt").exists()
