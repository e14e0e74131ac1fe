"""Judging, where no learner code runs: reading compiled pipelines on the trusted side (``kfp_ir``) and the
evaluators that parse learner artifacts and compute reference answers (``evaluators/``).

This whole folder is hidden from every worker that runs learner code (``grader.sandbox.launch.LEARNER_HIDDEN``):
the reference conversions here would otherwise be one import away from a submission.
"""
