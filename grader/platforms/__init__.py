"""Grading where courses grade: Coursera custom graders, Gradescope autograders, Canvas gradebook imports.

Each platform gets two plain functions (build what the platform runs, and
run inside it) and the CLI wraps them thinly (``grader/commands/``):

- ``bundle``      the course source and pinned dependencies a platform image holds
- ``submission``  the learner's files as a platform hands them over
- ``learner_view`` what a learner may see of a result (hidden tests: pass/fail only)
- ``coursera``    build context (Dockerfile, entrypoint, part-id map) and ``feedback.json``
- ``gradescope``  autograder zip (``setup.sh``, ``run_autograder``) and ``results.json``
- ``canvas``      the gradebook as a CSV Canvas imports
- ``exports/``    LMS bulk downloads (Canvas, Moodle, Gradescope) collected into a class folder (``hml collect``)

Templates of the generated files live in ``templates/``.
"""
