"""`hml collect`: an LMS's bulk download becomes ROOT/<learner>/<exercise>, safely, and the same every time.

Each download is built here as the LMS builds it (Canvas's ContentZipper names,
Moodle's per-learner folders, Gradescope's submission_metadata.yml), then
collected through the CLI. Nothing is graded: the placed class is checked
with discover_class, which is what grading reads.
"""
from __future__ import annotations

import os
import re
import stat
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.course.model import Course
from grader.intake.discovery import discover_class

ROOT = Path(__file__).resolve().parents[1]
EXERCISE = "hybrid_placement"


def module(tag: str) -> bytes:
    """A module file whose bytes say whose it is, so a test can tell which upload was placed."""
    return f"# {tag}\ndef place():\n    return {tag!r}\n".encode()


def notebook(tag: str) -> bytes:
    return ('{"cells": [{"cell_type": "code", "metadata": {}, "source": ["# %s"], "outputs": [], '
            '"execution_count": null}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}' % tag).encode()


def build_zip(path: Path, entries: dict[str, bytes] | list[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    items = entries.items() if isinstance(entries, dict) else entries
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in items:
            archive.writestr(name, data)
    return path


def special(name: str, kind: int, data: bytes = b"") -> tuple[zipfile.ZipInfo, bytes]:
    """A zip entry whose Unix mode says it is a link, a device or a pipe."""
    info = zipfile.ZipInfo(name)
    info.external_attr = (kind | 0o777) << 16
    return info, data


def hml(*args: str):
    result = CliRunner().invoke(main, ["collect", *map(str, args)], env={"COLUMNS": "200"})
    result.text = " ".join(result.output.split())
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ROOT with its bytes (the dot-files a write leaves behind included)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def learner_files(root: Path) -> dict[str, bytes]:
    """What was placed in learners' folders: the tree without the class's submissions.csv."""
    return {name: data for name, data in tree(root).items() if name != "submissions.csv"}


def assert_gradable(root: Path, learners: list[str]) -> None:
    found = discover_class(root, Course(ROOT))
    assert not found.problems, found.problems
    assert sorted((e.learner, e.exercise.id) for e in found.entries) == [(name, EXERCISE) for name in sorted(learners)]


# --- Canvas -----------------------------------------------------------------------------------------------------

def canvas_download(tmp_path: Path) -> Path:
    return build_zip(tmp_path / "canvas.zip", {
        # Ann uploaded placement.py, then again: Canvas numbered the second upload -1 and gave it a higher file id.
        "leeann_1001_5001_placement.py": module("ann first"),
        "leeann_1001_5002_placement-1.py": module("ann latest"),
        # Bob handed in late, a notebook.
        "stonebob_LATE_1002_5003_placement.ipynb": notebook("bob"),
        # Cy handed in the module and a PDF write-up: the module is the one file to grade.
        "nucy_1003_5004_placement.py": module("cy"),
        "nucy_1003_5005_report.pdf": b"%PDF-1.4",
        # Dee handed in two modules, neither named as the exercise's: which one is the submission is not guessed.
        "ohdee_1004_5006_helper.py": module("dee helper"),
        "ohdee_1004_5007_main.py": module("dee main"),
        # Eve typed her answer into Canvas: a text entry, not a file to grade.
        "kimeve_1005_text.html": b"<p>def place(): ...</p>",
        # Not Canvas's naming at all.
        "README.txt": b"what the instructor added",
    })


def test_a_canvas_download_is_placed_by_user_id_with_the_latest_upload_and_late_flags(tmp_path):
    """Canvas: learners named by user id, the -1 re-upload chosen, LATE_ shown, odd files refused with a reason;
    the class is gradable and, with no times in the download, submissions.csv gets Canvas's late flags alone."""
    root = tmp_path / "class"
    result = hml("--from", "canvas", "--exercise", EXERCISE, canvas_download(tmp_path), root)
    assert result.exit_code == 0, result.output

    placed = tree(root)
    assert placed.pop("submissions.csv").decode() == ("learner,exercise,submitted_at,late\n1001,hybrid_placement,,no\n"
                                                      "1002,hybrid_placement,,yes\n1003,hybrid_placement,,no\n")
    assert placed == {
        "1001/hybrid_placement.py": module("ann latest"),
        "1002/hybrid_placement.ipynb": notebook("bob"),
        "1003/hybrid_placement.py": module("cy"),
    }
    assert_gradable(root, ["1001", "1002", "1003"])
    assert "LATE" in result.text
    assert "2 candidate files (helper.py, main.py); cannot tell which is placement.py" in result.text
    assert "refused kimeve_1005_text.html: a text entry or URL submitted online" in result.text
    assert "refused README.txt: not named as Canvas names submissions" in result.text
    assert "records no submission times, only LATE_: submissions.csv gets late=yes or no" in result.text
    assert "3 placed (3 new, 0 updated, 0 unchanged)" in result.text
    assert "submissions.csv updated" in result.text


def test_collecting_the_same_download_again_changes_nothing(tmp_path):
    """Idempotence: a second collect writes no byte and reports nothing new; a newer download updates in place."""
    root = tmp_path / "class"
    export = canvas_download(tmp_path)
    hml("--from", "canvas", "--exercise", EXERCISE, export, root)
    before = tree(root)
    times = {p: p.stat().st_mtime_ns for p in root.rglob("*")}

    again = hml("--from", "canvas", "--exercise", EXERCISE, export, root)
    assert again.exit_code == 0, again.output
    assert tree(root) == before
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*")} == times
    assert "3 placed (0 new, 0 updated, 3 unchanged)" in again.text

    # Ann uploads once more, as a notebook: her module makes way for it (discovery would see two submissions).
    newer = build_zip(tmp_path / "newer.zip", {"leeann_1001_5009_placement.ipynb": notebook("ann newest")})
    update = hml("--from", "canvas", "--exercise", EXERCISE, newer, root)
    assert "1 placed (0 new, 1 updated, 0 unchanged)" in update.text
    assert sorted(p.name for p in (root / "1001").iterdir()) == ["hybrid_placement.ipynb"]
    assert_gradable(root, ["1001", "1002", "1003"])


def test_a_roster_names_learners_by_login_and_refuses_those_it_does_not_list(tmp_path):
    """--roster maps LMS ids to logins (the learner's folder); a learner it lacks is refused, never guessed."""
    roster = tmp_path / "roster.csv"
    roster.write_text("Student,ID,SIS Login ID,Email\nLee Ann,1001,ann,ann@example.edu\n"
                      "Stone Bob,1002,bob,bob@example.edu\n", encoding="utf-8")
    root = tmp_path / "class"
    result = hml("--from", "canvas", "-e", EXERCISE, "--roster", roster, canvas_download(tmp_path), root)
    assert result.exit_code == 0, result.output
    assert sorted(learner_files(root)) == ["ann/hybrid_placement.py", "bob/hybrid_placement.ipynb"]
    assert "refused nucy_1003_5004_placement.py" not in result.text  # refused as a learner, not as a file name
    assert "learner 1003 (nucy): learner 1003 is not in the roster" in result.text
    assert_gradable(root, ["ann", "bob"])


# --- Moodle -----------------------------------------------------------------------------------------------------

def test_a_moodle_download_unpacked_to_a_folder_is_placed_by_participant_id(tmp_path):
    """Moodle: a folder per learner (4.x, and 3.x's trailing _), flat names, online text refused; an unpacked
    download is read too, with its links and pipes refused rather than followed or opened."""
    export = tmp_path / "moodle"
    files = {
        "Ann Lee_1234567_assignsubmission_file/placement.py": module("ann"),
        "Bob Stone_7654321_assignsubmission_file_/work/placement.ipynb": notebook("bob"),
        "Bob Stone_7654321_assignsubmission_file_/work/data.csv": b"a,b\n",
        "Cy Nu_1111111_assignsubmission_onlinetext/onlinetext.html": b"<p>text</p>",
        "Dee Oh_2222222_assignsubmission_file_placement.py": module("dee"),
        "grades.csv": b"Identifier,Full name\n",
    }
    for name, data in files.items():
        (export / name).parent.mkdir(parents=True, exist_ok=True)
        (export / name).write_bytes(data)
    (export / "Eve Kim_3333333_assignsubmission_file").mkdir()
    os.symlink("/etc/passwd", export / "Eve Kim_3333333_assignsubmission_file" / "placement.py")
    os.mkfifo(export / "Fay Ho_4444444_assignsubmission_file_placement.py")

    root = tmp_path / "class"
    result = hml("--from", "moodle", "--exercise", EXERCISE, export, root)
    assert result.exit_code == 0, result.output
    assert tree(root) == {
        "1234567/hybrid_placement.py": module("ann"),
        "7654321/hybrid_placement.ipynb": notebook("bob"),
        "2222222/hybrid_placement.py": module("dee"),
    }
    assert_gradable(root, ["1234567", "2222222", "7654321"])
    assert ("refused Cy Nu_1111111_assignsubmission_onlinetext/onlinetext.html: typed into Moodle (onlinetext), "
            "not a file to grade") in result.text
    assert "refused grades.csv: not laid out as Moodle lays out submissions" in result.text
    assert "Eve Kim_3333333_assignsubmission_file/placement.py: is a symbolic link; not followed" in result.text
    assert "Fay Ho_4444444_assignsubmission_file_placement.py: is a named pipe (FIFO); not followed" in result.text
    assert "submissions.csv not touched" in result.text and not (root / "submissions.csv").exists()

    again = hml("--from", "moodle", "--exercise", EXERCISE, export, root)
    assert "3 placed (0 new, 0 updated, 3 unchanged)" in again.text


# --- Gradescope -------------------------------------------------------------------------------------------------

GRADESCOPE_METADATA = """\
submission_101:
  :submitters:
  - :name: Ann Lee
    :sid: '1001'
    :email: ann@example.edu
  :created_at: 2026-12-02 08:15:00.365935000 -08:00
  :score: 10.0
  :history: []
submission_102:
  :submitters:
  - :name: Bob Stone
    :sid: 1002
    :email: bob@example.edu
  - :name: Cy Nu
    :sid: '1003'
    :email: cy@example.edu
  :created_at: 2026-12-01 23:59:59.000000000 +00:00
  :score: 8.0
  :history:
  - :id: 99
    :created_at: 2026-11-30 10:00:00.000000000 +00:00
    :score: 2.0
submission_103:
  :submitters:
  - :name: Dee Oh
    :sid:
    :email: dee@example.edu
  :created_at: 2026-12-01 12:00:00.000000000 +00:00
"""


def gradescope_export(tmp_path: Path) -> Path:
    base = "assignment_42_export/"
    return build_zip(tmp_path / "gradescope.zip", {
        f"{base}submission_metadata.yml": GRADESCOPE_METADATA.encode(),
        f"{base}submission_101/placement.py": module("ann"),
        f"{base}submission_102/placement.ipynb": notebook("bob and cy"),
        f"{base}submission_102/README.md": b"# our notes",
        f"{base}submission_103/placement.py": module("dee"),
        f"{base}stray.py": module("nobody"),
    })


def test_a_gradescope_export_is_placed_by_sid_with_its_times_in_submissions_csv(tmp_path):
    """Gradescope: learners by SID (each of a group), :created_at: written to submissions.csv in UTC (merged
    with what is there), a submitter without SID refused until a roster maps the e-mail; a rerun changes nothing."""
    root = tmp_path / "class"
    root.mkdir()
    (root / "submissions.csv").write_text("learner,exercise,submitted_at\n1001,kfp_sweep,2026-11-01T10:00:00Z\n")
    export = gradescope_export(tmp_path)
    result = hml("--from", "gradescope", "--exercise", EXERCISE, export, root)
    assert result.exit_code == 0, result.output

    placed = tree(root)
    assert placed.pop("submissions.csv").decode() == (
        "learner,exercise,submitted_at,late\n"
        "1001,hybrid_placement,2026-12-02T16:15:00Z,\n"
        "1001,kfp_sweep,2026-11-01T10:00:00Z,\n"
        "1002,hybrid_placement,2026-12-01T23:59:59Z,\n"
        "1003,hybrid_placement,2026-12-01T23:59:59Z,\n")
    assert placed == {
        "1001/hybrid_placement.py": module("ann"),
        "1002/hybrid_placement.ipynb": notebook("bob and cy"),
        "1003/hybrid_placement.ipynb": notebook("bob and cy"),
    }
    assert_gradable(root, ["1001", "1002", "1003"])
    assert "dee@example.edu: no student id in the download; pass a --roster" in result.text
    assert "refused assignment_42_export/stray.py: not in a submission folder submission_metadata.yml lists" \
        in result.text
    assert "2026-12-02T16:15:00Z" in result.text
    assert "3 placed (3 new, 0 updated, 0 unchanged)" in result.text and "submissions.csv updated" in result.text

    before = tree(root)
    written = (root / "submissions.csv").stat().st_mtime_ns
    again = hml("--from", "gradescope", "--exercise", EXERCISE, export, root)
    assert tree(root) == before and (root / "submissions.csv").stat().st_mtime_ns == written
    assert "3 placed (0 new, 0 updated, 3 unchanged)" in again.text and "submissions.csv unchanged" in again.text

    roster = tmp_path / "roster.csv"
    roster.write_text("id,login,email\n1001,ann,ann@example.edu\n1002,bob,\n1003,cy,\n,dee,dee@example.edu\n"
                      "x,dee,dee@example.edu\n")
    named = hml("--from", "gradescope", "-e", EXERCISE, "--roster", roster, export, tmp_path / "by-login")
    assert sorted(p for p in tree(tmp_path / "by-login") if "/" in p) == [
        "ann/hybrid_placement.py", "bob/hybrid_placement.ipynb", "cy/hybrid_placement.ipynb",
        "dee/hybrid_placement.py"], named.output


def test_gradescope_metadata_is_read_as_data_only(tmp_path):
    """submission_metadata.yml goes through yaml.safe_load: a tag that would build a Ruby or Python object stops
    the collect with one line naming the file and line, and nothing is placed."""
    export = build_zip(tmp_path / "gs.zip", {
        "submission_metadata.yml": b"submission_1:\n  :submitters: !!python/object/apply:os.system ['echo hi']\n",
        "submission_1/placement.py": module("ann"),
    })
    result = hml("--from", "gradescope", "-e", EXERCISE, export, tmp_path / "class")
    assert result.exit_code == 1
    assert "Error: " in result.output and "gs.zip: submission_metadata.yml, line 2:" in result.text
    assert "Traceback" not in result.output
    assert not (tmp_path / "class").exists()

    missing = hml("--from", "gradescope", "-e", EXERCISE, canvas_download(tmp_path), tmp_path / "class")
    assert missing.exit_code == 1 and "no submission_metadata.yml" in missing.text


# --- Hostile downloads --------------------------------------------------------------------------------------------

def hostile_download(tmp_path: Path) -> Path:
    bomb = b"\0" * (16 * 1024 * 1024)  # deflates about 1000:1
    return build_zip(tmp_path / "hostile.zip", [
        ("leeann_1001_5001_placement.py", module("ann")),
        ("../escape_1002_5002_placement.py", module("climbs out")),
        ("/tmp/absolute_1003_5003_placement.py", module("absolute")),
        ("sub/../../dots_1004_5004_placement.py", module("dots")),
        special("linky_1005_5005_placement.py", stat.S_IFLNK, b"/etc/passwd"),
        special("device_1006_5006_placement.py", stat.S_IFCHR),
        ("bomby_1007_5007_placement.py", bomb),
        ("twice_1008_5008_placement.py", module("first")),
        ("twice_1008_5008_placement.py", module("second")),
        ("stonebob_1009_5009_placement.py", module("bob")),
        ("evil:name_1010_5010_placement.py", module("colon")),
    ])


def test_hostile_entries_are_refused_each_with_its_reason_and_the_rest_placed(tmp_path):
    """Traversal, absolute names, a name Windows would read as a drive or stream (':'), links, devices, a zip bomb
    and a doubled name are refused one by one, each with its own reason, before a byte of them is read; nothing
    lands outside ROOT, and the good learners are still placed."""
    import warnings

    root = tmp_path / "work" / "class"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the doubled name, as it should
        export = hostile_download(tmp_path)
    result = hml("--from", "canvas", "-e", EXERCISE, export, root)
    assert result.exit_code == 0, result.output
    assert learner_files(root) == {"1001/hybrid_placement.py": module("ann"), "1009/hybrid_placement.py": module("bob")}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostile.zip", "work"]
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["class"]
    for name, reason in [
        ("../escape_1002_5002_placement.py", "points outside the archive's folder"),
        ("/tmp/absolute_1003_5003_placement.py", "points outside the archive's folder"),
        ("sub/../../dots_1004_5004_placement.py", "points outside the archive's folder"),
        ("linky_1005_5005_placement.py", "is a symbolic link; links are not accepted"),
        ("device_1006_5006_placement.py", "is not a plain file"),
        ("bomby_1007_5007_placement.py", "inflates "),
        ("twice_1008_5008_placement.py", "appears twice in the archive; neither is used"),
        ("evil:name_1010_5010_placement.py", "has a ':' in its name, which Windows reads as a drive or a file's "
                                             "data stream"),
    ]:
        assert f"refused {name}: {reason}" in result.text, (name, result.output)
    assert re.search(r"inflates \d{3,}:1 to 16 MiB; a zip bomb is not unpacked", result.text), result.output
    assert "2 placed (2 new, 0 updated, 0 unchanged), 8 refused" in result.text
    assert_gradable(root, ["1001", "1009"])


def test_a_download_past_its_bounds_is_read_only_up_to_them(tmp_path, monkeypatch):
    """Too many members, or more bytes than the bound: what lies beyond is refused in one line, what lies within
    is placed (the bounds are lowered here so the test stays small)."""
    from grader.platforms.exports import archive

    monkeypatch.setattr(archive, "MAX_MEMBERS", 3)
    export = build_zip(tmp_path / "many.zip", {f"learner{i}_{100 + i}_{500 + i}_placement.py": module(str(i))
                                               for i in range(5)})
    result = hml("--from", "canvas", "-e", EXERCISE, export, tmp_path / "class")
    assert sorted(learner_files(tmp_path / "class")) == [f"{100 + i}/hybrid_placement.py" for i in range(3)]
    assert "refused many.zip: 2 more entries beyond the limit of 3; not read" in result.text

    monkeypatch.setattr(archive, "MAX_MEMBERS", 1000)
    monkeypatch.setattr(archive, "MAX_EXPORT_BYTES", 2 * len(module("0")))
    result = hml("--from", "canvas", "-e", EXERCISE, export, tmp_path / "bounded")
    assert sorted(learner_files(tmp_path / "bounded")) == ["100/hybrid_placement.py", "101/hybrid_placement.py"]
    assert "learner2_102_502_placement.py: the download unpacks to more than" in result.text


def test_a_crash_on_one_learner_never_stops_the_rest(tmp_path, monkeypatch):
    """A bug met while placing one learner is reported on that learner's line; every other learner is placed."""
    from grader.platforms.exports import collect as collecting

    real = collecting.place

    def fragile(root, learner, *args):
        if learner == "1002":
            raise RuntimeError("disk on fire")
        return real(root, learner, *args)

    monkeypatch.setattr(collecting, "place", fragile)
    result = hml("--from", "canvas", "-e", EXERCISE, canvas_download(tmp_path), tmp_path / "class")
    assert result.exit_code == 0, result.output
    assert sorted(learner_files(tmp_path / "class")) == ["1001/hybrid_placement.py", "1003/hybrid_placement.py"]
    assert "refused stonebob_LATE_1002_5003_placement.ipynb: could not be placed (RuntimeError: disk on fire)" \
        in result.text


def test_what_cannot_be_collected_at_all_is_one_line_naming_the_file(tmp_path):
    """A download that is no zip, a missing one, or a bad roster: one error line naming the file, exit status 1;
    an unknown exercise is a usage error naming --exercise."""
    not_zip = tmp_path / "download.zip"
    not_zip.write_bytes(b"this is not a zip")
    result = hml("--from", "canvas", "-e", EXERCISE, not_zip, tmp_path / "class")
    assert result.exit_code == 1 and "download.zip: not a readable zip file" in result.text
    missing = hml("--from", "moodle", "-e", EXERCISE, tmp_path / "nowhere.zip", tmp_path / "class")
    assert missing.exit_code == 1 and "nowhere.zip: no such file or folder" in missing.text
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\nAnn,ann@example.edu\n")
    bad = hml("--from", "canvas", "-e", EXERCISE, "--roster", roster, canvas_download(tmp_path), tmp_path / "class")
    assert bad.exit_code == 1 and "roster.csv, line 1: no id column" in bad.text
    unknown = hml("--from", "canvas", "-e", "nope", canvas_download(tmp_path), tmp_path / "class")
    assert unknown.exit_code == 2 and "Invalid value for --exercise: there is no exercise 'nope'" in unknown.text
    for result in (result, missing, bad, unknown):
        assert "Traceback" not in result.output


@pytest.mark.parametrize("learner_id", ["../up", ".hidden", "report", "submissions.csv", "a/b"])
def test_a_learner_id_that_is_not_a_safe_folder_name_is_refused(tmp_path, learner_id):
    """An id from the download (here a Gradescope SID, which the learner may type) never names a folder it
    should not: no climbing out, no hidden folder, none of the names the class folder keeps for itself."""
    metadata = (f"submission_1:\n  :submitters:\n  - :name: X\n    :sid: '{learner_id}'\n"
                f"  :created_at: 2026-12-01 12:00:00 +00:00\n")
    export = build_zip(tmp_path / "gs.zip", {"submission_metadata.yml": metadata.encode(),
                                             "submission_1/placement.py": module("x")})
    root = tmp_path / "class"
    result = hml("--from", "gradescope", "-e", EXERCISE, export, root)
    assert result.exit_code == 0, result.output
    assert "cannot name a learner's folder" in result.text
    assert tree(root) == {} and sorted(p.name for p in tmp_path.iterdir()) == ["class", "gs.zip"]


# --- Names a learner can shape ------------------------------------------------------------------------------------

def test_a_canvas_name_that_reads_as_another_learner_is_refused(tmp_path):
    """A learner (11111) whose sortable name is evil_98765 (98765 being a classmate's Canvas id) gets a file name
    that reads both as theirs and as 98765's: it is refused, naming both readings, and never lands in 98765's
    folder; the classmate's own file is still placed. With a roster that has names, a file whose name is not the
    roster's name for its id is refused too."""
    export = build_zip(tmp_path / "canvas.zip", {
        "evil_98765_11111_5550001_placement.py": module("attacker"),
        "timvic_98765_5550003_placement.py": module("victim"),
        "leeann_22222_5550002_placement.py": module("ann"),
    })
    root = tmp_path / "class"
    result = hml("--from", "canvas", "-e", EXERCISE, export, root)
    assert learner_files(root) == {"98765/hybrid_placement.py": module("victim"),
                                   "22222/hybrid_placement.py": module("ann")}
    assert ("refused evil_98765_11111_5550001_placement.py: reads as more than one learner (learner 98765 named "
            "evil; learner 11111 named evil_98765)") in result.text

    roster = tmp_path / "roster.csv"
    roster.write_text("Student,ID,SIS Login ID\n\"Tim, Vic\",98765,vic\n\"Lee, Ann\",22222,ann\n", encoding="utf-8")
    renamed = build_zip(tmp_path / "renamed.zip", {"nottimvic_98765_5550004_placement.py": module("who?"),
                                                   "leeann_22222_5550002_placement.py": module("ann")})
    checked = hml("--from", "canvas", "-e", EXERCISE, "--roster", roster, renamed, tmp_path / "by-login")
    assert learner_files(tmp_path / "by-login") == {"ann/hybrid_placement.py": module("ann")}
    assert "named nottimvic, but the roster names learner 98765 Tim, Vic; not placed" in checked.text


def test_an_anonymous_looking_name_in_a_download_with_names_is_a_name(tmp_path):
    """anon_<5 characters> is read as an anonymous id only when every file of the download is named that way; in a
    download with names it is a sortable name like any other (the learner's own id follows it), and a file that
    reads both ways is refused."""
    export = build_zip(tmp_path / "canvas.zip", {"anon_abcde_11111_5550001_placement.py": module("eve"),
                                                 "leeann_22222_5550002_placement.py": module("ann")})
    hml("--from", "canvas", "-e", EXERCISE, export, tmp_path / "named")
    assert learner_files(tmp_path / "named") == {"11111/hybrid_placement.py": module("eve"),
                                                 "22222/hybrid_placement.py": module("ann")}

    anonymous = build_zip(tmp_path / "anon.zip", {"anon_abcde_5550001_placement.py": module("a"),
                                                  "LATE_anon_fghij_5550002_placement.py": module("b")})
    hml("--from", "canvas", "-e", EXERCISE, anonymous, tmp_path / "anonymous")
    assert learner_files(tmp_path / "anonymous") == {"anon_abcde/hybrid_placement.py": module("a"),
                                                     "anon_fghij/hybrid_placement.py": module("b")}

    alone = build_zip(tmp_path / "alone.zip", {"anon_abcde_11111_5550001_placement.py": module("eve")})
    result = hml("--from", "canvas", "-e", EXERCISE, alone, tmp_path / "alone")
    assert learner_files(tmp_path / "alone") == {}
    assert "reads both as the anonymous anon_abcde and as learner 11111" in result.text


def test_a_moodle_file_name_holding_another_learner_s_prefix_is_never_theirs(tmp_path):
    """Moodle (flat layout): the learner's own file name may contain _<id>_assignsubmission_file_; the first such
    mark ends the learner's prefix, so Eve's crafted file can never be placed as Vic's, and a name holding the mark
    twice (or a full name with a _, which Moodle never writes) is refused as ambiguous. Ids are ASCII digits only."""
    export = build_zip(tmp_path / "moodle.zip", {
        "Eve Vil_11111_assignsubmission_file_placement.py": module("eve"),
        "Eve Vil_11111_assignsubmission_file_x_98765_assignsubmission_file_placement.py": module("planted"),
        "Vic Tim_98765_assignsubmission_file_solution.py": module("vic"),
        "Mal_Lory_33333_assignsubmission_file_placement.py": module("mal"),
        "Ann_\u0669\u0668\u0667\u0666\u0665_assignsubmission_file/placement.py": module("arabic digits"),
    })
    root = tmp_path / "class"
    result = hml("--from", "moodle", "-e", EXERCISE, export, root)
    assert learner_files(root) == {"11111/hybrid_placement.py": module("eve"),
                                   "98765/hybrid_placement.py": module("vic")}
    assert ("x_98765_assignsubmission_file_placement.py: holds _<id>_assignsubmission_ more than once"
            in result.text)
    assert "Mal_Lory_33333_assignsubmission_file_placement.py: has a _ in the full name" in result.text
    assert "not laid out as Moodle lays out submissions" in result.text


def test_one_unreadable_name_is_one_refusal_not_a_stopped_collect(tmp_path):
    """A Canvas re-upload number too long to be one (placement-<5000 nines>.py), or an id of thousands of digits,
    is one entry's matter: the collect goes on and places everyone else (before, int() of it stopped the command).
    A bug met inside a platform's reader is reported on that entry's line."""
    export = build_zip(tmp_path / "canvas.zip", {
        "evil_11111_5550001_placement-" + "9" * 5000 + ".py": module("x"),
        "long_" + "1" * 5000 + "_5550003_placement.py": module("y"),
        "leeann_22222_5550002_placement.py": module("ann"),
    })
    result = hml("--from", "canvas", "-e", EXERCISE, export, tmp_path / "class")
    assert result.exit_code == 0, result.output
    assert learner_files(tmp_path / "class") == {"11111/hybrid_placement.py": module("x"),
                                                 "22222/hybrid_placement.py": module("ann")}
    assert "not named as Canvas names submissions" in result.text


def test_a_crash_inside_a_reader_is_one_entry_s_refusal(tmp_path, monkeypatch):
    """Every platform reader catches what goes wrong on one entry: a bug met reading one Canvas name, one Moodle
    name or one Gradescope submission is that entry's refusal line, and the others are placed."""
    from grader.platforms.exports import canvas, gradescope, moodle

    real_splits, real_file, real_hand_in = canvas.splits, moodle._learner_file, gradescope._hand_in

    def fragile_splits(name):
        if name.startswith("stonebob"):
            raise RuntimeError("canvas bug")
        return real_splits(name)

    def fragile_file(member):
        if member.name.startswith("Bob"):
            raise RuntimeError("moodle bug")
        return real_file(member)

    def fragile_hand_in(submitter, files, when):
        if submitter.get(":sid") == "1001":
            raise RuntimeError("gradescope bug")
        return real_hand_in(submitter, files, when)

    monkeypatch.setattr(canvas, "splits", fragile_splits)
    monkeypatch.setattr(moodle, "_learner_file", fragile_file)
    monkeypatch.setattr(gradescope, "_hand_in", fragile_hand_in)
    result = hml("--from", "canvas", "-e", EXERCISE, canvas_download(tmp_path), tmp_path / "c")
    assert sorted(learner_files(tmp_path / "c")) == ["1001/hybrid_placement.py", "1003/hybrid_placement.py"]
    assert "stonebob_LATE_1002_5003_placement.ipynb: could not be read (RuntimeError: canvas bug)" in result.text

    moodle_export = build_zip(tmp_path / "m.zip", {"Ann Lee_1_assignsubmission_file/placement.py": module("a"),
                                                   "Bob Stone_2_assignsubmission_file/placement.py": module("b")})
    result = hml("--from", "moodle", "-e", EXERCISE, moodle_export, tmp_path / "m")
    assert sorted(learner_files(tmp_path / "m")) == ["1/hybrid_placement.py"]
    assert "could not be read (RuntimeError: moodle bug)" in result.text

    result = hml("--from", "gradescope", "-e", EXERCISE, gradescope_export(tmp_path), tmp_path / "g")
    assert sorted(learner_files(tmp_path / "g")) == ["1002/hybrid_placement.ipynb", "1003/hybrid_placement.ipynb"]
    assert "submission_101: could not be read (RuntimeError: gradescope bug)" in result.text


def test_folders_differing_only_in_case_are_refused_naming_both(tmp_path):
    """On a case-insensitive file system Ann/ and ann/ are one folder, and the second learner placed would
    silently replace the first: learners whose folders differ only in case are refused, both named, in one
    download or against a folder already in ROOT."""
    roster = tmp_path / "roster.csv"
    roster.write_text("id,login\n1001,Ann\n1002,ann\n1003,bob\n1009,Bob\n")
    export = canvas_download(tmp_path)
    root = tmp_path / "class"
    result = hml("--from", "canvas", "-e", EXERCISE, "--roster", roster, export, root)
    assert learner_files(root) == {"bob/hybrid_placement.py": module("cy")}
    assert "the learner Ann and ann differ only in case" in result.text
    assert "the learner ann and Ann differ only in case" in result.text

    later = build_zip(tmp_path / "later.zip", {"smithbo_1009_5010_placement.py": module("other bob")})
    again = hml("--from", "canvas", "-e", EXERCISE, "--roster", roster, later, root)
    assert learner_files(root) == {"bob/hybrid_placement.py": module("cy")}
    assert "the learner Bob and bob differ only in case" in again.text


def test_re_collecting_a_canvas_download_keeps_the_times_added_by_hand(tmp_path):
    """Canvas gives only LATE_: a time the instructor added to submissions.csv survives collecting the same (or a
    newer) download again; only the late flag follows the download, and when nothing changes nothing is written."""
    export = build_zip(tmp_path / "canvas.zip", {"leeann_LATE_1001_5001_placement.py": module("ann")})
    root = tmp_path / "class"
    hml("--from", "canvas", "-e", EXERCISE, export, root)
    times = root / "submissions.csv"
    times.write_text("learner,exercise,submitted_at,late\n1001,hybrid_placement,2026-12-05T10:00:00Z,yes\n")
    written = times.stat().st_mtime_ns

    again = hml("--from", "canvas", "-e", EXERCISE, export, root)
    assert times.read_text() == "learner,exercise,submitted_at,late\n1001,hybrid_placement,2026-12-05T10:00:00Z,yes\n"
    assert times.stat().st_mtime_ns == written and "submissions.csv unchanged" in again.text

    on_time = build_zip(tmp_path / "on-time.zip", {"leeann_1001_5001_placement.py": module("ann")})
    hml("--from", "canvas", "-e", EXERCISE, on_time, root)
    assert times.read_text() == "learner,exercise,submitted_at,late\n1001,hybrid_placement,2026-12-05T10:00:00Z,no\n"
