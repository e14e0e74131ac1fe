"""`hml similarity`: copied submissions rank first, on code, compiled pipelines and TFLite models.

The class is built from ``tests/similarity_data``: several honest solutions per exercise, written
independently, and one copy (``zed<script>x``) of one of them with identifiers renamed, layout and
comments changed. TFLite models are made here from the course's own conversion of the given model:
two learners hand in that conversion as it is (honest, and byte-identical), two hand in models of
their own weights, and the copier hands in one of those with every tensor and signature renamed.
"""
from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest
from click.testing import CliRunner

from grader.cli import main

DATA = Path(__file__).with_name("similarity_data")
FIXTURES = Path(__file__).resolve().parents[1] / "grader" / "fixtures"
COPIER = "zed<script>x"  # a learner-made folder name that must reach pages and console as text
HONEST = ("ann", "ben", "cat", "dan")
CONVERT = {  # each learner's own convert.py (the code signal of the model exercise)
    "ann": "import tensorflow as tf\n\ndef to_tflite(model):\n    return tf.lite.TFLiteConverter.from_keras_model(model).convert()\n",
    "ben": "import tensorflow as tf\n\ndef to_tflite(model):\n    conv = tf.lite.TFLiteConverter.from_keras_model(model)\n"
           "    conv.optimizations = []\n    data = conv.convert()\n    assert data\n    return bytes(data)\n",
    "cat": "from tensorflow import lite\n\ndef saved_model_to_tflite(path):\n    return lite.TFLiteConverter.from_saved_model(path).convert()\n",
    "dan": "import numpy as np\n\ndef predict_tflite(model_content, x):\n    return np.zeros((len(x), 4), dtype=np.float32)\n",
    COPIER: "import tensorflow\n\ndef to_tflite(m):\n    c = tensorflow.lite.TFLiteConverter.from_keras_model(m)\n    return c.convert()\n",
}


def _notebook(source: str) -> str:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# My placement"), nbformat.v4.new_code_cell(source)]
    return nbformat.writes(notebook)


def _model(seed: int | None, rename: str | None = None) -> bytes:
    """The course's float32 conversion of the given model; with ``seed``, other weights; with ``rename``,
    every tensor and signature name changed (what a copier does to hide a copied flatbuffer)."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf((FIXTURES / "mlp_float32.tflite").read_bytes(), 0)
    if seed is not None:
        rng = np.random.default_rng(seed)
        for buffer in model.buffers:
            if buffer.data is not None and len(buffer.data):
                values = rng.normal(0, 0.1, len(buffer.data) // 4).astype(np.float32)
                buffer.data = np.frombuffer(values.tobytes(), dtype=np.uint8)
    if rename:
        for number, tensor in enumerate(model.subgraphs[0].tensors):
            tensor.name = f"{rename}_{number}".encode()
        for signature in model.signatureDefs or []:
            signature.signatureKey = rename.encode()
            for io in list(signature.inputs or []) + list(signature.outputs or []):
                io.name = f"{rename}_io".encode()
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def make_class(root: Path) -> Path:
    """ROOT/<learner>/<exercise> in every form intake takes: modules, a notebook, a zip and folders."""
    for learner in HONEST + (COPIER,):
        (root / learner).mkdir(parents=True)
    placement, pipelines = DATA / "hybrid_placement", DATA / "kfp_basic_pipeline"
    shutil.copy(placement / "ann.py", root / "ann" / "hybrid_placement.py")
    shutil.copy(placement / "ben.py", root / "ben" / "hybrid_placement.py")
    with zipfile.ZipFile(root / "cat" / "hybrid_placement.zip", "w") as archive:
        archive.write(placement / "cat.py", "work/placement.py")
    (root / "dan" / "hybrid_placement.ipynb").write_text(_notebook((placement / "dan_notebook.py").read_text()))
    shutil.copy(placement / "zed.py", root / COPIER / "hybrid_placement.py")
    for learner in HONEST:
        shutil.copy(pipelines / f"{learner}.py", root / learner / "kfp_basic_pipeline.py")
    shutil.copy(pipelines / "zed.py", root / COPIER / "kfp_basic_pipeline.py")
    models = {"ann": _model(None), "ben": _model(None), "cat": _model(1), "dan": _model(2),
              COPIER: _model(1, rename="mine")}
    for learner, content in models.items():
        folder = root / learner / "tflite_convert"
        folder.mkdir()
        (folder / "convert.py").write_text(CONVERT[learner])
        (folder / "model.tflite").write_bytes(content)
    return root


def run(*args: str):
    return CliRunner().invoke(main, ["similarity", *args], catch_exceptions=False)


def by_signal(pairs: list[dict], exercise: str, signal: str) -> list[tuple[float, tuple[str, ...]]]:
    found = [(p[signal], tuple(p["learners"])) for p in pairs if p["exercise"] == exercise and p[signal] is not None]
    return sorted(found, reverse=True)


def copied(learners: tuple[str, ...], source: str) -> bool:
    return set(learners) == {source, COPIER}


@pytest.fixture(scope="module")
def class_root(tmp_path_factory) -> Path:
    return make_class(tmp_path_factory.mktemp("class"))


@pytest.fixture(scope="module")
def full_scan(class_root, sandboxed, tmp_path_factory):
    """One sandboxed scan of the whole class, every signal, pages above 0.6."""
    out = tmp_path_factory.mktemp("pages")
    result = run(str(class_root), "--json", "-o", str(out), "--threshold", "0.6", "--sandbox", sandboxed.value)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), out


def test_renamed_reformatted_code_copy_ranks_first_well_above_honest_pairs(class_root, tmp_path):
    """Code: renaming and reformatting do not hide a copy; honest solutions (a module, a notebook, a zip)
    stay well below it. Code only: no sandbox needed."""
    result = run(str(class_root), "--exercise", "hybrid_placement", "--code-only", "--json", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    pairs = json.loads(result.stdout)
    assert len(pairs) == 10  # five submissions, every pair once: the notebook and the zip were read
    assert [p["score"] for p in pairs] == sorted((p["score"] for p in pairs), reverse=True)
    assert set(pairs[0]) >= {"learners", "exercise", "score", "code", "pipeline", "model"}
    assert pairs[0]["exercise"] == "hybrid_placement" and copied(tuple(pairs[0]["learners"]), "ann")
    assert pairs[0]["score"] >= 0.8 and pairs[1]["score"] <= pairs[0]["score"] / 2, pairs[:3]
    assert pairs[0]["pipeline"] is None and pairs[0]["model"] is None


def test_copied_pipeline_and_model_rank_first_beyond_the_course_boilerplate(full_scan):
    """Pipelines (compiled in the sandbox) and TFLite models (read in the evaluator), names changed: the
    copy ranks first on its signal; honest learners who all hand in the course's own conversion do not
    flag each other, nor do honest pipelines that share the DAG the exercise fixes."""
    pairs, _ = full_scan
    assert [p["score"] for p in pairs] == sorted((p["score"] for p in pairs), reverse=True)
    pipeline = by_signal(pairs, "kfp_basic_pipeline", "pipeline")
    assert len(pipeline) == 10 and copied(pipeline[0][1], "ann"), pipeline
    assert pipeline[0][0] >= 0.8 and pipeline[1][0] <= 0.3, pipeline
    model = by_signal(pairs, "tflite_convert", "model")
    assert len(model) == 10 and copied(model[0][1], "cat"), model
    assert model[0][0] >= 0.9 and model[1][0] <= 0.1, model
    reference_pair = next(s for s, learners in model if set(learners) == {"ann", "ben"})
    assert reference_pair == 0.0  # byte-identical, but only the course's own conversion
    code = by_signal(pairs, "kfp_basic_pipeline", "code")
    assert copied(code[0][1], "ann")


def test_pair_pages_escape_learner_text_and_exist_only_above_the_threshold(full_scan):
    """A learner's `<script>` (in a folder name and in code) reaches the pages as text; only pairs at or above
    the threshold get a page, and no page loads anything from elsewhere."""
    pairs, out = full_scan
    above = [p for p in pairs if p["score"] >= 0.6]
    below = [p for p in pairs if p["score"] < 0.6]
    assert above and below
    assert all(p["page"] and (out / p["page"]).is_file() for p in above)
    assert all(p["page"] is None for p in below)
    assert sorted(path.name for path in out.glob("pair-*.html")) == sorted(p["page"] for p in above)
    page = (out / next(p["page"] for p in above if p["exercise"] == "hybrid_placement")).read_text()
    assert "&lt;script&gt;alert(" in page and "zed&lt;script&gt;x" in page
    for path in out.glob("*.html"):
        text = path.read_text()
        assert "<script" not in text and "http://" not in text and "https://" not in text
        assert "<link" not in text and "src=" not in text


def test_console_table_shows_learner_names_as_text(class_root, tmp_path):
    """Without --json a table is printed; a learner's folder name cannot inject markup into it."""
    result = run(str(class_root), "-e", "hybrid_placement", "--code-only", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "zed<script>x" in result.stdout and "Most similar pairs" in result.stdout
    assert (tmp_path / "index.html").is_file()


@pytest.mark.parametrize("make, args, message, code", [
    (lambda root: make_class(root), ["--exercise", "no_such_exercise"], "there is no exercise", 2),
    (lambda root: root, [], "holds no submissions", 1),
])
def test_bad_input_is_a_one_line_error(tmp_path, make, args, message, code):
    """An unknown exercise or an empty class: a one-line error and the right exit status, no traceback."""
    root = make(tmp_path / "class")
    root.mkdir(exist_ok=True)
    result = CliRunner().invoke(main, ["similarity", str(root), "--code-only", "-o", str(tmp_path / "out"), *args])
    assert result.exit_code == code, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len([line for line in result.stderr.splitlines() if line.strip().startswith("Error")]) == 1


# ----------------------------------------------------------------------------- attacks on the scan itself

POISON = b"HANG"  # a file the test's evaluator treats as one that hangs it (see hanging_evaluator)


def _crafted_model() -> bytes:
    """The course's conversion with a 9 MB constant added, and its first operator reading that constant
    ~2.7 million times: a reader that copies or digests a constant per read is stalled for hours."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf((FIXTURES / "mlp_float32.tflite").read_bytes(), 0)
    big = schema.BufferT()
    big.data = np.arange(9_000_000, dtype=np.uint32).astype(np.uint8)
    model.buffers.append(big)
    graph = model.subgraphs[0]
    tensor = schema.TensorT()
    tensor.type, tensor.shape, tensor.buffer = schema.TensorType.FLOAT32, np.array([2_250_000], np.int32), len(model.buffers) - 1
    graph.tensors.append(tensor)
    first = graph.operators[0]
    first.inputs = np.concatenate([np.asarray(first.inputs, np.int32),
                                   np.full(2_700_000, len(graph.tensors) - 1, np.int32)])
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _model_class(root: Path, models: dict[str, list[bytes]]) -> Path:
    for learner, contents in models.items():
        folder = root / learner / "tflite_convert"
        folder.mkdir(parents=True)
        (folder / "convert.py").write_text(CONVERT.get(learner, CONVERT["ann"]))
        for number, content in enumerate(contents):
            (folder / f"model{number}.tflite").write_bytes(content)
    return root


def _scan(root: Path, out: Path, sandboxed, *args: str) -> tuple[list[dict], str]:
    result = CliRunner().invoke(main, ["similarity", str(root), "--json", "-o", str(out), "--sandbox",
                                       sandboxed.value, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout), result.stderr


def _score(pairs: list[dict], a: str, b: str, signal: str, exercise: str = "tflite_convert") -> float | None:
    return next(p[signal] for p in pairs if p["exercise"] == exercise and set(p["learners"]) == {a, b})


def test_crafted_flatbuffers_cost_only_their_own_submission(tmp_path, sandboxed, monkeypatch):
    """A crafted .tflite must neither stall the scan nor take the model signal from anyone else.

    ``aab`` hands in a model whose operator reads a 9 MB constant ~2.7M times: ``tflite.fingerprint``
    digests each constant once and considers 64 inputs per operator, so the file is read (no note: an
    unbounded reader would run out of the evaluator's time and be noted) and its answer stays small.
    ``aaa`` hands in three files that hang the evaluator (simulated: each counts a timeout, as a real one
    does, against ``Learner.MAX_TIMEOUTS``); sorted first, they used to exhaust the one evaluator of the
    whole class. Each submission now has evaluators of its own: the copy is still found (1.0 on model),
    and every note names only the learner whose file caused it."""
    from grader.instructor_tools.similarity import sandboxed as similarity_sandboxed
    from grader.judging.evaluators import tflite
    from grader.errors import WorkerTimeout
    from grader.sandbox.proxy import Learner

    class Hanging(Learner):
        def recipe(self, name, *args, **kwargs):
            if name == "tflite.fingerprint" and bytes(args[0]).startswith(POISON):
                self._timeouts += 1  # as Learner._send counts a call that ran out of time
                raise WorkerTimeout("`tflite.fingerprint` ran out of time")
            return super().recipe(name, *args, **kwargs)

    monkeypatch.setattr(similarity_sandboxed, "Learner", Hanging)
    crafted = _crafted_model()
    assert len(crafted) <= 20 * 1024 * 1024  # within what the scan reads of one file
    root = _model_class(tmp_path / "class", {
        "aaa": [POISON + bytes([n]) for n in range(4)], "aab": [crafted],
        "ann": [_model(None)], "ben": [_model(None)], "cat": [_model(1)], COPIER: [_model(1, rename="mine")]})
    pairs, stderr = _scan(root, tmp_path / "out", sandboxed)
    assert _score(pairs, "cat", COPIER, "model") == 1.0
    assert _score(pairs, "ann", "ben", "model") == 0.0 and _score(pairs, "ann", "cat", "model") == 0.0
    assert _score(pairs, "aab", "ann", "model") is not None  # the crafted file was read, not given up on
    notes = [line for line in stderr.splitlines() if ".tflite" in line or "model" in line]
    assert any("aaa/" in line for line in notes), stderr
    assert not any(name in stderr for name in ("aab/", "ann/", "ben/", "cat/", "zed")), stderr

    answer = tflite.fingerprint(None, crafted)  # the evaluator's answer about the crafted file is bounded
    assert answer["ok"] and len(json.dumps(answer)) < 1_100_000
    assert all(len(op) <= tflite.MAX_FINGERPRINT_OP_CHARS for op in answer["ops"])
    assert len({w["digest"] for w in answer["weights"]}) == len(answer["weights"])  # each constant once


def test_padding_and_collusion_do_not_hide_copied_models(tmp_path, sandboxed):
    """Model score is containment, and identical weights are never "common": three learners of five hand in
    the same model of their own weights (one renamed, one padded with seven junk models of other weights).
    Every pair of the three scores 1.0 (a weighted Jaccard gave the padded pair 0.125, and stripping what most
    of the class shares gave the group 0); honest learners, who hand in the course's own conversion, score 0
    against each other and against the group."""
    junk = [_model(seed) for seed in range(10, 17)]
    root = _model_class(tmp_path / "class", {
        "ann": [_model(None)], "ben": [_model(None)], "cat": [_model(1)], "dan": [_model(1, rename="dan")],
        COPIER: [_model(1, rename="mine")] + junk})
    pairs, stderr = _scan(root, tmp_path / "out", sandboxed)
    group = ("cat", "dan", COPIER)
    assert [_score(pairs, a, b, "model") for a, b in [("cat", "dan"), ("cat", COPIER), ("dan", COPIER)]] == [1.0] * 3
    assert all(_score(pairs, honest, other, "model") == 0.0 for honest in ("ann", "ben") for other in group)
    assert _score(pairs, "ann", "ben", "model") == 0.0
    assert "could not be read" not in stderr


def _pass_padded(source: str) -> str:
    """``source`` with a ``pass`` line before every statement and ``; pass`` after every simple line."""
    import ast

    tree = ast.parse(source)
    starts, simple = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt):
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            starts.add(first)
            if not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.If, ast.For, ast.While, ast.With,
                                     ast.Try, ast.AsyncFunctionDef)) and node.end_lineno == node.lineno:
                simple.add(node.lineno)
    lines = []
    for number, line in enumerate(source.splitlines(), start=1):
        stripped = line.lstrip()
        if number in starts and not stripped.startswith(("elif", "else", "except", "finally")):
            lines.append(line[:len(line) - len(stripped)] + "pass")
        lines.append(line + "; pass" if number in simple and "#" not in line else line)
    padded = "\n".join(lines) + "\n"
    ast.parse(padded)  # still a module that runs as the original does
    return padded


def test_pass_padding_does_not_hide_a_code_copy_and_pages_show_the_compared_text(tmp_path):
    """Statements that do nothing (``pass``, docstrings, bare constants) are dropped before fingerprinting, so a
    verbatim copy padded with them still scores as a copy (it scored 0.22); source that does not parse, or
    nests too deep to, is compared as it is, not dropped. The pair's page shows the text as compared (the
    spans copydetect marks point into it), and says so."""
    original = (DATA / "hybrid_placement" / "ann.py").read_text()
    padded = '"""My own work."""\n' + _pass_padded(original)
    assert padded.count("pass") > 40
    root = tmp_path / "class"
    for learner, text in {"ann": original, "ben": (DATA / "hybrid_placement" / "ben.py").read_text(),
                          "cat": (DATA / "hybrid_placement" / "cat.py").read_text(), COPIER: padded,
                          "deep": "x = " + "(" * 5000 + ")" * 5000 + "\n" + original}.items():
        (root / learner).mkdir(parents=True)
        (root / learner / "hybrid_placement.py").write_text(text)
    out = tmp_path / "out"
    result = run(str(root), "-e", "hybrid_placement", "--code-only", "--json", "-o", str(out), "--threshold", "0.9")
    assert result.exit_code == 0, result.output
    pairs = json.loads(result.stdout)
    assert _score(pairs, "ann", COPIER, "code", "hybrid_placement") >= 0.95
    honest = [_score(pairs, a, b, "code", "hybrid_placement") for a, b in [("ann", "ben"), ("ann", "cat"), ("ben", "cat")]]
    assert max(honest) <= 0.5, honest
    assert _score(pairs, "ann", "deep", "code", "hybrid_placement") >= 0.8  # raw text, still compared
    page = (out / next(p["page"] for p in pairs if set(p["learners"]) == {"ann", COPIER})).read_text()
    assert "Shown as compared" in page and "<mark>" in page
    assert "; pass" not in page and "My own work" not in page


def test_a_folder_nested_a_thousand_deep_is_a_note_not_the_end_of_the_run(tmp_path, sandboxed):
    """A submission folder nested 1100 deep (``os.walk`` recurses in Python 3.11: RecursionError) is searched
    with a stack, only so deep, and whatever fails for it is a note naming that learner alone; the rest of
    the class is compared as usual (the copy still scores 1.0 on model)."""
    from grader.instructor_tools.similarity.handed_in import MAX_DEPTH, handed_in

    root = _model_class(tmp_path / "class", {"ann": [_model(None)], "ben": [_model(None)], "cat": [_model(1)],
                                             COPIER: [_model(1, rename="mine")], "deep": [_model(2)]})
    top = root / "deep" / "tflite_convert"
    chain = [top / ("d/" * depth).rstrip("/") for depth in range(1, 1101)]
    try:
        for folder in chain:
            folder.mkdir()
        (chain[-1] / "deepest.tflite").write_bytes(_model(3))
        search = handed_in(top)
        assert [f.name for f in search.files] == ["model0.tflite"]  # the one within MAX_DEPTH, not the deepest
        assert search.problem and str(MAX_DEPTH) in search.problem
        pairs, stderr = _scan(root, tmp_path / "out", sandboxed)
        assert _score(pairs, "cat", COPIER, "model") == 1.0
        assert "deep/" in stderr and not any(f"{name}/" in stderr for name in ("ann", "ben", "cat", "zed"))
    finally:  # removed bottom up: a recursive rmtree of 1100 levels would itself fail at clean-up
        (chain[-1] / "deepest.tflite").unlink(missing_ok=True)
        for folder in reversed(chain):
            if folder.is_dir():
                folder.rmdir()
