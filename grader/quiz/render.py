"""How quiz objects look in a terminal (rich renderables; no input, no state)."""
from __future__ import annotations

import re

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from grader.quiz.answers_file import EntryProblem
from grader.quiz.grading import AnswerVerdict, Scorecard, Status
from grader.quiz.history import Attempt, TopicMisses
from grader.quiz.model import Bank, QuestionKind
from grader.quiz.responses import hint
from grader.quiz.selection import Presented

_CODE = re.compile(r"`([^`]+)`")
STATUS_STYLE = {
    Status.CORRECT: ("✓ correct", "bold green"),
    Status.WRONG: ("✗ wrong", "bold red"),
    Status.INVALID: ("? unreadable", "bold yellow"),
    Status.UNANSWERED: ("– unanswered", "dim"),
}


def inline(text: str, style: str = "") -> Text:
    """Plain text with `code` spans highlighted; never interprets rich markup in bank text."""
    out = Text(style=style)
    position = 0
    for match in _CODE.finditer(text):
        out.append(text[position:match.start()])
        out.append(match.group(1), style="bold cyan")
        position = match.end()
    out.append(text[position:])
    return out


def question_panel(presented: Presented, number: int, of: int) -> Panel:
    q = presented.question
    body: list[RenderableType] = [inline(q.prompt)]
    if presented.choices:
        choices = Table.grid(padding=(0, 1))
        choices.add_column(style="bold")
        choices.add_column()
        for letter, choice in presented.lettered():
            choices.add_row(f"{letter})", inline(choice))
        body += [Text(), choices]
    body += [Text(), Text(f"Answer with {hint(presented)}.", style="dim")]
    # Module only: the topic (say "feedback loops") can give the answer away, so it comes with the feedback.
    # Text, not str: rich would read square brackets in a bank's module name as markup.
    return Panel(Group(*body), title=Text(f"Question {number}/{of}"), title_align="left",
                 subtitle=Text(q.module), subtitle_align="right", border_style="blue")


def feedback(verdict: AnswerVerdict) -> Group:
    """What follows an answer: the verdict, the right answer if missed, and the explanation."""
    label, style = STATUS_STYLE[verdict.status]
    lines: list[RenderableType] = []
    head = Text(label.split(" ", 1)[0] + " ", style=style)
    if verdict.status is Status.CORRECT:
        head.append("Correct.", style=style)
    else:
        if verdict.status is Status.INVALID:
            head.append(f"Could not read {verdict.given!r}: {verdict.problem}. ", style=style)
        elif verdict.status is Status.UNANSWERED:
            head.append("No answer. ", style=style)
        else:
            head.append("Not quite. ", style=style)
        head.append("The answer is ")
        head.append_text(inline(verdict.presented.answer_display(), style="bold"))
        head.append(".")
    lines.append(head)
    if verdict.status is Status.WRONG and verdict.question.kind is QuestionKind.MULTIPLE:
        lines.append(Text(_selection_gap(verdict), style=style))
    lines.append(inline(verdict.question.explanation, style="italic"))
    lines.append(Text(f"Topic: {verdict.question.topic}", style="dim"))
    return Group(*lines, Text())


def _selection_gap(verdict: AnswerVerdict) -> str:
    """For a wrong multiple-select answer: which right choices were left out, which wrong ones picked."""
    p, correct = verdict.presented, verdict.question.correct
    missing = [p.letter(c) for c in p.choices if c in correct and c not in verdict.chosen]
    extra = [p.letter(c) for c in p.choices if c in verdict.chosen and c not in correct]
    parts = []
    if missing:
        parts.append(f"You left out {', '.join(missing)}")
    if extra:
        parts.append(f"{'and' if missing else 'You'} also picked {', '.join(extra)}")
    return " ".join(parts) + "."


def scorecard(card: Scorecard, title: str = "Score") -> Group:
    total = card.total
    headline = Text(f"{title}: {total.correct}/{total.asked} ({total.percent:.0f}%)", style="bold")
    modules = _tally_table(["Module"], [([m], t) for m, t in card.by_module.items()])
    # Topics grouped by module, in the order modules appeared; the module column only when there are several.
    order = list(card.by_module)
    rows = sorted(card.by_topic.items(), key=lambda item: order.index(item[0][0]))
    if len(order) > 1:
        topics = _tally_table(["Topic", "Module"], [([topic, m], t) for (m, topic), t in rows])
    else:
        topics = _tally_table(["Topic"], [([topic], t) for (m, topic), t in rows])
    return Group(headline, Text(), modules, Text(), topics)


def _tally_table(headings: list[str], rows: list[tuple[list[str], object]]) -> Table:
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    for number, heading in enumerate(headings):
        table.add_column(heading, style="dim" if number else "")
    table.add_column("Score", justify="right")
    table.add_column("", justify="right")
    for names, tally in rows:
        style = "green" if tally.correct == tally.asked else ("red" if tally.correct == 0 else "yellow")
        table.add_row(*names, str(tally), Text(f"{tally.percent:.0f}%", style=style))
    return table


def verdict_table(verdicts: list[AnswerVerdict]) -> Table:
    """One row per question; choice answers in letters, so the table stays narrow."""
    table = Table(header_style="bold")
    table.add_column("#", justify="right")
    table.add_column("Question", no_wrap=True)
    table.add_column("Yours", overflow="fold")
    table.add_column("Verdict", no_wrap=True)
    table.add_column("Answer", overflow="fold")
    for number, verdict in enumerate(verdicts, start=1):
        label, style = STATUS_STYLE[verdict.status]
        given = verdict.given_short
        if verdict.status is Status.INVALID:
            given = f"{given} ({verdict.problem})"
        table.add_row(str(number), verdict.question.id, Text(given), Text(label, style=style),
                      Text(verdict.presented.answer_short()))
    return table


def entry_problems(problems: list[EntryProblem]) -> Group:
    lines = [Text("Entries that were not graded:", style="bold yellow")]
    lines += [Text(f"  {p.question_id}: {p.message}") for p in problems]
    return Group(*lines)


def bank_table(bank: Bank) -> Group:
    heading = Text.assemble((bank.name, "bold"), "  ", (bank.title, "dim"))
    table = Table(header_style="bold")
    table.add_column("Module")
    table.add_column("Questions", justify="right")
    for module, count in bank.counts_by_module().items():
        table.add_row(module, str(count))
    table.add_section()
    table.add_row(Text("Total", style="bold"), Text(str(len(bank.questions)), style="bold"))
    return Group(heading, table)


def quiz_heading(bank: Bank, questions: int, seed: int | None) -> Group:
    """What a quiz in the terminal opens with: its title, its length, and how to take it again."""
    order = f"seed {seed}: `--seed {seed}` repeats this quiz" if seed is not None else "bank order (no --seed)"
    return Group(Text(bank.title, style="bold"), Text(f"{questions} questions · {order}", style="dim"), Text())


def attempts_table(attempts: list[Attempt]) -> Table:
    """Recorded attempts, one a row, with a bar for the score and notes on how each was taken."""
    table = Table(title="Attempts", title_justify="left", header_style="bold")
    table.add_column("When", no_wrap=True)
    table.add_column("Quiz", no_wrap=True)
    table.add_column("Score", justify="right", no_wrap=True)
    table.add_column("", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column("Notes")
    for attempt in attempts:
        notes = [] if attempt.mode == "interactive" else [attempt.mode]
        if attempt.retry:
            notes.append(f"retry {attempt.retry}")
        if not attempt.complete:
            notes.append(f"stopped after {attempt.asked} of {attempt.planned}")
        notes.append(attempt.selection)
        table.add_row(attempt.taken_at.astimezone().strftime("%Y-%m-%d %H:%M"), attempt.quiz,
                      f"{attempt.correct}/{attempt.asked}", f"{attempt.percent:.0f}%",
                      Text("█" * round(attempt.percent / 20), style="green"), "; ".join(notes))
    return table


def missed_topics_table(missed: list[TopicMisses]) -> Table:
    table = Table(title="Topics missed most often", title_justify="left", header_style="bold")
    table.add_column("Topic")
    table.add_column("Module")
    table.add_column("Missed", justify="right", no_wrap=True)
    for row in missed:
        table.add_row(row.topic, row.module, f"{row.missed} of {row.answered}")
    return table
