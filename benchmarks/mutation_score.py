"""Mutation score: grade every single-rule mutant of every table and count the ones the tests kill.

    .venv/bin/python benchmarks/mutation_score.py [--exercise ID ...] [--verbose]

The tables live in tests/mutants/ (one module per exercise; see its
docstring). A mutant is killed when it loses points; it is *named* when the
test its row expects lost all its points with a message naming the rule.
Prints a Markdown table per exercise (killed / mutants, named / mutants)
and lists the survivors, the rows marked as survivors with their reason,
and the rows whose verdict differs from their row. --verbose also prints,
for every mutant, the tests it failed and their messages.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from grader.course.model import Course  # noqa: E402
from grader.grading.run import grade_one  # noqa: E402
from grader.sandbox.launch import choose  # noqa: E402
from mutants import judge, mutant_source, reference_path, tables  # noqa: E402


def grade_mutant(course: Course, exercise_id: str, source: str, folder: Path, cache: Path):
    exercise = course.exercise(exercise_id)
    folder.mkdir(parents=True)
    path = folder / exercise.file
    path.write_text(source)
    return grade_one(exercise, path, folder.name, folder / "results.json", course=course,
                     sandbox=choose(os.environ.get("HML_SANDBOX", "auto")), cache_dir=cache)


def score_exercise(course: Course, exercise_id: str, mutants: list, scratch: Path, verbose: bool) -> dict:
    reference = reference_path(exercise_id, course).read_text()
    rows = []
    for mutant in mutants:
        started = time.monotonic()
        result = grade_mutant(course, exercise_id, mutant_source(reference, mutant),
                              scratch / exercise_id / mutant.id, scratch / "cache")
        verdict = judge(mutant, result, course.exercise(exercise_id))
        rows.append((mutant, verdict, time.monotonic() - started))
        if verbose:
            print(f"--- {exercise_id}/{mutant.id}: score {result.score}/{result.max_score}, {verdict.detail}")
            for test in result.failed():
                print(f"    [{test.visibility}] {test.name}: {test.output.strip()[:400]!r}")
    return {"exercise": exercise_id, "rows": rows}


def print_report(scores: list[dict]) -> None:
    print("| exercise | killed / mutants | named / mutants | marked survivors | seconds |")
    print("|---|---|---|---|---|")
    for score in scores:
        rows = score["rows"]
        killed = sum(v.killed for _, v, _ in rows)
        named = sum(v.as_expected for _, v, _ in rows)
        marked = sum(bool(m.survives) for m, _, _ in rows)
        seconds = sum(s for _, _, s in rows)
        print(f"| {score['exercise']} | {killed} / {len(rows)} | {named} / {len(rows)} | {marked} | {seconds:.0f} |")
    print()
    for score in scores:
        for mutant, verdict, _ in score["rows"]:
            if mutant.survives and not verdict.killed:
                print(f"- survivor (marked) {score['exercise']}/{mutant.id}: {mutant.survives}")
            elif not verdict.killed:
                print(f"- SURVIVOR {score['exercise']}/{mutant.id} ({mutant.rule}): {verdict.detail}")
            elif not verdict.as_expected:
                print(f"- not as in its row {score['exercise']}/{mutant.id}: {verdict.detail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exercise", action="append", help="limit to this exercise (repeatable)")
    parser.add_argument("--only", action="append", help="limit to the mutant with this id (repeatable)")
    parser.add_argument("--verbose", action="store_true", help="print every mutant's failed tests")
    args = parser.parse_args(argv)
    course = Course(ROOT)
    found = tables()
    unknown = sorted(set(args.exercise or []) - set(found))
    if unknown:
        parser.error(f"no mutation table for {', '.join(unknown)}; tables: {', '.join(found)}")
    chosen = args.exercise or list(found)
    scores = []
    with tempfile.TemporaryDirectory(prefix="hml-mutants-") as scratch:
        for exercise_id in chosen:
            mutants = [m for m in found[exercise_id] if not args.only or m.id in args.only]
            if mutants:
                scores.append(score_exercise(course, exercise_id, mutants, Path(scratch), args.verbose))
    print_report(scores)
    failures = [v for s in scores for m, v, _ in s["rows"] if (v.killed if m.survives else not v.as_expected)]
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
