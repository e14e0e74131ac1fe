"""Benchmark batch grading: the reference solutions graded as N learners.

    .venv/bin/python benchmarks/grade_batch.py [--learners 3] [--exercise ID ...] [--markdown FILE]

Prints, per exercise, the time to grade one submission (sandboxed and not:
the sandbox's overhead, same work), the throughput of the whole batch with
--jobs 1 and --jobs 2, where heavy libraries are imported (workers
started per submission, heavy modules in the trusted pytest process), and
the overhead per submission: its time less its tests' own work (the
learner's calls, the judging, the pipeline runs; waiting for a worker to
start counts as overhead) and the memory each warm pool's parent and the
whole batch hold at their largest (``memory.py``). The
batch cache is filled once before measuring, so every configuration grades
in the steady state a real batch reaches after its first submission.

Targets: sandbox overhead under 10%; --jobs 2 at least 1.6 times the
throughput of --jobs 1 on a 2-core machine; each heavy library imported
once per worker, and not at all in the trusted process unless a check needs it;
at most 0.3 s of overhead per submission. The class time (300 learners, every
exercise, --jobs 2) comes from a --jobs 2 run of 2N learners: in a long
batch both slots are always busy, so a learner costs the time its nine
gradings hold a slot (measured with the other slot busy, each exercise's
first submission per slot left out: it waits for the warm pools), halved;
the first submissions' extra is paid once. The run's own wall time is
printed beside the model's prediction for it. Scaling a short run's wall
time would charge the class the pools' start 300/N times and the short
run's idle tail (one slot left grading the last slow submission) too.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from memory import MemorySampler  # noqa: E402
from grader.batch.coordinator import run_batch  # noqa: E402
from grader.course.model import Course  # noqa: E402
from grader.grading.run import Job  # noqa: E402
from grader.batch.engines import LocalEngine  # noqa: E402
from grader.sandbox.launch import Sandbox, can_sandbox, choose  # noqa: E402

PROBE = ("-p", "import_probe")


def make_class(course: Course, exercises: list[str], learners: int, root: Path) -> dict[str, list[Path]]:
    """N copies of each reference, each with its own comment (distinct content, same work)."""
    found: dict[str, list[Path]] = defaultdict(list)
    for exercise_id in exercises:
        exercise = course.exercise(exercise_id)
        text = exercise.reference.read_text()
        for i in range(learners):
            folder = root / f"learner{i:02d}" / exercise_id
            folder.mkdir(parents=True)
            (folder / exercise.file).write_text(f"# learner {i}\n{text}")
            found[exercise_id].append(folder)
    return found


def run(course: Course, submissions: dict[str, list[Path]], *, workers: int, sandbox: Sandbox, cache_root: Path,
        out: Path, probe: Path | None = None) -> tuple[float, dict[str, list[float]], list]:
    """Grade through the path grade-course takes (scheduling, cache warming), without a gradebook."""
    jobs = []
    for exercise_id, paths in submissions.items():
        exercise = course.exercise(exercise_id)
        for path in paths:
            jobs.append(Job(exercise, path, f"{path.parent.name}-{exercise_id}", out))
    if probe is not None:
        os.environ["HML_PROBE_FILE"] = str(probe)
    engine = LocalEngine(cache_root, sandbox, workers, PROBE if probe is not None else ())
    outcome = run_batch(jobs, course=course, engine=engine, gradebook_path=None, workers=workers, command="benchmark",
                        quiet=True, show_progress=False)
    os.environ.pop("HML_PROBE_FILE", None)
    per_exercise: dict[str, list[float]] = defaultdict(list)
    problems = []
    for job, result in zip(jobs, outcome.per_job):
        per_exercise[job.exercise.id].append(result.execution_time)
        if probe is not None:
            _times[job.name] = result.execution_time
        if result.error or result.refused or result.score != result.max_score:
            problems.append((job.name, result.score, result.max_score, (result.error or result.refused or "")[:200]))
    return outcome.elapsed, per_exercise, problems


_times: dict[str, float] = {}  # submission name -> its grading's time, in the probed run


def class_cost(times: dict[str, list[float]], slots: int = 2) -> tuple[float, float]:
    """(slot-seconds paid once, slot-seconds per learner) from each exercise's gradings' times in a run with
    ``slots`` at once; a batch of L learners then takes about (once + L * per learner) / slots."""
    once = per_learner = 0.0
    for exercise_times in times.values():
        steady = statistics.mean(exercise_times[slots:])
        per_learner += steady
        once += sum(first - steady for first in exercise_times[:slots])
    return once, per_learner


def overhead_table(records: list[dict], exercises: list[str]) -> list[str]:
    """Per exercise, a submission's time split: its tests' own work (the learner's calls, the judging, the
    pipeline runs) and the rest (start-up, imports, intake, collection, waiting for workers, teardown).
    In the steady state: each exercise's first submission, which starts its warm pools, is left out."""
    rows = ["| exercise | seconds per submission | the tests' own work | overhead |", "| --- | ---: | ---: | ---: |"]
    for exercise_id in exercises:
        own = [r for r in records if r["exercise"] == exercise_id and r["submission"] in _times][1:]
        if not own:
            continue
        total = statistics.mean(_times[r["submission"]] for r in own)
        work = statistics.mean(r["tests_seconds"] - r["ready_seconds"] for r in own)
        rows.append(f"| {exercise_id} | {total:.2f} | {work:.2f} | {total - work:.2f} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=3)
    parser.add_argument("--exercise", action="append", default=[])
    parser.add_argument("--markdown", type=Path, help="also write the tables as Markdown to this file")
    options = parser.parse_args(argv)
    if options.learners < 2:
        parser.error("--learners must be at least 2: the class time needs gradings past each slot's first")
    if not can_sandbox():
        print("bubblewrap is not usable here: the benchmark compares sandboxed and unsandboxed grading")
        return 1
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "benchmarks"), os.environ.get("PYTHONPATH")]))
    course = Course(ROOT)
    exercises = options.exercise or course.exercise_ids()
    temporary = Path(tempfile.mkdtemp(prefix="hml-bench-"))
    lines: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    try:
        cache = temporary / "cache"
        sandbox = choose(os.environ.get("HML_SANDBOX", "auto"))
        warm = make_class(course, exercises, 1, temporary / "warm")
        started = time.monotonic()
        _, first, _ = run(course, warm, workers=2, sandbox=sandbox, cache_root=cache, out=temporary / "o0")
        say(f"warm-up (one submission per exercise, fills the batch cache): {time.monotonic() - started:.1f}s")
        exercises = sorted(exercises, key=lambda e: -first[e][0])  # the tables list the slowest first
        batch = make_class(course, exercises, options.learners, temporary / "class")
        batch = {e: batch[e] for e in exercises}
        load_before = os.getloadavg()[0]
        probe = temporary / "probe.jsonl"
        wall_1, sandboxed, problems_1 = run(course, batch, workers=1, sandbox=sandbox, cache_root=cache,
                                            out=temporary / "o1", probe=probe)
        wall_u, unsandboxed, problems_u = run(course, batch, workers=1, sandbox=Sandbox.NONE, cache_root=cache,
                                              out=temporary / "o2")
        with MemorySampler() as memory:
            wall_2, parallel, problems_2 = run(course, batch, workers=2, sandbox=sandbox, cache_root=cache,
                                               out=temporary / "o3")
        double = make_class(course, exercises, 2 * options.learners, temporary / "double")
        wall_2_double, long_run, problems_d = run(course, double, workers=2, sandbox=sandbox, cache_root=cache,
                                                  out=temporary / "o4")
        load_after = os.getloadavg()[0]
        total = options.learners * len(exercises)

        say()
        say(f"{options.learners} learners x {len(exercises)} exercises = {total} submissions, "
            f"{os.cpu_count()} CPUs, load average {load_before:.1f} before, {load_after:.1f} after")
        say()
        say("| exercise | seconds per submission (sandboxed) | unsandboxed | sandbox overhead | with --jobs 2 |")
        say("| --- | ---: | ---: | ---: | ---: |")
        for exercise_id in exercises:
            s, u, p = (statistics.mean(d[exercise_id]) for d in (sandboxed, unsandboxed, parallel))
            say(f"| {exercise_id} | {s:.2f} | {u:.2f} | {100 * (s - u) / u:+.1f}% | {p:.2f} |")
        all_s = sum(sum(v) for v in sandboxed.values())
        all_u = sum(sum(v) for v in unsandboxed.values())
        say(f"| **all** (sum) | {all_s:.1f} | {all_u:.1f} | {100 * (all_s - all_u) / all_u:+.1f}% | "
            f"{sum(sum(v) for v in parallel.values()):.1f} |")
        say()
        say("| configuration | wall time | submissions per minute | speed-up |")
        say("| --- | ---: | ---: | ---: |")
        say(f"| --jobs 1, unsandboxed | {wall_u:.1f}s | {60 * total / wall_u:.1f} | |")
        say(f"| --jobs 1 | {wall_1:.1f}s | {60 * total / wall_1:.1f} | 1.00 |")
        say(f"| --jobs 2 | {wall_2:.1f}s | {60 * total / wall_2:.1f} | {wall_1 / wall_2:.2f} |")
        say()
        once, per_learner = class_cost(long_run)
        learners = 2 * options.learners
        say(f"--jobs 2, {learners} learners: a learner holds a slot {per_learner:.1f}s in the steady state, the "
            f"first submissions {once:.1f}s more; predicted {(once + learners * per_learner) / 2:.1f}s, measured "
            f"{wall_2_double:.1f}s")
        say(f"a class of 300 learners over these {len(exercises)} exercises with --jobs 2: about "
            f"{(once + 300 * per_learner) / 2 / 60:.0f} minutes (scaling the {options.learners}-learner wall time "
            f"instead: {300 * wall_2 / options.learners / 60:.0f})")
        say()

        say("Memory with --jobs 2 (proportional set size, so pages a fork shares with its parent count once; "
            "peaks over samples every 0.25 s):")
        say()
        say("| process | peak PSS |")
        say("| --- | ---: |")
        for preload, mib in sorted(memory.peaks.pools_mib.items(), key=lambda item: -item[1]):
            say(f"| warm pool's parent: {preload.replace(',', ', ')} | {mib:.0f} MiB |")
        for name, mib in sorted(memory.peaks.parents_mib.items()):
            say(f"| {name} | {mib:.0f} MiB |")
        say(f"| **the whole batch at its largest** | {memory.peaks.total_mib:.0f} MiB |")
        say()
        records = [json.loads(line) for line in probe.read_text().splitlines()] if probe.is_file() else []
        by_exercise: dict[str, list[dict]] = defaultdict(list)
        for record in records:
            by_exercise[record["exercise"]].append(record)
        say("| exercise | workers per submission (learner + evaluator) | of them forked from a warm pool "
            "| what each imports (a forked one: its pool, once) | heavy modules in the trusted process |")
        say("| --- | ---: | ---: | --- | --- |")
        for exercise_id in exercises:
            own = by_exercise.get(exercise_id, [])
            if not own:
                continue
            counts = [len(r["workers"]) for r in own]
            forked = [sum(1 for w in r["workers"] if w.get("forked")) for r in own]
            kinds = sorted({f"{'learner' if w['learner'] else 'evaluator'}: {', '.join(w['preload']) or '-'}"
                            for r in own for w in r["workers"]})
            trusted = sorted({m for r in own for m in r["trusted_heavy"]})
            say(f"| {exercise_id} | {statistics.mean(counts):.1f} (max {max(counts)}) | {statistics.mean(forked):.1f} "
                f"| {'; '.join(kinds)} "
                f"| {', '.join(trusted) or 'none'} |")
        say()
        for row in overhead_table(records, exercises):
            say(row)
        problems = problems_1 + problems_u + problems_2 + problems_d
        if problems:
            say()
            say(f"{len(problems)} grading(s) did not earn full marks (a reference should):")
            for name, score, maximum, note in problems[:10]:
                say(f"  {name}: {score:g}/{maximum:g} {note}")
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    if options.markdown:
        options.markdown.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
