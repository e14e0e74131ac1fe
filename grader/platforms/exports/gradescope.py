"""Gradescope's "Export Submissions" zip, read into one hand-in per submitter.

The export holds ``submission_metadata.yml`` beside a folder per active
submission, often inside an ``assignment_<id>_export/`` folder. The metadata
is Ruby-flavoured YAML: its keys are Ruby symbols, which YAML reads as
strings starting with ``:``::

    submission_123456:
      :submitters:
      - :name: Ann Lee
        :sid: '1234567'
        :email: ann@example.edu
      :created_at: 2026-12-02 08:15:00.365935000 -08:00
      :score: 10.0
      :history: [...]     # earlier submissions, whose files the export does not hold

A group submission lists every member under ``:submitters:``; each gets the
submission. ``:created_at:`` is when the active submission was handed in: the
platform's record, written to ``ROOT/submissions.csv``. The file is read with
``yaml.safe_load`` only: nothing in it may build an object.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import yaml

from grader.learner_text import clean
from grader.platforms.exports.archive import ExportError, Export, Unreadable
from grader.platforms.exports.model import HandedFile, HandIn, Member, Reading, Refusal

METADATA = "submission_metadata.yml"
MAX_METADATA_BYTES = 64 * 1024 * 1024  # :results: of every submission included, a large class stays far below


def read(export: Export) -> Reading:
    """Each submitter's active submission and its time; files no submission lists are refused."""
    metadata_member = _metadata_member(export)
    base = metadata_member.name[:-len(METADATA)]
    metadata = _metadata(export, metadata_member)
    reading = Reading(has_times=True)
    files_of: dict[str, list[Member]] = defaultdict(list)
    for member in export.members:
        if member is metadata_member:
            continue
        folder, _, original = member.name[len(base):].partition("/") if member.name.startswith(base) else ("", "", "")
        if folder in metadata and original:
            files_of[folder].append(member)
        else:
            reading.refused.append(Refusal(member.name, f"not in a submission folder {METADATA} lists"))
    for folder, record in sorted(metadata.items()):
        try:
            _read_submission(reading, base, folder, record, files_of.get(folder, []))
        except Exception as exc:  # a bug met on one submission: its line, not the class's collect
            reading.refused.append(Refusal.crashed(f"{base}{METADATA}", f"{clean(folder, 120)}: could not be read",
                                                   exc))
    return reading


def _read_submission(reading: Reading, base: str, folder: str, record: dict, members: list[Member]) -> None:
    prefix = f"{base}{folder}/"
    files = [HandedFile(m.name[len(prefix):], m) for m in members]
    when = _time(record.get(":created_at"))
    if when is None:
        reading.refused.append(Refusal(f"{base}{METADATA}", f"{folder}: no time zone-aware :created_at:; "
                                                            "its submission time is not recorded"))
    submitters = record.get(":submitters") or []
    if not isinstance(submitters, list):
        raise ValueError(":submitters: is not a list")
    for submitter in submitters:
        hand_in = _hand_in(submitter, files, when)
        if hand_in is None:
            reading.refused.append(Refusal(f"{base}{METADATA}", f"{folder}: a submitter without :sid: or :email:"))
        else:
            reading.hand_ins.append(hand_in)


def _metadata_member(export: Export) -> Member:
    """The export's metadata file: the one nearest the top, when an export was unpacked inside another folder."""
    found = sorted((m for m in export.members if m.basename == METADATA), key=lambda m: (m.name.count("/"), m.name))
    if not found:
        raise ExportError(f"{export.source}: no {METADATA}; is it Gradescope's Export Submissions download?")
    return found[0]


def _metadata(export: Export, member: Member) -> dict[str, dict]:
    """The metadata, by submission folder; an error naming the file when it is not the mapping Gradescope writes."""
    where = f"{export.source}: {member.name}"
    try:
        text = export.read(member, MAX_METADATA_BYTES).decode("utf-8")
        data = yaml.safe_load(text)
    except Unreadable as exc:
        raise ExportError(f"{where} {exc}") from None
    except UnicodeDecodeError:
        raise ExportError(f"{where}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        problem = " ".join(str(getattr(exc, "problem", None) or "not YAML").split())
        mark = getattr(exc, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark is not None else ""
        raise ExportError(f"{where}{line}: {problem}") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, dict) for k, v in data.items()):
        raise ExportError(f"{where}: expected a submission folder name mapped to its :submitters: and :created_at:")
    return data


def _hand_in(submitter: object, files: list[HandedFile], when: datetime | None) -> HandIn | None:
    """One submitter's hand-in, named by SID (or, lacking one, by e-mail for the roster to match); None if neither."""
    if not isinstance(submitter, dict):
        return None
    sid, email = _text(submitter.get(":sid")), _text(submitter.get(":email"))
    if not sid and not email:
        return None
    return HandIn(sid, _text(submitter.get(":name")), email, files=list(files), submitted_at=when)


def _text(value: object) -> str:
    """A metadata scalar as text: an SID may be written as a number, and a missing one as nil."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).strip()


def _time(value: object) -> datetime | None:
    """``:created_at:`` with its zone: YAML reads Ruby's time as one; a quoted one is parsed; a zoneless one is None."""
    if isinstance(value, str):
        text = value.strip().replace(" UTC", "+00:00")
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            return None
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value
    return None
