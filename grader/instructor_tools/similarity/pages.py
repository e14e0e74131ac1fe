"""The instructor's pages: an index of the pairs above the threshold and a side-by-side page for each.

Markup lives in ``templates/`` (jinja2, autoescaped): everything learner-made (folder names, code,
labels holding values from a package) reaches a page only as escaped text, cleaned and bounded
here first. The pages load nothing (no script, no stylesheet or font from elsewhere) and are named
by rank (``pair-001.html``), never by a learner's name. They go to their own folder: nothing here
is meant for, or written beside, the learner pages of ``hml report``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.instructor_tools.similarity.errors import SimilarityError
from grader.instructor_tools.similarity.ranking import Pair, Signal
from grader.learner_text import clean

TEMPLATES = Path(__file__).with_name("templates")
MAX_SHOWN_CHARS = 60_000  # of each side's code
MAX_NAME = 120
PAGE_PATTERN = "pair-*.html"


@dataclass(frozen=True)
class Segment:
    text: str
    copied: bool


def segments(text: str, spans: tuple[tuple[int, int], ...]) -> list[Segment]:
    """``text`` cut into runs, each copied or not, at most MAX_SHOWN_CHARS of it, cleaned for a page."""
    shown, found, at = text[:MAX_SHOWN_CHARS], [], 0
    for start, end in sorted(spans):
        start, end = max(start, at), min(end, len(shown))
        if start >= end:
            continue
        if start > at:
            found.append(Segment(clean(shown[at:start], MAX_SHOWN_CHARS), False))
        found.append(Segment(clean(shown[start:end], MAX_SHOWN_CHARS), True))
        at = end
    if at < len(shown):
        found.append(Segment(clean(shown[at:], MAX_SHOWN_CHARS), False))
    if len(text) > len(shown):
        found.append(Segment(f"\n… {len(text) - len(shown)} more characters not shown", False))
    return found


def write_pages(pairs: list[Pair], out_dir: Path, threshold: float) -> Path:
    """Write ``index.html`` and a page per pair scoring at least ``threshold``; set each such pair's ``page``."""
    import jinja2

    if out_dir.exists() and not out_dir.is_dir():
        raise SimilarityError(f"{out_dir} is a file; give -o a folder for the similarity pages")
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob(PAGE_PATTERN):  # an earlier run's pages would describe pairs no longer above it
        old.unlink()
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    shown = [p for p in pairs if p.score >= threshold]
    for rank, pair in enumerate(shown, start=1):
        pair.page = f"pair-{rank:03d}.html"
        (out_dir / pair.page).write_text(env.get_template("pair.html.j2").render(
            pair=_view(pair), rank=rank, threshold=threshold), encoding="utf-8")
    index = out_dir / "index.html"
    index.write_text(env.get_template("index.html.j2").render(
        pairs=[_view(p) for p in shown], threshold=threshold, compared=len(pairs)), encoding="utf-8")
    return index


def _view(pair: Pair) -> dict:
    """What a template shows of a pair: plain strings and numbers, learner text cleaned and bounded."""
    scores = {signal.value: (f"{value:.2f}" if value is not None else "–") for signal, value in pair.scores().items()}
    view = {"exercise": pair.exercise, "learners": [clean(name, MAX_NAME) for name in pair.learners],
            "score": f"{pair.score:.2f}", "scores": scores, "page": pair.page, "code": None, "artifacts": []}
    if pair.code is not None:
        view["code"] = {"shares": [f"{s:.0%}" for s in pair.code.shares],
                        "sides": [segments(text, spans) for text, spans in zip(pair.code.texts, pair.code.copied)]}
    for signal, match in ((Signal.PIPELINE, pair.pipeline), (Signal.MODEL, pair.model)):
        if match is not None:
            view["artifacts"].append({"signal": signal.value, "score": f"{match.score:.2f}",
                                      "distinctive": list(match.distinctive),
                                      "shared": [clean(label, 400) for label in match.shared]})
    return view
