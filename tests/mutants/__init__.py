"""Single-rule mutation tables: one module per exercise, each row one broken sentence of the contract.

A table module is ``tests/mutants/<exercise id>.py`` and holds two names:

- ``EXERCISE``: the exercise id (the same as the module's name);
- ``MUTANTS``: a list of ``Mutant`` rows.

A row takes the reference solution (``solutions/<id>/<file>``), applies its
``edits`` (each old text must occur exactly once), and says which test must
then lose its points (``loses``: text found in the test's name or node id)
and what that test's message must contain (``says``: the words that name the
broken rule). A row whose mutant cannot be told from the reference by any
test (``survives``: one sentence saying why) must instead keep full marks, so
the table stays true when the tests change. ``alone=True`` keeps a mutant out
of shared gradings (see below): set it for a mutant that stops the module
from importing or a run from finishing, or whose message another row's
mutant would change.

To keep test time modest, ``tests/test_mutants.py`` grades mutants that
different tests catch together (``groups``: at most a few, each in another
top-level function, edits that do not touch each other) and still judges
each row on its own test; the score script grades every mutant alone.

``tests/test_mutants.py`` grades every row of every table once;
``benchmarks/mutation_score.py`` prints the score per exercise. Adding a
table for another exercise is adding a module here: both pick it up.
"""
from __future__ import annotations

import ast
import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Mutant:
    id: str                              # short, unique within its table
    rule: str                            # the curriculum sentence it breaks, quoted briefly
    edits: tuple[tuple[str, str], ...]   # (old, new) edits of the reference solution
    loses: str = ""                      # the test that must lose its points (name or node id text)
    says: tuple[str, ...] = ()           # phrases the lost test's message must contain
    survives: str | None = None          # why no test can tell it from the reference, if none can
    alone: bool = False                  # graded alone in the test module (it stops the import, say)


@dataclass
class Verdict:
    killed: bool        # the mutant lost points
    named: bool         # the expected test lost its points with a message naming the rule
    detail: str         # what went wrong, when something did

    @property
    def as_expected(self) -> bool:
        return self.killed and self.named


def tables() -> dict[str, list[Mutant]]:
    """Every table in this package, by exercise id, in name order."""
    found = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        found[module.EXERCISE] = list(module.MUTANTS)
    return found


def mutant_source(reference: str, mutant: Mutant) -> str:
    """The reference with the mutant's edits applied; each old text must occur exactly once."""
    for old, new in mutant.edits:
        if reference.count(old) != 1:
            raise ValueError(f"{mutant.id}: the reference holds {old!r} {reference.count(old)} times, not once")
        reference = reference.replace(old, new)
    return reference


def feedback(test, exercise) -> str:
    """What the learner reads for a test: its message, and for a public test the hints `hml check` adds."""
    if test.visibility == "hidden" or exercise is None:
        return test.output
    from grader.grading.explain import explain

    return "\n".join([test.output] + [hint.text for hint in explain(test.output, exercise)])


def judge(mutant: Mutant, result, exercise=None) -> Verdict:
    """Whether a graded mutant lost points, and whether the expected test lost them naming the rule
    (``exercise`` given: a public test's hints count as part of its message, as `hml check` shows them)."""
    if result.refused or result.error:
        return Verdict(False, False, f"not graded: {result.refused or result.error}")
    killed = result.score < result.max_score  # in a shared grading: some row's mutant lost points
    if mutant.survives:
        return Verdict(killed, False, "marked as a survivor but lost points" if killed else "")
    if not killed:
        return Verdict(False, False, "full marks")
    try:
        test = result.test(mutant.loses)
    except LookupError as exc:
        return Verdict(True, False, str(exc))
    if test.score != 0 or test.status != "failed":
        lost = [t.name for t in result.failed()]
        return Verdict(True, False, f"{test.name!r} kept its points; lost: {lost}")
    said = feedback(test, exercise)
    missing = [p for p in mutant.says if p not in said]
    if missing:
        return Verdict(True, False, f"{test.name!r} does not say {missing}: {said!r}")
    return Verdict(True, True, "")


GROUP_SIZE = 4


def groups(mutants: list[Mutant], reference: str) -> list[list[Mutant]]:
    """Rows packed into shared gradings: each row's test differs from the others' and all edits still apply
    once; survivors and ``alone`` rows get a grading of their own."""
    packed: list[list[Mutant]] = []
    for mutant in mutants:
        if not (mutant.survives or mutant.alone):
            for group in packed:
                if len(group) < GROUP_SIZE and _fits(group, mutant, reference):
                    group.append(mutant)
                    break
            else:
                packed.append([mutant])
        else:
            packed.append([mutant])
    return packed


def _fits(group: list[Mutant], mutant: Mutant, reference: str) -> bool:
    if group[0].survives or group[0].alone or any(m.loses == mutant.loses for m in group):
        return False
    # Two mistakes in one function change each other's results (two edits of train_model, say): never together.
    if _functions(reference, mutant) & set().union(*(_functions(reference, m) for m in group)):
        return False
    try:
        combined_source(reference, group + [mutant])
    except ValueError:
        return False
    return True


def _functions(reference: str, mutant: Mutant) -> set[str]:
    """The top-level functions (or, outside any, the module) that the mutant's edits change."""
    tree = ast.parse(reference)
    spans = [(node.lineno, node.end_lineno, node.name) for node in tree.body
             if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    found = set()
    for old, _ in mutant.edits:
        first = reference[:reference.index(old)].count("\n") + 1
        last = first + old.count("\n")
        names = {name for start, end, name in spans if start <= last and first <= end}
        found |= names or {"<module>"}
    return found


def combined_source(reference: str, mutants: list[Mutant]) -> str:
    """The reference with every row's edits, each old text still found exactly once."""
    for mutant in mutants:
        reference = mutant_source(reference, mutant)
    return reference


def check_table(exercise_id: str, mutants: list[Mutant], reference: str) -> list[str]:
    """Problems of a table's form: duplicate ids, rows without a rule or an expectation, edits that miss."""
    problems = []
    ids = [m.id for m in mutants]
    problems += [f"{exercise_id}: id {i!r} is used twice" for i in sorted({i for i in ids if ids.count(i) > 1})]
    for m in mutants:
        if not m.rule or not m.edits:
            problems.append(f"{exercise_id}/{m.id}: a row needs the rule it breaks and its edits")
        if not m.survives and not (m.loses and m.says):
            problems.append(f"{exercise_id}/{m.id}: say which test loses and what it says, or why it survives")
        try:
            if mutant_source(reference, m) == reference:
                problems.append(f"{exercise_id}/{m.id}: the edits change nothing")
        except ValueError as exc:
            problems.append(f"{exercise_id}/{exc}")
    return problems


def reference_path(exercise_id: str, course) -> Path:
    exercise = course.exercise(exercise_id)
    return exercise.solution_dir / exercise.file


__all__ = ["Mutant", "Verdict", "tables", "mutant_source", "combined_source", "groups", "feedback", "judge",
           "check_table", "reference_path"]
