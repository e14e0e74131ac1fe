"""The memory a batch holds: proportional set sizes of its processes, sampled while it grades.

PSS, not RSS: a fork shares its warm parent's pages, and RSS would count
them once per process. Each sample walks the processes below this one
(bubblewrap's included: a pool's parent sits inside its sandbox) and sorts
them by what they are, from their command line:

- a warm pool's parent (``--warm-control``; its ``--preload`` says which);
- the pytest parent and the pipeline runners' task parents;
- everything else: workers forked or started for a submission, trusted
  pytest runs, the tasks of a pipeline.

Used by ``grade_batch.py``; Linux only (``/proc``).
"""
from __future__ import annotations

import os
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from grader.sandbox.processes import descendants, process_table

KIB_PER_MIB = 1024


@dataclass
class MemoryPeaks:
    total_mib: float = 0.0                                 # the largest sum over every process, one sample
    pools_mib: dict[str, float] = field(default_factory=dict)  # a pool parent's preload -> its largest PSS
    parents_mib: dict[str, float] = field(default_factory=dict)  # pytest parent, task parent -> largest PSS


class MemorySampler:
    """``with MemorySampler() as sampler: ...``, then ``sampler.peaks``."""

    def __init__(self, every: float = 0.25):
        self.every = every
        self.peaks = MemoryPeaks()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="memory-sampler")

    def __enter__(self) -> "MemorySampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.sample()

    def sample(self) -> None:
        total = 0.0
        pools: dict[str, float] = defaultdict(float)
        parents: dict[str, float] = defaultdict(float)
        for pid in descendants(process_table(), os.getpid()):
            pss = pss_mib(pid)
            argv = command_line(pid)
            if pss is None or argv is None:
                continue  # gone meanwhile
            total += pss
            if "--warm-control" in argv:
                name = _after(argv, "--preload") or "(nothing)"
                pools[name] = max(pools[name], pss)
            elif any("warm_pytest" in arg for arg in argv):
                parents["pytest parent"] = max(parents["pytest parent"], pss)
            elif any("task_parent" in arg for arg in argv):
                parents["task parent"] = max(parents["task parent"], pss)
        self.peaks.total_mib = max(self.peaks.total_mib, total)
        for name, value in pools.items():
            self.peaks.pools_mib[name] = max(self.peaks.pools_mib.get(name, 0.0), value)
        for name, value in parents.items():
            self.peaks.parents_mib[name] = max(self.peaks.parents_mib.get(name, 0.0), value)


def pss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / KIB_PER_MIB
    except (OSError, ValueError):
        return None
    return None


def command_line(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return None


def _after(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1] if flag in argv[:-1] else ""
