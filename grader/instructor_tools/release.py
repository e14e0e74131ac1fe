"""The learner bundle: what learners receive, and proof that nothing secret is in it.

``build_bundle`` copies the exercises (statements, starters, notebooks,
public tests, metadata), the quiz banks and the engine (the ``grader``
package without its reference conversions, ``ENGINE_LEFT_OUT``; ``pyproject.toml``,
``docs/learners.md``) and a README of its own (``bundle-README.md.j2``: how to
install and check, no instructor commands). ``find_leaks`` then compares the bundle with
everything secret (every file under ``solutions/``: reference solutions, hidden tests and
their helpers):

* a bundle file with the same content as a secret file (byte for byte, or
  equal once whitespace is ignored);
* a secret file's path or a hidden test's name in the bundle;
* a *distinctive line* of a secret file in any bundle file: a line of at
  least ``MIN_LINE`` characters (whitespace collapsed, a trailing comment
  dropped), not an import, that is not a line of the material it may
  legitimately share (``public_material``: the exercises' statements,
  starters and provided files for reference solutions; the public tests for
  hidden tests) and holds at least one word, number or string literal found
  nowhere in that material. Contract names, API calls a statement shows and
  helpers public and hidden tests share do not count; a hidden input or
  assertion pasted into a statement or a starter, or solution code in a
  public test, a quiz or the engine, does.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from grader.course.model import Course
from grader.errors import GraderError

MIN_LINE = 30
ENGINE_FILES = ("pyproject.toml", "LICENSE", "LICENSE.md", "LICENSE.txt",
                "docs/learners.md")  # copied when present; instructor documentation stays behind
# The bundle's README: the course's own is the instructors' (make demo, grading, docs left behind).
BUNDLE_README = Path(__file__).with_name("bundle-README.md.j2")
# Files of the grader package that stay behind: code that computes the graded artifacts (the
# reference conversions are a worked solution of the mobile exercises) and the script that uses it.
ENGINE_LEFT_OUT = ("judging/evaluators/conversion.py", "fixtures/make_fixtures.py")
_SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".git"}
_SKIP_SUFFIXES = (".pyc", ".pyo", ".tmp")
_TEXT_LIMIT = 2 * 1024 * 1024  # larger secret files are compared by content only
_IMPORT = re.compile(r"^(from\s+\S+\s+)?import\s")


class ReleaseError(GraderError):
    """The bundle cannot be written where asked."""


class LeakError(ReleaseError):
    """The bundle holds something secret; the message lists what and where."""


@dataclass
class Leak:
    bundle_file: str
    secret: str  # the secret file it comes from
    kind: str  # "file", "path" or "line"
    detail: str = ""

    def __str__(self) -> str:
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.bundle_file} holds {self.kind} of {self.secret}{detail}"


@dataclass
class Bundle:
    root: Path
    files: list[str] = field(default_factory=list)
    exercises: list[str] = field(default_factory=list)


def _copyable(path: Path) -> bool:
    return not (set(path.parts) & _SKIP_DIRS) and not path.name.endswith(_SKIP_SUFFIXES)


def _copy_tree(source: Path, target: Path, files: list[str], root: Path, left_out: tuple[str, ...] = ()) -> None:
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_symlink() or not path.is_file() or not _copyable(relative) or relative.as_posix() in left_out:
            continue
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
        files.append(destination.relative_to(root).as_posix())


def build_bundle(course: Course, out: Path) -> Bundle:
    """Copy what learners receive into ``out`` (which must not exist or be empty)."""
    import grader

    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ReleaseError(f"{out} exists and is not empty")
    out.mkdir(parents=True, exist_ok=True)
    bundle = Bundle(out)
    for name in ENGINE_FILES:
        if (course.root / name).is_file():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(course.root / name, out / name)
            bundle.files.append(name)
    _copy_tree(Path(grader.__file__).resolve().parent, out / "grader", bundle.files, out, ENGINE_LEFT_OUT)
    for exercise in course.exercises():
        _copy_tree(exercise.directory, out / "exercises" / exercise.id, bundle.files, out)
        bundle.exercises.append(exercise.id)
    _write_readme(out, bundle)
    if course.quizzes_dir.is_dir():
        _copy_tree(course.quizzes_dir, out / "quizzes", bundle.files, out)
    manifest = {
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "exercises": bundle.exercises,
        "files": {name: hashlib.sha256((out / name).read_bytes()).hexdigest() for name in bundle.files},
    }
    (out / "bundle-manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    bundle.files.append("bundle-manifest.json")
    return bundle


def _write_readme(out: Path, bundle: Bundle) -> None:
    import jinja2

    text = jinja2.Template(BUNDLE_README.read_text(), keep_trailing_newline=True).render(exercises=bundle.exercises)
    (out / "README.md").write_text(text)
    bundle.files.append("README.md")


_TRAILING_COMMENT = re.compile(r"\s+#\s.*$")


def _normalise(line: str) -> str:
    """Whitespace collapsed and a trailing ``  # comment`` dropped (statements annotate code lines)."""
    return " ".join(_TRAILING_COMMENT.sub("", line).split())


def _alphanumerics(line: str) -> int:
    return sum(ch.isalnum() for ch in line)


def _text(path: Path) -> str | None:
    try:
        if path.stat().st_size > _TEXT_LIMIT:
            return None
        return path.read_bytes().decode("utf-8")
    except (UnicodeDecodeError, OSError):
        return None


def _loose(text: str) -> str:
    return "\n".join(_normalise(line) for line in text.splitlines() if line.strip())


def secret_files(course: Course) -> list[Path]:
    root = course.solutions_dir
    return sorted(p for p in root.rglob("*") if p.is_file() and _copyable(p.relative_to(root))) if root.is_dir() else []


_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|[A-Za-z_][A-Za-z0-9_]{2,}|\d+(?:\.\d+)?')


def tokens(text: str) -> set[str]:
    """Identifiers (3 characters or more), numbers, and whole string literals."""
    return set(_TOKEN.findall(text))


@dataclass
class Public:
    """Text learners legitimately share with a kind of secret file: lines, and words, numbers, strings."""

    lines: set[str] = field(default_factory=set)
    tokens: set[str] = field(default_factory=set)

    def add(self, text: str) -> None:
        for line in text.splitlines():
            line = _normalise(line)
            self.lines.add(line)
            self.tokens |= tokens(line)


def _python_words() -> set[str]:
    import builtins
    import keyword

    return set(dir(builtins)) | set(keyword.kwlist)  # Python itself is public knowledge


def public_material(course: Course) -> dict[str, Public]:
    """What each kind of secret file may share with the bundle without leaking.

    * ``"reference"`` (reference solutions and their helpers): the exercises' files other than tests
      (statements, starters, notebooks, provided modules), which give the contract's names and
      constants and show the API calls the exercise is about;
    * ``"hidden"`` (hidden tests): the public tests, which share helpers and messages with them.

    A line of a hidden test pasted into a statement, a quiz or the engine is thus found, and so is a
    solution's code in a public test, a quiz or the engine; a line shared with its legitimate partner
    is not.
    """
    reference, hidden = Public(tokens=_python_words()), Public(tokens=_python_words())
    for exercise in course.exercises():
        for path in sorted(exercise.directory.rglob("*")):
            if path.is_file() and _copyable(path.relative_to(exercise.directory)) and (text := _text(path)):
                (hidden if path.name.startswith("test_") else reference).add(text)
    return {"reference": reference, "hidden": hidden}


def secret_kind(secret: Path) -> str:
    return "hidden" if secret.name.startswith("test_") or secret.name == "conftest.py" else "reference"


def distinctive_lines(text: str, public: Public) -> set[str]:
    """Lines that say something the partner material does not: long enough, not an import, not one of
    its lines, and holding a word, number or string found nowhere in it."""
    found = set()
    for line in text.splitlines():
        line = _normalise(line)
        if (len(line) >= MIN_LINE and _alphanumerics(line) >= MIN_LINE // 2 and line not in public.lines
                and not _IMPORT.match(line) and tokens(line) - public.tokens):
            found.add(line)
    return found


def find_leaks(bundle_root: Path, course: Course) -> list[Leak]:
    """Everything secret found in the bundle (empty when it is clean)."""
    bundle_root = Path(bundle_root)
    secrets = secret_files(course)
    public = public_material(course)
    by_digest: dict[str, str] = {}
    by_loose: dict[str, str] = {}
    line_owner: dict[str, str] = {}
    names: dict[str, str] = {}
    for path in secrets:
        label = path.relative_to(course.root).as_posix()
        data = path.read_bytes()
        by_digest[hashlib.sha256(data).hexdigest()] = label
        names[label] = label
        if path.name.startswith("test_"):
            names[path.name] = label
        text = _text(path)
        if text is None:
            continue
        by_loose[hashlib.sha256(_loose(text).encode()).hexdigest()] = label
        for line in distinctive_lines(text, public[secret_kind(path)]):
            line_owner.setdefault(line, label)

    leaks: list[Leak] = []
    for path in sorted(p for p in bundle_root.rglob("*") if p.is_file()):
        relative = path.relative_to(bundle_root).as_posix()
        if relative.startswith("solutions/") or "/solutions/" in f"/{relative}":
            leaks.append(Leak(relative, relative, "path", "a solutions/ folder"))
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest in by_digest:
            leaks.append(Leak(relative, by_digest[digest], "a copy"))
            continue
        text = _text(path)
        if text is None:
            continue
        loose = hashlib.sha256(_loose(text).encode()).hexdigest()
        if loose in by_loose:
            leaks.append(Leak(relative, by_loose[loose], "a copy (whitespace aside)"))
            continue
        if path.name in names and path.name.startswith("test_"):
            leaks.append(Leak(relative, names[path.name], "the name"))
        seen = set()
        for line in text.splitlines():
            line = _normalise(line)
            owner = line_owner.get(line)
            if owner and line not in seen:
                seen.add(line)
                leaks.append(Leak(relative, owner, "a line", repr(line[:120])))
    return leaks


def release(course: Course, out: Path, *, keep_on_leak: bool = False) -> Bundle:
    """Build the bundle in a staging folder, check it, and move it to ``out`` only if it is clean."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ReleaseError(f"{out} exists and is not empty; choose another folder or remove it")
    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    bundle = build_bundle(course, staging)
    leaks = find_leaks(staging, course)
    if leaks:
        if not keep_on_leak:
            shutil.rmtree(staging, ignore_errors=True)
        where = f" (kept for inspection in {staging})" if keep_on_leak else ""
        raise LeakError(f"the bundle would leak {len(leaks)} secret item(s){where}:\n"
                        + "\n".join(f"  {leak}" for leak in leaks))
    if out.exists():
        out.rmdir()
    staging.rename(out)
    bundle.root = out
    return bundle
