"""Self-check quizzes: question banks in YAML, a terminal session, grading, history and exports.

Kept light on purpose: importing this package (or its CLI) must not pull in TensorFlow,
kfp or google.cloud, so `hml quiz ...` starts in a fraction of a second.
"""
from .errors import AnswerError, AnswersFileError, QuizBankError, QuizError, QuizNotFound, SelectionError
from .loader import load_bank, load_quiz
from .model import Bank, Kind, Question

__all__ = [
    "AnswerError", "AnswersFileError", "Bank", "Kind", "Question", "QuizBankError", "QuizError",
    "QuizNotFound", "SelectionError", "load_bank", "load_quiz",
]
