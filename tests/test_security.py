"""Hostile submissions, graded as one batch: each earns nothing, and the batch goes on.

The submissions live in tests/hostile/; each attacks one part of the trust
boundary. Where an attack can observe its own outcome it raises an error
starting with "ATTACK", which visible tests show the learner: a reader of the
results sees what the attacker saw. The tests judge containment from what the
grader produced instead (scores, kinds, the sandbox each result records, what
is left on the host), which holds however far an attack got before its call
limit on a busy machine.
"""
from __future__ import annotations

import hashlib
import os
import json
import socket
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from grader.grading.run import Job, grade_many, grade_one
from grader.record.kinds import Kind, Outcome
from grader.sandbox.launch import Sandbox
from grader.sandbox.proxy import Learner
from grading_helpers import accepted_connections

HOSTILE = Path(__file__).with_name("hostile")
EXERCISE = "hybrid_placement"
ROOT = Path(__file__).resolve().parents[1]


def _tree_digest(*folders: Path) -> str:
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path).encode() + path.read_bytes())
    return digest.hexdigest()


def _materialise(tmp: Path, output: Path, port: int) -> list[Path]:
    """Write each hostile module with the real paths (and the listening port) it should try to reach."""
    paths = []
    for source in sorted(HOSTILE.glob("*.py")):
        text = source.read_text().replace("{{SOLUTIONS}}", str(ROOT / "solutions")).replace("{{OUTPUT}}", str(output))
        text = text.replace("{{PORT}}", str(port))
        folder = tmp / source.stem
        folder.mkdir()
        (folder / "placement.py").write_text(text)
        paths.append(folder)
    paths.append(_planted_directory(tmp / "planted_files"))
    paths.append(_shell_notebook(tmp / "shell_notebook.ipynb", tmp / "canary"))
    return paths


def _planted_directory(folder: Path) -> Path:
    """A directory whose extra files would take over a grader that imported or collected them."""
    folder.mkdir()
    marker = folder / "PLANTED-RAN"
    (folder / "placement.py").write_text("def place(workload):\n    return {}\n")
    (folder / "conftest.py").write_text(
        "import pytest\n"
        f"open({str(marker)!r}, 'w').write('conftest')\n"
        "@pytest.hookimpl(hookwrapper=True)\n"
        "def pytest_runtest_makereport(item, call):\n"
        "    outcome = yield\n"
        "    outcome.get_result().outcome = 'passed'\n")
    (folder / "sitecustomize.py").write_text(f"open({str(marker)!r}, 'w').write('sitecustomize')\n")
    (folder / "evil.pth").write_text(f"import os; open({str(marker)!r}, 'w').write('pth')\n")
    return folder


def _shell_notebook(path: Path, canary: Path) -> Path:
    canary.mkdir()
    (canary / "keep.txt").write_text("must survive")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(f"!rm -rf {canary}\n%rm -rf {canary}"),
        nbformat.v4.new_code_cell(f"%%bash\nrm -rf {canary}"),
        nbformat.v4.new_code_cell("def place(workload):\n    return {}"),
    ]
    path.write_text(nbformat.writes(notebook))
    return path


def _lingering_processes() -> list[str]:
    listing = subprocess.run(["ps", "-eo", "pid=,cmd="], capture_output=True, text=True)
    return [line for line in listing.stdout.splitlines() if "hml-lingering-token" in line]


@pytest.fixture(scope="module")
def batch(tmp_path_factory, course, sandboxed):
    """Grade every hostile submission, then the reference, as one batch with two at a time."""
    tmp = tmp_path_factory.mktemp("hostile")
    output = tmp_path_factory.mktemp("output")
    exercise = course.exercise(EXERCISE)
    listener = socket.create_server(("127.0.0.1", 0))  # what an unconfined connection would reach
    paths = _materialise(tmp, output, listener.getsockname()[1])
    paths.append(exercise.reference)
    names = [p.stem for p in paths[:-1]] + ["reference"]
    before = _tree_digest(ROOT / "solutions", ROOT / "exercises", ROOT / "grader")
    # The host's temporary folder while grading, where each worker's scratch folder is made: what the
    # batch leaves on the host's disk is read from it afterwards.
    host_tmp = Path(tempfile.mkdtemp(prefix="hml-hostile-host-"))
    host_tmp.chmod(0o755)  # a worker of its own uid passes through to its scratch folder
    saved = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(host_tmp)
    try:
        results = grade_many([Job(exercise, p, n, output) for p, n in zip(paths, names)], course=course,
                             sandbox=sandboxed, workers=2)
    finally:
        if saved is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved
    time.sleep(5)  # give a lingering process the time it asked for
    connections = accepted_connections(listener)
    left_on_host = sorted(str(p.relative_to(host_tmp)) for p in host_tmp.rglob("*") if not p.is_dir())
    shutil.rmtree(host_tmp, ignore_errors=True)
    return {
        "results": dict(zip(names, results)), "output": output, "tmp": tmp, "connections": connections,
        "left_on_host": left_on_host,
        "changed": before != _tree_digest(ROOT / "solutions", ROOT / "exercises", ROOT / "grader"),
        "exercise": exercise,
    }


def _outputs(result) -> str:
    return "\n".join(t.output for t in result.tests)


def _zero(batch, name: str):
    result = batch["results"][name]
    assert result.max_score > 0 and result.tests, f"{name} was not graded: {result.error or result.refused}"
    assert result.score == 0, f"{name} earned {result.score}: {[t.name for t in result.tests if t.passed]}"
    return result


def test_batch_goes_on_and_reference_still_earns_full_marks(batch):
    """No attack stops the batch: every submission ends graded (an attack that stalled or broke the grader
    would be recorded as a grader error, the grader's own limits stopping it), and the reference, graded
    after all of them in the same batch, earns full marks. Read from the results, not the batch's duration,
    which a busy machine stretches."""
    reference = batch["results"]["reference"]
    assert reference.score == reference.max_score > 0
    stopped = {name: r.grader_failure for name, r in batch["results"].items() if r.outcome is not Outcome.GRADED}
    assert not stopped, stopped


def test_course_files_unchanged(batch):
    """Nothing an attacker does changes solutions, exercises or the grader itself."""
    assert not batch["changed"]


def test_exit_at_import_earns_nothing(batch):
    """os._exit while importing is an import failure, not a pass."""
    result = _zero(batch, "exit_at_import")
    assert "could not be imported" in _outputs(result) or "stopped" in _outputs(result)


def test_exit_in_call_earns_nothing(batch):
    """sys.exit inside a graded call fails that call."""
    result = _zero(batch, "exit_in_call")
    assert "SystemExit" in _outputs(result)


def test_always_equal_objects_earn_nothing(batch):
    """Objects with an always-true __eq__ cross as plain data, or not at all."""
    _zero(batch, "always_equal")


def test_patched_builtins_and_pytest_earn_nothing(batch):
    """Patching builtins or pytest changes only the worker, never the process that judges."""
    _zero(batch, "patch_builtins")


def test_hidden_tests_and_solutions_are_not_on_disk_for_learner_code(batch):
    """Learner code that searches the whole tree for the hidden tests and the reference solution, and raises
    with whatever it reads, earns nothing and its feedback holds no line of either. Under bubblewrap they are
    not mounted; under Landlock their names can be seen (stat is not confined) but nothing of them can be
    read. Judged from the feedback the grader recorded, in the sandbox the result says it ran in (however far
    the search got before its call limit), never from what the search reported."""
    result = _zero(batch, "read_hidden")
    assert result.sandbox["kind"] in (Sandbox.BWRAP.value, Sandbox.LANDLOCK.value), result.sandbox
    text = _outputs(result)
    for secret in ("test_hidden.py", "placement.py"):
        lines = [line.strip() for line in (ROOT / "solutions" / EXERCISE / secret).read_text().splitlines()
                 if len(line.strip()) > 30]
        assert lines and not [line for line in lines if line in text], f"{secret} reached the feedback"


def test_results_and_output_directory_cannot_be_written(batch):
    """Learner code cannot write results, the output directory or the course: on the host, no planted file
    exists and the results file holds the grader's own result (whatever the code believed it wrote: under
    bubblewrap it may write to paths of the same name in its in-memory /tmp)."""
    result = _zero(batch, "write_output")
    assert not (batch["output"] / "planted.txt").exists()
    assert not (ROOT / "solutions" / "planted.txt").exists()
    written = json.loads((batch["output"] / "write_output" / "results.json").read_text())
    assert written["score"] == 0 and len(written["tests"]) == len(result.tests)


def test_planted_conftest_sitecustomize_and_pth_never_run(batch):
    """Only the module file reaches the worker; pytest never collects learner files."""
    _zero(batch, "planted_files")
    assert not (batch["tmp"] / "planted_files" / "PLANTED-RAN").exists()


def test_infinite_loop_is_stopped(batch):
    """A call that never returns is killed at its time limit, and after a few such calls the rest fail at once
    without running: every test is recorded as a timeout, and only the first few calls waited for the limit
    (counted from the grader's record, not from the time the grading took)."""
    result = _zero(batch, "infinite_loop")
    assert all(t.kind is Kind.TIMEOUT for t in result.tests), [(t.name, t.kind) for t in result.tests]
    waited = [t for t in result.tests if "did not finish within" in t.output]
    assert 1 <= len(waited) <= Learner.MAX_TIMEOUTS, [t.output for t in waited]


def test_fork_bomb_is_contained(batch):
    """A fork bomb hits the process limit and dies with its sandbox."""
    _zero(batch, "fork_bomb")


def test_memory_bomb_is_contained(batch):
    """Allocating without end meets the address-space limit."""
    result = _zero(batch, "memory_bomb")
    assert "MemoryError" in _outputs(result) or "stopped" in _outputs(result)


def test_filling_the_disk_is_contained(batch):
    """Writing until the disk is full earns nothing and leaves nothing on the host's disk, however far the
    writing got before the call limit (a busy machine stops it sooner). Under bubblewrap every folder learner
    code can write is a size-limited in-memory one; under Landlock its one writable folder (its scratch, on the
    host) is watched, the worker killed once it holds more than the limit, and the folder removed. Decided from
    the sandbox the result records and from what the grader recorded and left on disk, never from what the
    attack printed."""
    result = _zero(batch, "fill_disk")
    assert result.outcome is Outcome.GRADED, result.grader_failure
    left = [name for name in batch["left_on_host"] if Path(name).name.startswith("fill-")]
    assert not left, f"{len(left)} files written by learner code are still on the host, e.g. {left[0]}"
    assert not list(Path(tempfile.gettempdir()).glob("fill-*"))
    crashed = [t.output for t in result.tests if t.kind is Kind.CRASHED]
    if result.sandbox["kind"] == Sandbox.BWRAP.value:  # a full in-memory folder is an error learner code sees
        assert "private /tmp" in result.sandbox["protections"], result.sandbox
    else:  # Landlock: a worker stopped during a call was stopped by the watch over its scratch, which says so
        assert result.sandbox["kind"] == Sandbox.LANDLOCK.value, result.sandbox
        killed = [o for o in crashed if "stopped during the call" in o]
        assert all("wrote more than the 1024 MB of files allowed" in o for o in killed), killed


def test_network_is_unreachable(batch):
    """The sandbox has no network: learner code that connects to a listener on the host's loopback earns
    nothing, and no connection ever reaches the listener (counted on the host, not taken from the attack)."""
    _zero(batch, "network")
    assert batch["connections"] == 0, f"{batch['connections']} connections reached the host's listener"


def test_lingering_process_dies_with_the_sandbox(batch):
    """A process left running after the call is killed with its worker and rewrites nothing."""
    _zero(batch, "lingering_process")
    written = json.loads((batch["output"] / "lingering_process" / "results.json").read_text())
    assert written["score"] == 0
    assert not _lingering_processes(), _lingering_processes()


def test_printed_fake_results_are_ignored(batch):
    """What learner code prints never reaches the results channel."""
    result = _zero(batch, "fake_results")
    assert '"score": 1000' not in _outputs(result) and "PASSED" not in _outputs(result)


def test_hidden_inputs_never_reach_feedback(batch):
    """Hidden tests show their author's message only: inputs the learner echoes stay hidden."""
    result = batch["results"]["leak_inputs"]
    hidden = [t for t in result.tests if t.visibility == "hidden"]
    visible = [t for t in result.tests if t.visibility == "visible"]
    assert hidden and visible
    assert all("LEAK" not in t.output for t in hidden)
    assert any("LEAK" in t.output for t in visible)  # the learner's own message is shown where it may be


def test_hidden_test_source_never_reaches_results(batch):
    """No line of hidden test code appears in any result file."""
    source = (batch["exercise"].hidden_tests[0]).read_text().splitlines()
    code_lines = [line.strip() for line in source if len(line.strip()) > 30 and '"' not in line and "'" not in line]
    everything = "".join(p.read_text() for p in batch["output"].rglob("results.json"))
    assert code_lines
    assert not [line for line in code_lines if line in everything]


def test_notebook_shell_lines_are_dropped(batch):
    """`!rm` and `%%bash` cells never run: the files they target survive."""
    _zero(batch, "shell_notebook")
    assert (batch["tmp"] / "canary" / "keep.txt").read_text() == "must survive"


def test_reference_code_of_the_grader_is_out_of_reach(batch):
    """Evaluator recipes and trusted checks are not mounted where learner code runs."""
    result = _zero(batch, "import_grader")
    assert "ATTACK import_grader NOTHING-REACHED" in _outputs(result)


def test_raising_on_everything_is_not_validation(batch):
    """A place() that raises ValueError naming every key earns none of the validation points."""
    _zero(batch, "always_raise")


def test_exception_class_names_do_not_carry_hidden_inputs(batch):
    """A made-up exception class name never reaches hidden feedback: it reads as a plain Exception."""
    result = _zero(batch, "leak_type_name")
    hidden = [t.output for t in result.tests if t.visibility == "hidden"]
    assert hidden and all("LEAK_" not in o for o in hidden)
    assert any("raised Exception" in o for o in hidden)


def test_the_published_time_carries_no_hidden_input(batch):
    """results.json times only the visible tests (run first): sleeping by hidden inputs shows nowhere in it."""
    result = batch["results"]["leak_by_time"]
    assert result.tests, f"leak_by_time was not graded: {result.error or result.refused}"
    published = json.loads((batch["output"] / "leak_by_time" / "results.json").read_text())
    shown = [t for t in published["tests"] if t["visibility"] == "visible"]
    kept = [t for t in published["tests"] if t["visibility"] != "visible"]
    assert shown and kept and published["tests"][:len(shown)] == shown  # visible tests ran first
    assert all(t["extra_data"]["duration"] is None for t in kept)
    assert published["execution_time"] == pytest.approx(sum(t["extra_data"]["duration"] for t in shown), abs=0.01)
    # The hidden calls did sleep (the grader's own record has it all), and none of it was published.
    assert result.execution_time > published["execution_time"] + 2


STASH = ("# Echoes every input it has seen so far, hoping a hidden test's ran before a visible test shows it.\n"
         "SEEN = []\n"
         "def place(workload):\n"
         "    SEEN.append(sorted(workload.items()))\n"
         "    raise ValueError('SEEN ' + repr(SEEN))\n")


def test_visible_tests_run_first_whatever_order_the_files_come_in(course, sandboxed, tmp_path):
    """With the hidden file named first, visible tests still run first and show the same: no hidden input."""
    exercise = course.exercise(EXERCISE)
    (tmp_path / "stash").mkdir()
    (tmp_path / "stash" / "placement.py").write_text(STASH)
    shown = {}
    for name, first in (("usual", ()), ("hidden_first", (str(exercise.hidden_tests[0]),))):
        result = grade_one(exercise, tmp_path / "stash", name, tmp_path / name / "results.json", course=course,
                           sandbox=sandboxed, pytest_args=first)
        assert result.tests and result.error is None, result.error
        order = [t.public for t in result.tests]
        assert any(order) and not all(order) and order == sorted(order, reverse=True)
        shown[name] = [(t.name, t.output) for t in result.tests if t.public]
    assert any("SEEN" in output for _, output in shown["usual"])
    assert shown["hidden_first"] == shown["usual"]


def test_exit_codes_do_not_carry_hidden_inputs(batch):
    """Hidden feedback on a crashed worker is one fixed sentence, without the exit code."""
    result = _zero(batch, "leak_exit_code")
    hidden = [t.output for t in result.tests if t.visibility == "hidden"]
    assert hidden and not any("exit code" in o for o in hidden)


# --------------------------------------------------------------------------- local KFP runs

KFP_HOSTILE = Path(__file__).with_name("hostile_kfp")
KFP_INPUTS = ("Kube", "flow on Vertex", "hybrid ", "ML systems", "portable, composable")  # the hidden inputs


def _honest_part(text: str) -> str:
    """A hostile submission without its attack: the lines between ATTACK START and ATTACK END removed."""
    kept, skipping = [], False
    for line in text.splitlines(keepends=True):
        if "# ATTACK START" in line:
            skipping = True
        elif "# ATTACK END" in line:
            skipping = False
        elif not skipping:
            kept.append(line)
    return "".join(kept)


def _earned(result) -> list[str]:
    return sorted(t.name for t in result.tests if t.passed)


def test_faking_local_runs_from_the_learner_module_earns_nothing_more(grade_source):
    """Swapped component classes, a planted PYTHONPATH and a replaced recipe change nothing: runs happen elsewhere."""
    broken = (KFP_HOSTILE / "broken.py").read_text()
    honest = grade_source("kfp_basic_pipeline", broken)
    assert 0 < honest.score < honest.max_score
    for attack in ("class_swap", "pythonpath", "recipe_patch"):
        patched = grade_source("kfp_basic_pipeline", broken + "\n" + (KFP_HOSTILE / f"{attack}.py").read_text())
        assert _earned(patched) == _earned(honest), f"{attack} earned more: {_earned(patched)}"


@pytest.mark.parametrize("attack", ["planting", "forging_tasks"])
def test_tasks_cannot_help_or_forge_one_another(grade_source, attack):
    """A task that plants code for later tasks, rewrites another task's outputs or leaves a daemon gains nothing."""
    text = (KFP_HOSTILE / f"{attack}.py").read_text()
    honest = grade_source("kfp_basic_pipeline", _honest_part(text))
    hostile = grade_source("kfp_basic_pipeline", text)
    assert honest.score < honest.max_score and honest.error is None
    assert _earned(hostile) == _earned(honest), f"{attack} earned more: {_earned(hostile)}"


def test_printed_lines_of_tasks_never_reach_hidden_feedback(grade_source):
    """Lines a failing component prints (fake exceptions, fake task names echoing its inputs) stay out of hidden messages."""
    result = grade_source("kfp_basic_pipeline", (KFP_HOSTILE / "printed_lies.py").read_text())
    hidden = [t.output for t in result.tests if t.visibility == "hidden" and not t.passed]
    assert hidden and result.error is None
    for text in hidden:
        assert "LEAK" not in text and not any(value in text for value in KFP_INPUTS), text


def test_a_task_cannot_reach_the_runner_or_the_graders_secrets(sandboxed, tmp_path):
    """In the real sandboxed runner: the runner's memory, descriptors and environment are closed to tasks,
    the grader's reference code is hidden, the pip shim is read-only and the solutions are not there."""
    import importlib.util
    import sys

    from kfp import compiler

    import grader
    from grader.grading.config import PIPELINE_RUNNER_PRELOAD
    from grader.sandbox.proxy import Learner, WorkerSpec

    spec = importlib.util.spec_from_file_location("probe_runner", KFP_HOSTILE / "probe_runner.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["probe_runner"] = module
    try:
        spec.loader.exec_module(module)
        compiler.Compiler().compile(module.probe, str(tmp_path / "probe.yaml"))
    finally:
        sys.modules.pop("probe_runner", None)
    runner = Learner(WorkerSpec(preload=list(PIPELINE_RUNNER_PRELOAD), sandbox=sandboxed, runs_learner_code=True))
    grader_dir = str(Path(grader.__file__).resolve().parent)
    try:
        report, = runner.recipe("kfp_local.run", [{
            "package": (tmp_path / "probe.yaml").read_bytes(),
            "arguments": {"grader_dir": grader_dir, "solutions_dir": str(ROOT / "solutions")}}], timeout=120)
    finally:
        runner.close()
    assert report["ok"], report
    seen = json.loads(report["tasks"]["probe"]["parameters"]["Output"])
    assert seen["runner_found"], seen
    # Without a PID namespace a task running as root without capabilities can list the runner's
    # descriptors (by their numbers) but not open one, nor read its memory or environment; and it
    # can list the names in the grader's hidden folders, never read them.
    closed = ["runner_mem", "runner_environ"] + (["runner_fds"] if sandboxed is Sandbox.BWRAP else [])
    for key in closed:
        assert seen[key] and "OPEN" not in seen[key], (key, seen[key])
    if sandboxed is Sandbox.BWRAP:
        assert seen["hidden_listed"] == {"judging": []}
    assert seen["hidden_read"] and "OPEN" not in seen["hidden_read"].values()
    assert seen["shim_exists"] and not seen["shim_written"]  # the shim is there, and read-only
    if sandboxed is Sandbox.BWRAP:  # under Landlock they can be seen, not read (test_hidden_tests_and_solutions...)
        assert not seen["solutions"]


def test_patching_the_grader_recipes_earns_nothing_more(grade, sandboxed, tmp_path):
    """Replacing the local-run recipe from the learner module changes nothing: recipes are restored per call."""
    folder = Path(__file__).with_name("hostile_kfp")
    broken = (folder / "broken.py").read_text()
    patched_path = tmp_path / "patched" / "pipeline.py"
    patched_path.parent.mkdir()
    patched_path.write_text(broken + "\n" + (folder / "recipe_patch.py").read_text())
    honest = grade("kfp_basic_pipeline", folder / "broken.py")
    patched = grade("kfp_basic_pipeline", patched_path)
    assert 0 < honest.score < honest.max_score
    assert patched.score == honest.score, [t.name for t in patched.tests if t.passed]


# --------------------------------------------------------------------------- learner text downstream, special files

SURROGATE_MESSAGE = 'def place(workload):\n    raise ValueError("broken \\ud800 text \\x1b[31m red")\n'
HUGE_LINE_NUMBER = ('def place(workload):\n    raise ValueError(\'File "/submission/placement.py", line '
                    + "9" * 5000 + '\')\n')


def test_hostile_text_and_special_files_never_stop_a_batch(course, sandboxed, tmp_path):
    """A lone surrogate, a 5000-digit line number, a learner name that is not UTF-8 and a folder holding a FIFO
    are each recorded for their own submission; the reference graded after them in the same batch earns full marks."""
    from grader.batch.coordinator import run_batch
    from grader.batch.engines import LocalEngine
    from grader.record.gradebook import Gradebook

    exercise = course.exercise(EXERCISE)
    folders = {}
    for name, source in (("surrogate", SURROGATE_MESSAGE), ("huge_number", HUGE_LINE_NUMBER)):
        folders[name] = tmp_path / name
        folders[name].mkdir()
        (folders[name] / "placement.py").write_text(source)
    folders["fifo"] = tmp_path / "fifo"
    folders["fifo"].mkdir()
    (folders["fifo"] / "placement.py").write_text("def place(workload):\n    return {}\n")
    os.mkfifo(folders["fifo"] / "notes.py")
    folders["not_utf8_name"] = folders["surrogate"]
    folders["reference"] = exercise.reference
    learners = {"not_utf8_name": "learner-\udcff-\ud800"}
    output = tmp_path / "out"
    jobs = [Job(exercise, path, name, output, learner=learners.get(name)) for name, path in folders.items()]
    outcome = run_batch(jobs, course=course, engine=LocalEngine(tmp_path / "cache", sandboxed, workers=2),
                        gradebook_path=output / "gradebook.sqlite", workers=2, show_progress=False, quiet=True)
    by_name = dict(zip(folders, outcome.per_job))
    assert all(r is not None for r in outcome.per_job), by_name
    assert by_name["reference"].score == by_name["reference"].max_score > 0
    assert "named pipe" in (by_name["fifo"].refused or "")
    surrogate_text = "\n".join(t.output for t in by_name["surrogate"].tests)
    assert "broken" in surrogate_text and "\x1b" not in surrogate_text
    surrogate_text.encode("utf-8")  # encodable: the gradebook, reports and CSV can take it
    huge = by_name["huge_number"]
    assert huge.error is None and huge.score == 0 and huge.tests
    assert all(len(t.output) < 9000 and "9" * 100 not in t.output for t in huge.tests)
    with Gradebook(output / "gradebook.sqlite") as book:
        recorded = {(run.learner, run.exercise) for run in book.latest(tests=False)}
    assert len(recorded) == len(folders)


def test_a_huge_line_number_in_a_traceback_is_left_alone():
    """Frame rewriting reads line numbers of at most nine digits: a 5000-digit one cannot crash the pytest hook."""
    from grader.grading.explain import Source, rewrite_frames

    text = 'Traceback:\n  File "/submission/placement.py", line ' + "7" * 5000 + "\n"
    assert rewrite_frames(text, Source(Path("placement.py"), "", []), "placement.py") == text
    assert "line 12" in rewrite_frames('  File "/submission/placement.py", line 12\n',
                                       Source(Path("placement.py"), "", []), "placement.py")


# Attributes that hold the learner's own words: a hidden test may test them, never quote them.
LEARNER_WORDS = {"message", "raw_type_name", "traceback", "output", "__name__", "__qualname__", "__class__"}


def test_hidden_tests_never_quote_the_learners_words():
    """No f-string in a hidden test formats an exception's message, a raw type name, printed output or an
    object's class name: hidden feedback is built from the grader's own words (a guard for future tests)."""
    import ast

    offences = []
    for path in sorted((ROOT / "solutions").glob("*/test_hidden.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FormattedValue):
                continue
            for inner in ast.walk(node.value):
                name = inner.attr if isinstance(inner, ast.Attribute) else None
                called = inner.func.id if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) else None
                if name in LEARNER_WORDS or called in ("type", "repr", "str"):
                    offences.append(f"{path.parent.name}:{node.lineno}: {ast.unparse(node.value)}")
    assert not offences, offences


def test_a_then_recipe_never_runs_beside_a_thread_the_call_left(tmp_path):
    """A thread left running by the learner's call could rewrite the recipe that reads the call's result:
    the worker refuses to run the recipe until such threads are gone (and restores the recipes first)."""
    from grader.sandbox.server import Server

    (tmp_path / "lingering.py").write_text(
        "import threading, time\n"
        "def leaves_a_thread():\n"
        "    threading.Thread(target=time.sleep, args=(3,), daemon=True).start()\n"
        "    return []\n"
        "def plain():\n"
        "    return []\n")
    server = Server(tmp_path)
    assert server.start("", str(tmp_path), "lingering")["ok"]
    answer, _ = server.handle({"op": "call", "name": "leaves_a_thread", "args": [], "kwargs": {},
                               "then": "kfp.compile_objects"}, [])
    assert not answer["ok"] and answer["error"]["type"] == "RuntimeError"
    assert "threads running" in answer["error"]["message"]
    time.sleep(3.5)
    answer, _ = server.handle({"op": "call", "name": "plain", "args": [], "kwargs": {}, "then": "kfp.compile_objects"},
                              [])
    assert answer["ok"], answer


def test_a_scratch_nested_thousands_deep_is_removed_and_links_are_not_followed(tmp_path):
    """A worker may leave its scratch nested 1,500 folders deep, some of mode 000, with a link to a file
    outside: removing it neither recurses once per level (RecursionError would leave it on the host and fail the
    grading) nor follows the link."""
    from grader.sandbox.disk import remove_tree

    outside = tmp_path / "keep.txt"
    outside.write_text("the grader's")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    folder = scratch
    for level in range(1500):
        folder = folder / "d"
        folder.mkdir()
    (folder / "link").symlink_to(outside)
    for level, parent in enumerate(list(folder.parents)[:1500]):
        if level % 300 == 0:
            parent.chmod(0)
    assert remove_tree(scratch)
    assert not scratch.exists() and outside.read_text() == "the grader's"
