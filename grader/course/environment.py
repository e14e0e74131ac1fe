"""The grading environment: what a learner's module-level code may import where it is graded, declared once.

Module-level code (everything outside a KFP component's body) runs in the
grader's own Python. ``LIBRARIES`` is what the course promises there: its own
libraries, and what notebook learners import to look at their data (pandas,
Matplotlib, IPython's display), so an unused exploration import never costs a correct
submission its marks. Each is a dependency in ``pyproject.toml``, so every
grader installs it with the course (``make install``, the Coursera image, the
Gradescope zip and cluster nodes all ``pip install -c constraints.txt`` the
project); the statements list it (``statement_section``, checked by
``tests/test_grading_environment.py``) and the hints of
``grader.grading.explain`` name it.

Which modules are *available* is answered from the lock, not from the
machine asking: a learner may have seaborn installed, the grader has not. So
``make lock`` runs ``python -m grader.course.environment --write`` in the
freshly resolved environment, which records in ``environment.json`` every
module the runtime dependencies install (their closure from
``pyproject.toml``, without the dev and cluster extras, which not every
grader installs). Distributions' file lists are read rather than
``importlib.metadata.packages_distributions()``, whose top-level names stop
at namespace packages: ``google`` alone would let ``google.colab`` through.
A module is available when the standard library has it (this Python's
``sys.stdlib_module_names``: the grader runs the Python it was locked with)
or when the recorded modules provide it. The tests check that the file
matches the installed environment, which CI installs from the lock.
"""
from __future__ import annotations

import functools
import json
import sys
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).with_name("environment.json")
PROJECT = "hml-grader"
SECTION = "## Where your work is graded"

# The package every worker runs is importable by the code it runs (statements do not list it: it is no
# library for learners; its reference code is hidden from their workers all the same).
GRADER_PACKAGES = ("grader",)

COURSE = "the course's"
EXPLORING = "for exploring data"


@dataclass(frozen=True)
class Library:
    """A library module-level code may import where it is graded."""

    name: str                  # as a sentence names it
    imports: tuple[str, ...]   # how code imports it (dotted where it lives in a namespace package)
    requirement: str           # the dependency in pyproject.toml that installs it (on Linux x86-64)
    role: str = COURSE         # COURSE or EXPLORING

    @property
    def top(self) -> str:
        return self.imports[0].split(".")[0]


LIBRARIES = (
    Library("the Kubeflow Pipelines SDK (kfp)", ("kfp",), "kfp"),
    Library("the Vertex AI SDK (google-cloud-aiplatform)", ("google.cloud.aiplatform",), "google-cloud-aiplatform"),
    # The CPU build is enough for the course; elsewhere than Linux x86-64 pyproject.toml installs `tensorflow`.
    Library("TensorFlow", ("tensorflow",), "tensorflow-cpu"),
    Library("Keras (part of TensorFlow)", ("keras",), "tensorflow-cpu"),
    Library("the LiteRT interpreter (ai-edge-litert)", ("ai_edge_litert",), "ai-edge-litert"),
    Library("NumPy", ("numpy",), "numpy"),
    Library("PyYAML", ("yaml",), "PyYAML"),
    Library("pandas", ("pandas",), "pandas", EXPLORING),
    Library("Matplotlib", ("matplotlib",), "matplotlib", EXPLORING),
    Library("IPython (its `display`)", ("IPython",), "ipython", EXPLORING),
)


def import_names() -> list[str]:
    """``kfp, google.cloud.aiplatform, tensorflow, …``: what messages list, in the declaration's order."""
    return [name for library in LIBRARIES for name in library.imports]


def by_top_name() -> dict[str, Library]:
    """The declared libraries by the top-level name of their first import (``google`` for the Vertex AI SDK)."""
    found: dict[str, Library] = {}
    for library in LIBRARIES:
        found.setdefault(library.top, library)
    return found


# --- what is available ------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def recorded() -> dict:
    """``environment.json`` as ``make lock`` wrote it."""
    return json.loads(DATA.read_text())


@functools.lru_cache(maxsize=1)
def _roots() -> frozenset[str]:
    return frozenset(recorded()["modules"])


def is_available(module: str) -> bool:
    """Whether ``import module`` can work where work is graded (``module`` dotted, absolute)."""
    top = module.split(".")[0]
    if top in sys.stdlib_module_names or top in GRADER_PACKAGES or top == "__main__":  # the running program
        return True
    roots = _roots()
    parts = module.split(".")
    # A recorded module provides its submodules; a namespace package (``google.cloud``) is there when
    # a recorded module lies inside it.
    if any(".".join(parts[:i]) in roots for i in range(1, len(parts) + 1)):
        return True
    return any(root.startswith(module + ".") for root in roots)


# --- the statements ---------------------------------------------------------------------------------------

def statement_section(uses_kfp: bool) -> str:
    """The section every statement carries (``SECTION``), made from ``LIBRARIES``."""
    import textwrap

    def paragraph(text: str) -> list[str]:
        return textwrap.wrap(text, 78, break_on_hyphens=False, break_long_words=False) + [""]

    lines = [SECTION, ""]
    lines += paragraph(
        "Your module's top-level code (its imports included) runs in the grader's own Python "
        f"{recorded()['python']}. It holds the standard library, these libraries (and what they depend on), "
        "and nothing else you may have installed:")
    lines += ["| library | import |", "| --- | --- |"]
    for library in sorted(LIBRARIES, key=lambda lib: lib.role != COURSE):
        name = library.name.removeprefix("the ")
        imports = ", ".join(f"`{name}`" for name in library.imports)
        note = f" ({library.role})" if library.role == EXPLORING else ""
        lines.append(f"| {name}{note} | {imports} |")
    lines.append("")
    lines += paragraph(
        "An import of anything else at the top of your file (`seaborn`, `sklearn`, a module of your own) "
        "cannot work there: `hml check` names it before it runs any test, and a submission that holds one "
        "is refused without being graded. Remove the import, or move it, with the code that needs it, to "
        "a cell or file you do not submit.")
    if uses_kfp:
        lines += paragraph(
            "A component's body is another place: KFP runs it alone, from its own source, in a "
            "`python:3.11` container on Vertex AI. Import only the standard library there, inside the body.")
    return "\n".join(lines).rstrip("\n") + "\n"


def section_for(exercise) -> str:
    """The section ``exercise``'s statement carries; exercises with KFP components also say where those run."""
    return statement_section(uses_kfp="kfp.dsl" in exercise.preload)


def statement_sections(text: str) -> list[str]:
    """The ``SECTION`` parts of a statement, heading to the next heading of its level (or the end)."""
    found = []
    lines = text.splitlines(keepends=True)
    for start, line in enumerate(lines):
        if line.rstrip("\n") != SECTION:
            continue
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        body = "".join(lines[start:end]).rstrip("\n") + "\n"
        found.append(body)
    return found


def with_section(text: str, section: str) -> str:
    """``text`` with its ``SECTION`` replaced by ``section``; added before the grading section if it has none."""
    lines = text.splitlines(keepends=True)
    block = section.rstrip("\n") + "\n\n"
    for start, line in enumerate(lines):
        if line.rstrip("\n") == SECTION:
            end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
            tail = lines[end:]
            return "".join(lines[:start]) + (block if tail else block.rstrip("\n") + "\n") + "".join(tail)
    for start, line in enumerate(lines):
        if line.rstrip("\n") in ("## What is graded", "## Grading"):
            return "".join(lines[:start]) + block + "".join(lines[start:])
    return text.rstrip("\n") + "\n\n" + section


# --- recording the lock's modules (make lock) -------------------------------------------------------------

def runtime_distributions(project: str = PROJECT) -> dict[str, str]:
    """The distributions ``project``'s runtime dependencies install here, transitively: {name: version}.

    Extras a requirement names are followed (``google-api-core[grpc]``); the
    project's own extras are not (not every grader installs them).
    """
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    found: dict[str, str] = {}
    seen: set[tuple[str, str]] = set()
    pending = [(project, "")]
    while pending:
        name, extra = pending.pop()
        key = canonicalize_name(name)
        if (key, extra) in seen:
            continue
        seen.add((key, extra))
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise RuntimeError(f"{name} is required but not installed: run `make install`") from None
        if key != canonicalize_name(project):
            found[distribution.metadata["Name"]] = distribution.version
        for line in distribution.requires or []:
            requirement = Requirement(line)
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
                continue
            if requirement.marker is None and extra:
                continue  # already followed without the extra
            pending.append((requirement.name, ""))
            pending.extend((requirement.name, wanted) for wanted in requirement.extras)
    return dict(sorted(found.items(), key=lambda item: canonicalize_name(item[0])))


def provided_modules(distributions: list[str]) -> list[str]:
    """The modules ``distributions`` install, each as the outermost regular package or module.

    Namespace packages (folders without ``__init__.py``, such as ``google``
    and ``google.cloud``) are gone through, so ``google.cloud.aiplatform``
    is recorded, not ``google``.
    """
    from importlib import metadata

    paths: list[tuple[str, ...]] = []
    for name in distributions:
        for file in metadata.distribution(name).files or []:
            parts = tuple(Path(str(file)).parts)
            if not parts or ".." in parts or "__pycache__" in parts or parts[0].endswith((".dist-info", ".data")):
                continue
            paths.append(parts)
    regular = {parts[:-1] for parts in paths if parts[-1] in ("__init__.py", "__init__.pyc")}
    modules: set[str] = set()
    for parts in paths:
        for depth in range(1, len(parts) + 1):
            prefix = parts[:depth]
            if depth == len(parts):  # a file directly in the top folder or in a namespace package
                stem = _module_stem(parts[-1])
                if stem is not None and all(p.isidentifier() for p in parts[:-1]):
                    modules.add(".".join((*parts[:-1], stem)))
                break
            if not prefix[-1].isidentifier():
                break
            if prefix in regular:
                modules.add(".".join(prefix))
                break
    return sorted(modules)


def _module_stem(filename: str) -> str | None:
    """``six`` for ``six.py``, ``_cffi_backend`` for ``_cffi_backend.cpython-311-x86_64-linux-gnu.so``."""
    for suffix in (".py", ".so", ".pyd"):
        if filename.endswith(suffix):
            stem = filename[: -len(suffix)].split(".")[0]
            return stem if stem.isidentifier() else None
    return None


def record() -> dict:
    """What ``environment.json`` holds for the environment this Python runs in."""
    import platform

    distributions = runtime_distributions()
    return {
        "comment": "Written by `make lock` (python -m grader.course.environment --write): the modules "
                   "the runtime dependencies install, read by grader/course/environment.py.",
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "platform": f"{sys.platform} {platform.machine()}",
        "distributions": distributions,
        "modules": provided_modules(list(distributions)),
    }


def write_statements(course_root: Path) -> list[Path]:
    """Bring every statement's ``SECTION`` up to date; return the statements changed."""
    from grader.course.model import Course

    changed = []
    for exercise in Course(course_root).exercises():
        if not exercise.statement.is_file():
            continue
        text = exercise.statement.read_text()
        updated = with_section(text, section_for(exercise))
        if updated != text:
            exercise.statement.write_text(updated)
            changed.append(exercise.statement)
    return changed


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m grader.course.environment", description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help=f"write {DATA.name} from this environment")
    parser.add_argument("--statements", type=Path, metavar="COURSE_ROOT",
                        help=f"bring the '{SECTION[3:]}' section of every statement up to date")
    options = parser.parse_args(argv)
    if options.write:
        data = record()
        DATA.write_text(json.dumps(data, indent=1) + "\n")
        print(f"wrote {DATA}: {len(data['modules'])} modules of {len(data['distributions'])} distributions")
    if options.statements:
        for path in write_statements(options.statements):
            print(f"updated {path}")
    if not (options.write or options.statements):
        print(json.dumps(record(), indent=1))


if __name__ == "__main__":
    main()
