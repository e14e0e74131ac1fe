"""Intake: every form of submission becomes a workspace holding only the module, or a clear refusal."""
from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import nbformat
import pytest

from grader.intake.notebooks import CHECK_CELL, LOAD_CELL, module_to_notebook, notebook_to_module
from grader.intake.prepare import MAX_FILE_BYTES, MAX_FILES, SubmissionForm, SubmissionRefused, prepare

GOOD = "def place(workload):\n    return {}\n"


def _notebook(*cells: str, markdown: str | None = None) -> str:
    notebook = nbformat.v4.new_notebook()
    if markdown:
        notebook.cells.append(nbformat.v4.new_markdown_cell(markdown))
    notebook.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    return nbformat.writes(notebook)


def _refusal(tmp_path: Path, submission: Path) -> str:
    with pytest.raises(SubmissionRefused) as caught:
        prepare(submission, "placement.py", tmp_path / "ws")
    return str(caught.value)


def test_module_file_is_copied_alone(tmp_path):
    """A .py file becomes the workspace's only module file."""
    path = tmp_path / "mine.py"
    path.write_text(GOOD)
    workspace = prepare(path, "placement.py", tmp_path / "ws")
    assert workspace.module_file.read_text() == GOOD
    assert [p.name for p in workspace.module_dir.iterdir()] == ["placement.py"]


def test_directory_keeps_only_the_module(tmp_path):
    """From a directory only the module is taken: conftest.py and friends stay behind."""
    folder = tmp_path / "sub" / "nested"
    folder.mkdir(parents=True)
    (folder / "placement.py").write_text(GOOD)
    (folder / "conftest.py").write_text("raise SystemExit")
    (folder / "sitecustomize.py").write_text("raise SystemExit")
    workspace = prepare(tmp_path / "sub", "placement.py", tmp_path / "ws")
    assert sorted(p.name for p in workspace.module_dir.iterdir()) == ["placement.py"]


def test_zip_with_folder_is_accepted(tmp_path):
    """A zip of a folder holding the module is the usual way to upload."""
    archive = tmp_path / "sub.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("homework/placement.py", GOOD)
        z.writestr("homework/notes.txt", "hello")
    workspace = prepare(archive, "placement.py", tmp_path / "ws")
    assert workspace.module_file.read_text() == GOOD and workspace.form is SubmissionForm.ZIP


@pytest.mark.parametrize("entry", ["../placement.py", "/etc/placement.py", "a/../../placement.py"])
def test_zip_entries_escaping_the_folder_are_refused(tmp_path, entry):
    """Zip-slip: an entry that would land outside the folder refuses the whole archive."""
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(entry, GOOD)
    assert "outside" in _refusal(tmp_path, archive)


def test_zip_symlink_is_refused(tmp_path):
    """A link stored in a zip is refused."""
    archive = tmp_path / "link.zip"
    info = zipfile.ZipInfo("placement.py")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(info, "/etc/passwd")
    assert "symbolic link" in _refusal(tmp_path, archive)


def test_directory_symlink_is_refused(tmp_path):
    """A link inside a submitted directory is refused."""
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "placement.py").write_text(GOOD)
    os.symlink("/etc/passwd", folder / "secrets.py")
    assert "symbolic link" in _refusal(tmp_path, folder)


@pytest.mark.parametrize("where", ["submission", "inside a folder"])
def test_fifos_and_sockets_are_refused_without_being_opened(tmp_path, where):
    """A named pipe or a socket is refused from lstat: opening a FIFO would block the grader for good."""
    import socket

    from grader.batch.digests import content_hash

    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "placement.py").write_text(GOOD)
    fifo = folder / "placement.ipynb" if where == "inside a folder" else tmp_path / "placement.py.fifo"
    os.mkfifo(fifo)
    target = folder if where == "inside a folder" else fifo
    content_hash(target)  # returns at once: nothing was opened
    assert "named pipe (FIFO)" in _refusal(tmp_path, target)
    fifo.unlink()
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(folder / "placement.sock"))
    try:
        content_hash(folder)
        assert "a socket" in _refusal(tmp_path, folder)
    finally:
        server.close()


def test_oversized_file_is_refused(tmp_path):
    """A module over the size limit is refused with the limit named."""
    path = tmp_path / "big.py"
    path.write_text("#" * (MAX_FILE_BYTES + 1))
    assert "limit" in _refusal(tmp_path, path)


def test_zip_bomb_is_refused(tmp_path):
    """An archive that unpacks to more than the limit is refused before unpacking."""
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for i in range(12):
            z.writestr(f"junk{i}.py", "0" * (5 * 1024 * 1024))
    assert "MiB" in _refusal(tmp_path, archive)


def test_too_many_files_are_refused(tmp_path):
    """A submission with thousands of files is refused."""
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for i in range(MAX_FILES + 1):
            z.writestr(f"f{i}.py", "")
    assert "entries" in _refusal(tmp_path, archive)


def test_missing_module_is_refused_with_its_name(tmp_path):
    """A folder without the module says which file was expected and what it held."""
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "other.py").write_text(GOOD)
    message = _refusal(tmp_path, folder)
    assert "placement.py" in message and "other.py" in message


@pytest.mark.parametrize("content, reason", [
    ("{not json", "not a valid Jupyter notebook"),
    ('{"hello": "world"}', "not a valid Jupyter notebook"),
])
def test_malformed_notebooks_are_refused(tmp_path, content, reason):
    """Broken JSON and JSON that is not a notebook are refused, not crashed on."""
    path = tmp_path / "placement.ipynb"
    path.write_text(content)
    assert reason in _refusal(tmp_path, path)


def test_notebook_without_code_is_refused(tmp_path):
    """A notebook of markdown only has nothing to grade."""
    path = tmp_path / "placement.ipynb"
    path.write_text(_notebook(markdown="# my answers"))
    assert "no code cells" in _refusal(tmp_path, path)


def test_notebook_magics_and_shell_lines_are_dropped():
    """Line magics, shell lines, assignments from shell and cell magics never reach the module."""
    converted = notebook_to_module(_notebook(
        "%pip install kfp\n!rm -rf /\nfiles = !ls\nimport os",
        "%%bash\nrm -rf /",
        GOOD,
    ))
    assert "rm -rf" not in converted.source and "pip" not in converted.source and "!ls" not in converted.source
    assert "import os" in converted.source and "def place" in converted.source
    compile(converted.source, "placement.py", "exec")


def test_notebook_lines_map_back_to_cells():
    """A line of the generated module is reported as a cell and a line of that cell."""
    converted = notebook_to_module(_notebook("x = 1", "y = 2\nz = (", markdown="intro"))
    line = converted.source.splitlines().index("z = (") + 1
    assert converted.locate(line) == "cell 3, line 2"


def test_starter_module_becomes_notebook_and_back():
    """`# %%` cells round-trip: the notebook of a module converts back to the same code."""
    source = ("# %% [markdown]\n# # Title\n# Some text\n\n# %%\nimport math\n\n# %% [markdown]\n# ## Part one\n\n"
              "# %%\ndef f(x):\n    return x\n\n# %% [markdown]\n# ## Part two\n\n# %%\ndef g(x):\n    return x\n")
    notebook = module_to_notebook(source)
    # The learner's loop: the extension loaded after the title, a check after each part (its code written).
    assert [(c.cell_type, c.source.splitlines()[0]) for c in notebook.cells] == [
        ("markdown", "# Title"), ("code", LOAD_CELL), ("code", "import math"), ("markdown", "## Part one"),
        ("code", "def f(x):"), ("code", CHECK_CELL), ("markdown", "## Part two"), ("code", "def g(x):"),
        ("code", CHECK_CELL)]
    assert notebook.cells[0].source == "# Title\nSome text"
    back = notebook_to_module(nbformat.writes(notebook)).source
    assert "import math" in back and "def f(x):" in back


def test_a_folder_nested_without_end_is_refused_not_a_crash(tmp_path):
    """A submission folder nested 1,100 deep (os.walk recurses once per level) is refused with a reason, and its
    content digest is taken without recursion: one learner's folder never ends a batch with RecursionError."""
    from grader.batch.digests import _files_below
    from grader.sandbox.disk import remove_tree

    submission = tmp_path / "hybrid_placement"
    deep = submission
    submission.mkdir()
    for _ in range(1100):
        deep = deep / "d"
        deep.mkdir()
    (deep / "placement.py").write_text("x = 1\n")
    (submission / "placement.py").write_text("x = 1\n")
    try:
        with pytest.raises(SubmissionRefused, match="nested more than 32 deep"):
            prepare(submission, "placement.py", tmp_path / "out")
        assert submission / "placement.py" in _files_below(submission)
    finally:
        assert remove_tree(submission)  # pytest's own clean-up of old temporary folders recurses per level
