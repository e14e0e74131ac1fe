"""One path from an error to an exit status: whatever command a grader error escapes from, `hml` prints
its message as click's `Error: ...`, with no traceback, and exits with the status the error names."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.errors import ExitCode


@pytest.fixture
def hml(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HML_CACHE_DIR", str(tmp_path / ".cache"))
    monkeypatch.delenv("HML_BROKER", raising=False)

    def run(*args: str):
        result = CliRunner().invoke(main, list(args))
        result.text = " ".join(result.output.split())
        return result

    return run


@pytest.mark.parametrize("args, status, says", [
    # Usage: a wrong id or a missing option, named as click names its own.
    (("start", "kfp_basic_pipelin"), ExitCode.USAGE, "Invalid value for ID: there is no exercise 'kfp_basic_pipelin'. "
                                                      "Did you mean 'kfp_basic_pipeline'?"),
    (("grade", "-e", "nope", "."), ExitCode.USAGE, "Invalid value for --exercise: there is no exercise 'nope'"),
    (("grade-course", ".", "--engine", "celery"), ExitCode.USAGE, "Invalid value for --broker: --engine celery "
                                                                  "needs --broker"),
    (("check", "nope", "missing.py"), ExitCode.FAILED, "missing.py does not exist"),
    # What a command could not do: the gradebook, the report, the quiz bank, the release folder.
    (("report", "-o", "nowhere"), ExitCode.FAILED, "no gradebook at nowhere/gradebook.sqlite"),
    (("gradebook", "export", "-o", "nowhere"), ExitCode.FAILED, "no gradebook at nowhere/gradebook.sqlite"),
    (("quiz", "take", "no_such_quiz"), ExitCode.FAILED, "No quiz named 'no_such_quiz'"),
    (("release", "."), ExitCode.FAILED, "exists and is not empty"),
])
def test_a_grader_error_is_a_message_and_its_exit_status(hml, tmp_path, args, status, says):
    """Each command's own error reaches the learner or instructor as one line, not a traceback."""
    (tmp_path / "something").write_text("so that the folder is not empty\n")
    result = hml(*args)
    assert result.exit_code == status, result.output
    assert "Error: " in result.output and says in result.text, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
