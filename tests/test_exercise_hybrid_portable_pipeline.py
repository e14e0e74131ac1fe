"""hybrid_portable_pipeline: the reference earns full marks, the starter does not,
and realistic mistakes each lose the points of the test that names them.

The Vertex AI jobs are built for real (google-cloud-aiplatform, offline, with
anonymous credentials) inside the sandboxed worker and checked as data; the
packages are compiled by kfp from the course's own pipelines. Mistakes are
made by editing the reference solution's text, several independent mistakes
per submission, each caught by a different test.
"""
from __future__ import annotations

from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
EXERCISE = "hybrid_portable_pipeline"
REFERENCE = ROOT / "solutions" / EXERCISE / "deploy.py"
STARTER = ROOT / "exercises" / EXERCISE / "deploy.py"

HIDDEN = {
    "test_lab_parameters", "test_every_parameter_type", "test_default_only_when_declared",
    "test_default_values", "test_pipeline_without_parameters", "test_vertex_project_and_location",
    "test_vertex_pipeline_root", "test_vertex_display_name", "test_vertex_caching_off_everywhere",
    "test_vertex_labels", "test_vertex_typed_parameter_values", "test_vertex_credentials_passed_through",
    "test_vertex_carries_the_package", "test_vertex_lab_with_defaults", "test_vertex_no_state_between_calls",
    "test_vertex_rejects_unknown_parameter", "test_onprem_request", "test_onprem_rejects_unknown_parameter",
    "test_both_targets_same_package_and_arguments",
}


def mutate(source: str, *edits: tuple[str, str]) -> str:
    """The reference with each ``old`` replaced by ``new``; every ``old`` must occur exactly once."""
    for old, new in edits:
        assert source.count(old) == 1, f"the reference holds {old!r} {source.count(old)} times: update this mutant"
        source = source.replace(old, new)
    return source


def hidden_failures(result) -> set[str]:
    return {t.nodeid.split("::")[1] for t in result.failed() if t.visibility == "hidden"}


def hidden(result, name):
    """The hidden test of that function name (hidden node ids keep the name, not the file)."""
    return result.test(f"hidden::{name}::")


def test_reference_earns_full_marks(grade):
    """The reference solution passes every public and hidden test, with real Vertex AI jobs."""
    result = grade(EXERCISE, REFERENCE)
    assert result.refused is None and result.error is None, result.error or result.refused
    assert result.max_score > 0 and result.score == result.max_score, [
        (t.name, t.output) for t in result.failed()]
    assert {t.nodeid.split("::")[1] for t in result.tests if t.visibility == "hidden"} == HIDDEN


def test_starter_earns_less(grade):
    """The starter as shipped earns nothing, and says which README section to read."""
    result = grade(EXERCISE, STARTER)
    assert result.error is None, result.error
    assert result.score == 0 < result.max_score
    assert "see README" in result.test("test_lab_vertex_job").output


def test_parameter_reading_mistakes_lose_points(grade_source):
    """Python type names instead of the IR's, falsy defaults dropped by a truth test and a
    crash on a pipeline without parameters each lose their own test's points."""
    source = mutate(
        REFERENCE.read_text(),
        ('entry = {"type": kind}',
         'entry = {"type": {"STRING": "str", "NUMBER_INTEGER": "int", "NUMBER_DOUBLE": "float",\n'
         '                          "BOOLEAN": "bool", "LIST": "list", "STRUCT": "dict"}[kind]}'),
        ('if "defaultValue" in definition:', 'if definition.get("defaultValue"):'),
        ('return spec.get("root", {}).get("inputDefinitions", {}).get("parameters", {}) or {}',
         'return spec["root"]["inputDefinitions"]["parameters"]'),
    )
    result = grade_source(EXERCISE, source)
    assert hidden_failures(result) == {
        "test_lab_parameters", "test_every_parameter_type", "test_default_only_when_declared",
        "test_pipeline_without_parameters",
    }
    assert "parameterType names" in hidden(result, "test_every_parameter_type").output
    defaults = hidden(result, "test_default_only_when_declared").output
    assert "is still a default" in defaults
    assert "0.05" not in defaults and "False" in defaults  # names the pitfall, not the hidden values
    assert "empty dict" in hidden(result, "test_pipeline_without_parameters").output
    assert result.test("test_public.py::test_lab_parameters").status == "failed"
    assert result.score < result.max_score


def test_vertex_job_mistakes_lose_points(grade_source):
    """Defaults read as text, the file name as display name, caching left on and unknown
    parameters accepted on-prem each lose their own test's points."""
    source = mutate(
        REFERENCE.read_text(),
        ("return next(iter(yaml.safe_load_all(handle)))",
         "return next(iter(yaml.load_all(handle, Loader=yaml.BaseLoader)))"),
        ("display_name=_pipeline_name(spec),",
         'display_name=template_path.rsplit("/", 1)[-1].removesuffix(".yaml"),'),
        ("        enable_caching=False,\n", ""),
        ("    _check_known(spec, parameter_values)\n    return {", "    return {"),
    )
    result = grade_source(EXERCISE, source)
    assert hidden_failures(result) == {
        "test_default_values", "test_vertex_display_name", "test_vertex_lab_with_defaults",
        "test_vertex_caching_off_everywhere", "test_onprem_rejects_unknown_parameter",
        "test_both_targets_same_package_and_arguments",
    }
    assert "keep numbers numbers" in hidden(result, "test_default_values").output
    display = hidden(result, "test_vertex_display_name").output
    assert "pipelineInfo.name" in display and "fleet-retrain" not in display
    caching = hidden(result, "test_vertex_caching_off_everywhere").output
    assert "still have caching on" in caching and "enable_caching=False" in caching
    assert "silently" in hidden(result, "test_onprem_rejects_unknown_parameter").output
    assert "same name" in hidden(result, "test_both_targets_same_package_and_arguments").output
    public = result.test("test_lab_vertex_job").output
    assert "basic-pipeline" in public and "lab_pipeline" in public  # public feedback may show values
    assert result.test("test_lab_unknown_parameter").status == "failed"


def test_job_settings_mistakes_lose_points(grade_source):
    """Values turned into text, labels without target=vertex, the location left out, home-made
    credentials and on-prem caching left to the package each lose their own test's points."""
    source = mutate(
        REFERENCE.read_text(),
        ("import yaml\n", "import google.auth.credentials\nimport yaml\n"),
        ("parameter_values=dict(parameter_values),",
         "parameter_values={k: str(v) for k, v in parameter_values.items()},"),
        ('labels={"target": "vertex"},', 'labels={"pipeline": _pipeline_name(spec)},'),
        ("        location=location,\n", ""),
        ("credentials=credentials,", "credentials=google.auth.credentials.AnonymousCredentials(),"),
        ('        "enable_caching": False,\n', ""),
    )
    result = grade_source(EXERCISE, source)
    assert hidden_failures(result) == {
        "test_vertex_typed_parameter_values", "test_vertex_labels", "test_vertex_project_and_location",
        "test_vertex_no_state_between_calls", "test_vertex_credentials_passed_through",
        "test_onprem_request", "test_both_targets_same_package_and_arguments",
    }
    typed = hidden(result, "test_vertex_typed_parameter_values").output
    assert "not converted to text" in typed and "europe-west4" not in typed
    assert "{'target': 'vertex'}" in hidden(result, "test_vertex_labels").output
    location = hidden(result, "test_vertex_project_and_location").output
    assert "us-central1" in location and "asia-northeast1" not in location
    assert "credentials object you were given" in hidden(result, "test_vertex_credentials_passed_through").output
    assert "enable_caching must be False" in hidden(result, "test_onprem_request").output


def test_init_state_does_not_carry_over(grade_source):
    """A vertex_job that calls aiplatform.init only once and relies on it afterwards loses the
    points of every later job: each graded call starts from a library that knows nothing."""
    source = mutate(
        REFERENCE.read_text(),
        ("    _check_known(spec, parameter_values)\n    return aiplatform.PipelineJob(",
         "    _check_known(spec, parameter_values)\n"
         '    if not globals().get("_configured"):\n'
         "        aiplatform.init(project=project, location=location, credentials=credentials)\n"
         '        globals()["_configured"] = True\n'
         "    return aiplatform.PipelineJob("),
        ("        project=project,\n        location=location,\n        credentials=credentials,\n", ""),
    )
    result = grade_source(EXERCISE, source)
    assert "test_vertex_no_state_between_calls" in hidden_failures(result)
    assert "aiplatform.init" in hidden(result, "test_vertex_no_state_between_calls").output
    assert result.test("test_lab_vertex_job").status == "passed"  # its first job is right
    assert result.score < result.max_score


def test_caching_is_judged_on_the_given_package(grade_source):
    """A job built, caching off, from a package other than the one given (here its copy with
    the sdkVersion changed) loses the caching points as well as the package's: caching off is
    only worth something on the package's own tasks."""
    source = mutate(
        REFERENCE.read_text(),
        ("import yaml\n", "import tempfile\n\nimport yaml\n"),
        ("        template_path=template_path,\n", "        template_path=_copy(spec),\n"),
        ("# %%\ndef onprem_run_request",
         "def _copy(spec):\n"
         '    spec = dict(spec, sdkVersion="kfp-0.0.0")\n'
         '    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as out:\n'
         "        yaml.safe_dump(spec, out)\n"
         "    return out.name\n\n\n"
         "# %%\ndef onprem_run_request"),
    )
    result = grade_source(EXERCISE, source)
    assert hidden_failures(result) == {"test_vertex_carries_the_package", "test_vertex_caching_off_everywhere"}
    caching = hidden(result, "test_vertex_caching_off_everywhere").output
    assert "not that package" in caching and "template_path" in caching
