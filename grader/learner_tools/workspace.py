"""A learner's local workspace: the folder ``hml start`` made, and its marker file.

The marker, ``.hml.toml``, says which exercise the folder is for (so ``hml
check`` needs no arguments there) and keeps the last local check (so ``hml
list`` can show it). It is plain TOML a learner may read; nothing in it is
trusted by instructor grading, which never looks at it.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

MARKER = ".hml.toml"


@dataclass
class LastCheck:
    score: float
    max_score: float
    passed: int
    failed: int
    when: str  # ISO 8601, UTC
    path: str  # the file checked, relative to the workspace where it lies inside it
    note: str = ""  # why no test ran, if none did (a syntax error, a refusal)

    @property
    def time(self) -> datetime:
        return datetime.fromisoformat(self.when)

    @property
    def complete(self) -> bool:
        return self.failed == 0 and self.passed > 0 and not self.note


@dataclass
class LearnerWorkspace:
    directory: Path
    exercise: str
    file: str  # the module file the exercise's contract names
    notebook: bool = False  # started with --notebook
    started: str = field(default_factory=lambda: now_iso())
    last_check: LastCheck | None = None

    @property
    def marker(self) -> Path:
        return self.directory / MARKER

    @property
    def module_path(self) -> Path:
        return self.directory / self.file

    @property
    def notebook_path(self) -> Path:
        return self.directory / f"{Path(self.file).stem}.ipynb"

    def save(self) -> None:
        lines = [
            "# Written by `hml start`; `hml check` and `hml list` read it. Safe to delete.",
            f"exercise = {_toml_string(self.exercise)}",
            f"file = {_toml_string(self.file)}",
            f"notebook = {'true' if self.notebook else 'false'}",
            f"started = {_toml_string(self.started)}",
        ]
        if self.last_check is not None:
            check = self.last_check
            lines += [
                "",
                "[last_check]",
                f"score = {float(check.score)!r}",
                f"max_score = {float(check.max_score)!r}",
                f"passed = {int(check.passed)}",
                f"failed = {int(check.failed)}",
                f"when = {_toml_string(check.when)}",
                f"path = {_toml_string(check.path)}",
                f"note = {_toml_string(check.note)}",
            ]
        temporary = self.marker.with_name(MARKER + ".tmp")
        temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
        temporary.replace(self.marker)

    @classmethod
    def load(cls, directory: Path) -> "LearnerWorkspace | None":
        """The workspace whose marker is in ``directory``; None if there is none or it is unreadable."""
        marker = Path(directory) / MARKER
        try:
            data = tomllib.loads(marker.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return None
        if not isinstance(data.get("exercise"), str) or not isinstance(data.get("file"), str):
            return None
        check = data.get("last_check")
        last = None
        if isinstance(check, dict):
            try:
                last = LastCheck(float(check["score"]), float(check["max_score"]), int(check["passed"]),
                                 int(check["failed"]), str(check["when"]), str(check.get("path", "")),
                                 str(check.get("note", "")))
                last.time  # noqa: B018 - a malformed date drops the record, not the workspace
            except (KeyError, TypeError, ValueError):
                last = None
        return cls(Path(directory).resolve(), data["exercise"], data["file"], bool(data.get("notebook", False)),
                   str(data.get("started", "")), last)

    @classmethod
    def find(cls, start: Path) -> "LearnerWorkspace | None":
        """The workspace holding ``start`` (a folder or a file): its own marker or its parents'."""
        start = Path(start).resolve()
        folder = start if start.is_dir() else start.parent
        for candidate in (folder, *folder.parents):
            workspace = cls.load(candidate)
            if workspace is not None:
                return workspace
        return None

    def record(self, check: LastCheck) -> None:
        self.last_check = check
        self.save()


def discover(directory: Path) -> list[LearnerWorkspace]:
    """Workspaces at ``directory``: the one it is inside, and those in its immediate subfolders."""
    directory = Path(directory).resolve()
    found: dict[Path, LearnerWorkspace] = {}
    inside = LearnerWorkspace.find(directory)
    if inside is not None:
        found[inside.directory] = inside
    try:
        children = sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        children = []
    for child in children:
        workspace = LearnerWorkspace.load(child)
        if workspace is not None:
            found.setdefault(workspace.directory, workspace)
    return list(found.values())


def latest_checks(directory: Path) -> dict[str, tuple[LearnerWorkspace, LastCheck | None]]:
    """Per exercise, the workspace under ``directory`` checked last, and that check (None if never checked)."""
    checks: dict[str, tuple[LearnerWorkspace, LastCheck | None]] = {}
    for workspace in discover(directory):
        last = workspace.last_check
        current = checks.get(workspace.exercise)
        if last is not None and (current is None or current[1] is None or last.time > current[1].time):
            checks[workspace.exercise] = (workspace, last)
        elif workspace.exercise not in checks:
            checks[workspace.exercise] = (workspace, None)
    return checks


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def ago(when: datetime, now: datetime | None = None) -> str:
    """'just now', '5 min ago', '3 h ago', '2 days ago', or the date for older checks."""
    now = now or datetime.now(timezone.utc)
    seconds = (now - when).total_seconds()
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    if seconds < 7 * 86400:
        days = int(seconds // 86400)
        return f"{days} day{'s' if days > 1 else ''} ago"
    return when.astimezone().strftime("%Y-%m-%d")


def _toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'
