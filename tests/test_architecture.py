"""The layout holds: each stage of a grading imports only the stages below it, and nothing imports in a circle.

The contracts live in ``pyproject.toml`` (``[tool.importlinter]``) and are checked by import-linter, which
counts every import, function-level and ``TYPE_CHECKING`` ones included.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_stages_are_layered_and_no_import_is_circular():
    lint = Path(sys.executable).with_name("lint-imports")
    process = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert process.returncode == 0, process.stdout[-4000:] + process.stderr[-2000:]
    assert "2 kept, 0 broken" in process.stdout


def test_at_most_twelve_modules_stay_at_the_top_of_the_package():
    top = sorted(p.name for p in (ROOT / "grader").glob("*.py"))
    assert len(top) <= 12, top


def test_the_map_names_every_folder_of_the_package():
    """docs/architecture.md is the newcomer's map: a folder added under grader/ must be named there."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    folders = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "grader").rglob("*")
                     if p.is_dir() and p.name != "__pycache__")
    assert folders and not [f for f in folders if f"{f}/" not in text and f"`{f}`" not in text]
