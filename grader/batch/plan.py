"""Planning a batch: which submissions the gradebook already holds with the same content and the
same suite (skipped, see ``grader.batch.digests``), and in which order to grade the rest.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from grader.batch.digests import content_hash, suite_hash
from grader.batch.progress import guess_seconds
from grader.course.model import Course

if TYPE_CHECKING:  # pragma: no cover
    from grader.grading.run import Job
    from grader.record.gradebook import Gradebook
    from grader.record.results import GradeResult


@dataclass
class Planned:
    job: "Job"
    content_hash: str
    suite_hash: str
    previous: "GradeResult | None" = None  # the recorded result, when the job is skipped

    @property
    def skip(self) -> bool:
        return self.previous is not None


def plan(jobs: list["Job"], course: Course, gradebook: "Gradebook | None", *, force: bool = False,
         retry_errors: bool = False) -> list[Planned]:
    """Hash every job and mark those the gradebook holds with the same content and suite."""
    suites: dict[str, str] = {}
    planned = []
    for job in jobs:
        suite = suites.get(job.exercise.id) or suites.setdefault(job.exercise.id, suite_hash(job.exercise, course))
        item = Planned(job, content_hash(job.submission), suite)
        if gradebook is not None and not force:
            item.previous = gradebook.unchanged(job.who, job.exercise.id, item.content_hash, suite,
                                                job.results_file, retry_errors=retry_errors)
        planned.append(item)
    return planned


def schedule(items: list[Planned], expected: dict[str, float]) -> list[Planned]:
    """Grading order: the first submission of each exercise (it fills the batch cache), slowest
    exercises first, then the rest, slowest first. Two workers thus rarely compute the same
    reference at once, and a long submission does not start last. ``expected`` holds mean
    grading times from earlier runs; exercises without any are guessed."""
    firsts, rest, seen = [], [], set()
    for item in items:
        (rest if item.job.exercise.id in seen else firsts).append(item)
        seen.add(item.job.exercise.id)

    def key(item: Planned) -> float:
        exercise = item.job.exercise
        return -expected.get(exercise.id, guess_seconds(exercise))

    return sorted(firsts, key=key) + sorted(rest, key=key)
