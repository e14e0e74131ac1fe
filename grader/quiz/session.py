"""The terminal session: one question at a time, feedback at once, a summary, retries of misses.

Input comes through ``ask(prompt) -> str`` so tests can script it; Ctrl-C (KeyboardInterrupt)
or the end of input (EOFError) end the session cleanly with the partial score.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from rich.console import Console
from rich.rule import Rule
from rich.text import Text

from grader.quiz import render
from grader.quiz.errors import AnswerError, HistoryError
from grader.quiz.grading import AnswerVerdict, Scorecard, grade_answer
from grader.quiz.history import History
from grader.quiz.responses import RawAnswer, hint, interpret
from grader.quiz.selection import Presented, Selection, present

Ask = Callable[[str], str]

YES = {"y", "yes"}


@dataclass
class RoundResult:
    """One pass through a list of questions; ``retry`` is 0 for the first pass."""

    verdicts: list[AnswerVerdict]
    planned: int
    retry: int = 0
    interrupted: bool = False

    @property
    def complete(self) -> bool:
        return not self.interrupted and len(self.verdicts) == self.planned

    @property
    def missed(self) -> list[AnswerVerdict]:
        return [v for v in self.verdicts if not v.correct]


class Session:
    """Runs a quiz in a terminal. ``on_round`` is told about every finished round (for the history)."""

    def __init__(self, console: Console, ask: Ask, *, seed: int | None,
                 on_round: Callable[[RoundResult], None] | None = None):
        self.console = console
        self.ask = ask
        self.seed = seed
        self.on_round = on_round or (lambda result: None)

    def run(self, questions: list[Presented], *, offer_retry: bool = True) -> list[RoundResult]:
        rounds: list[RoundResult] = []
        retry = 0
        while True:
            result = self._play(questions, retry)
            rounds.append(result)
            self._finish(result)
            if result.interrupted or not result.missed or not offer_retry:
                return rounds
            if not self._wants_retry(len(result.missed)):
                return rounds
            retry += 1
            # New letters for the retry, so the learner rereads the choices instead of recalling a letter.
            questions = [present(v.question, self.seed, retry) if self.seed is not None else v.presented
                         for v in result.missed]

    def replay(self, questions: list[Presented], answers: dict[str, RawAnswer]) -> RoundResult:
        """Non-interactive: show each question with the answer from a file, then the summary."""
        verdicts = []
        for number, presented in enumerate(questions, start=1):
            self.console.print(render.question_panel(presented, number, len(questions)))
            verdict = grade_answer(presented, answers.get(presented.question.id))
            self.console.print(Text.assemble(("Your answer: ", "bold"), verdict.given or "(none)"))
            self.console.print(render.feedback(verdict))
            verdicts.append(verdict)
        result = RoundResult(verdicts, planned=len(questions))
        self._finish(result)
        return result

    def _play(self, questions: list[Presented], retry: int) -> RoundResult:
        verdicts: list[AnswerVerdict] = []
        if retry:
            self.console.print(Rule(f"Retry {retry}: the {len(questions)} missed question(s)"))
        try:
            for number, presented in enumerate(questions, start=1):
                self.console.print(render.question_panel(presented, number, len(questions)))
                verdict = self._ask_until_readable(presented)
                self.console.print(render.feedback(verdict))
                verdicts.append(verdict)
        except (KeyboardInterrupt, EOFError):
            self.console.print()
            self.console.print(Text(f"Stopped after {len(verdicts)} of {len(questions)} questions.",
                                    style="bold yellow"))
            return RoundResult(verdicts, planned=len(questions), retry=retry, interrupted=True)
        return RoundResult(verdicts, planned=len(questions), retry=retry)

    def _ask_until_readable(self, presented: Presented) -> AnswerVerdict:
        # An unreadable answer is a typo, not a wrong answer: say why and ask again.
        while True:
            raw = self.ask("Your answer: ")
            if not raw.strip():
                self.console.print(Text(f"Please answer with {hint(presented)} (Ctrl-C stops the quiz).",
                                        style="yellow"))
                continue
            try:
                interpret(presented, raw)
            except AnswerError as err:
                self.console.print(Text(f"{err}. Try again.", style="yellow"))
                continue
            return grade_answer(presented, raw)

    def _finish(self, result: RoundResult) -> None:
        self.on_round(result)
        if not result.verdicts:
            self.console.print("No question answered, no score.")
            return
        title = "Partial score" if result.interrupted else ("Retry score" if result.retry else "Score")
        self.console.print(Rule())
        self.console.print(render.scorecard(Scorecard.of(result.verdicts), title=title))
        self.console.print()

    def _wants_retry(self, missed: int) -> bool:
        try:
            reply = self.ask(f"Retry the {missed} missed question(s)? [y/N] ")
        except (KeyboardInterrupt, EOFError):
            self.console.print()
            return False
        return reply.strip().casefold() in YES


class Recorder:
    """Writes attempts to the history; a history that cannot be written is a warning, not a failure.

    Pass it as a session's ``on_round``, or call ``record`` for a graded answers file.
    """

    def __init__(self, history: History | None, quiz: str, mode: str, selection: Selection, *,
                 warnings: Console):
        self.history, self.quiz, self.mode, self.selection = history, quiz, mode, selection
        self.warnings = warnings

    def __call__(self, result: RoundResult) -> None:
        self.record(result.verdicts, planned=result.planned, complete=result.complete, retry=result.retry)

    def record(self, verdicts: list[AnswerVerdict], *, planned: int, complete: bool, retry: int = 0) -> None:
        if self.history is None or not verdicts:
            return
        try:
            self.history.record(quiz=self.quiz, mode=self.mode, selection=self.selection.describe(),
                                verdicts=verdicts, planned=planned, complete=complete, retry=retry)
        except HistoryError as err:
            self.warnings.print(Text(f"Warning: {err}", style="yellow"))
            self.history = None  # one warning per session is enough


def enable_line_editing() -> None:
    """Give input() arrow keys and history, where the platform has readline."""
    # Importing readline is what does it; absent on some platforms.
    try:
        import readline  # noqa: F401
    except ImportError:
        pass
