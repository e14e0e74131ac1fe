"""Build the example class's generated submissions (zips and notebooks) from readable sources.

    .venv/bin/python examples/build_examples.py          # rewrite them
    .venv/bin/python examples/build_examples.py --check  # exit 1 if any is out of date

Zips and notebooks are not pleasant to read or review, so each one is built
from a plain source under ``examples/sources/`` and the result is committed
under ``examples/submissions/``: the demo needs no build step, and
``tests/test_instructor_demo.py`` checks the committed files match their
sources. The output is byte-for-byte reproducible (stored zip entries, fixed
timestamps and permissions; notebooks through ``grader.intake.notebooks``).
"""
from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sources"
CLASS = HERE / "submissions"
sys.path.insert(0, str(HERE.parent))

EPOCH = (1980, 1, 1, 0, 0, 0)


def _zip(entries: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=EPOCH)
            info.external_attr = 0o100644 << 16
            info.create_system = 3  # unix, whatever the building machine
            archive.writestr(info, data)
    return buffer.getvalue()


def zip_folder(folder: Path, prefix: str) -> bytes:
    """A learner zipping their project folder: every file, under ``prefix/``."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return _zip([(f"{prefix}/{p.relative_to(folder).as_posix()}", p.read_bytes()) for p in files])


def zip_slip(source: Path) -> bytes:
    """A hostile archive whose entry would be unpacked outside its folder (refused at intake)."""
    return _zip([("../" + source.name, source.read_bytes())])


def notebook(source: Path) -> bytes:
    """A learner's notebook, from a ``# %%`` module (the same conversion the starters use)."""
    import nbformat

    from grader.intake.notebooks import module_to_notebook

    return (nbformat.writes(module_to_notebook(source.read_text())) + "\n").encode()


ARTIFACTS = {
    "eli/hybrid_placement.zip": lambda: zip_folder(SOURCES / "eli" / "hybrid_placement", "hybrid_placement"),
    "fay/kfp_basic_pipeline.zip": lambda: zip_slip(SOURCES / "fay" / "kfp_basic_pipeline" / "pipeline.py"),
    "dana/hybrid_placement.ipynb": lambda: notebook(SOURCES / "dana" / "hybrid_placement.py"),
    "dana/kfp_basic_pipeline.ipynb": lambda: notebook(SOURCES / "dana" / "kfp_basic_pipeline.py"),
    "eli/kfp_basic_pipeline/pipeline.ipynb": lambda: notebook(SOURCES / "eli" / "kfp_basic_pipeline.py"),
}


def stale(target_root: Path = CLASS) -> list[str]:
    return [name for name, build in ARTIFACTS.items()
            if not (target_root / name).is_file() or (target_root / name).read_bytes() != build()]


def main(argv: list[str]) -> int:
    if "--check" in argv:
        out_of_date = stale()
        for name in out_of_date:
            print(f"out of date: examples/submissions/{name} (run examples/build_examples.py)")
        return 1 if out_of_date else 0
    for name, build in ARTIFACTS.items():
        target = CLASS / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(build())
        print(f"wrote {target.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
