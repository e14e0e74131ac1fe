"""Self-check quizzes: question banks in YAML, a terminal session, grading, history and exports.

Kept light on purpose: importing this package (or its commands in grader.commands.quiz) must not
pull in TensorFlow, kfp or google.cloud, so `hml quiz ...` starts in a fraction of a second.
"""
from grader.quiz.errors import AnswerError, AnswersFileError, QuizBankError, QuizError, QuizNotFound, SelectionError
from grader.quiz.loader import load_bank, load_quiz
from grader.quiz.model import Bank, Question, QuestionKind

__all__ = [
    "AnswerError", "AnswersFileError", "Bank", "Question", "QuestionKind", "QuizBankError", "QuizError",
    "QuizNotFound", "SelectionError", "load_bank", "load_quiz",
]
