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
