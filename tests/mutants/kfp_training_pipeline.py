"""kfp_training_pipeline: the data, the training, the deploy digest, the task settings and the gate."""
from mutants import Mutant

EXERCISE = "kfp_training_pipeline"

UPDATE = "w1, w2, b = w1 - learning_rate * g1 / n, w2 - learning_rate * g2 / n, b - learning_rate * gb / n"
SETTINGS = 'train_task.set_cpu_limit("2").set_memory_limit("4G").set_retry(num_retries=2)'
GATE = 'train_task.outputs["Output"] >= accuracy_threshold'
SEQUENTIAL_UPDATE = '''        for x1, x2, y in rows:
            error = prob(w1, w2, b, x1, x2) - y
            g1 += error * x1
            g2 += error * x2
            gb += error
        # all three parameters move together, from this epoch's gradients
        w1, w2, b = w1 - learning_rate * g1 / n, w2 - learning_rate * g2 / n, b - learning_rate * gb / n
'''
SEQUENTIAL_MISTAKE = '''        g1 = sum((prob(w1, w2, b, x1, x2) - y) * x1 for x1, x2, y in rows) / n
        w1 -= learning_rate * g1
        g2 = sum((prob(w1, w2, b, x1, x2) - y) * x2 for x1, x2, y in rows) / n
        w2 -= learning_rate * g2
        gb = sum((prob(w1, w2, b, x1, x2) - y) for x1, x2, y in rows) / n
        b -= learning_rate * gb
'''


def default(name: str, old: str, new: str) -> Mutant:
    """A pipeline parameter's default changed: the parameters test names the parameter and its default."""
    return Mutant(f"default-{name}", f"parameters ... `{name}: {old}`",
                  ((f"{name}: {old}", f"{name}: {new}"),),
                  "contract's types and defaults", (f"pipeline parameter {name} must default to",))


MUTANTS = [
    # prepare_data
    Mutant("header-y", "Writes CSV with header `x1,x2,label`",
           (('writer.writerow(["x1", "x2", "label"])', 'writer.writerow(["x1", "x2", "y"])'),),
           "prepare_data run on its own", ("header x1,x2,label",), alone=True),
    Mutant("rows-off-by-one", "and `n_rows` rows",
           (("for _ in range(n_rows):", "for _ in range(1, n_rows):"),),
           "prepare_data run on its own", ("n_rows rows",), alone=True),
    Mutant("unseeded", "With `rng = random.Random(seed)`",
           (("rng = random.Random(seed)", "rng = random.Random()"),),
           "prepare_data run on its own", ("rng = random.Random(seed)",), alone=True),
    Mutant("x2-drawn-first", "each row draws `x1 = rng.uniform(-1, 1)` then `x2 = rng.uniform(-1, 1)`",
           (("            x1 = rng.uniform(-1, 1)\n            x2 = rng.uniform(-1, 1)\n",
             "            x2 = rng.uniform(-1, 1)\n            x1 = rng.uniform(-1, 1)\n"),),
           "prepare_data run on its own", ("x1 = rng.uniform(-1, 1) then x2",), alone=True),
    Mutant("label-threshold-0", "`label = 1 if x1 + 2 * x2 > 0.1 else 0`",
           (("label = 1 if x1 + 2 * x2 > 0.1 else 0", "label = 1 if x1 + 2 * x2 > 0 else 0"),),
           "the dataset matches the specification", ("label = 1 if x1 + 2 * x2 > 0.1 else 0",), alone=True),
    Mutant("label-at-least", "`label = 1 if x1 + 2 * x2 > 0.1 else 0` (strict)",
           (("label = 1 if x1 + 2 * x2 > 0.1 else 0", "label = 1 if x1 + 2 * x2 >= 0.1 else 0"),),
           survives="x1 + 2 * x2 of two uniform floats is practically never exactly 0.1, and the seed is the "
                    "only input, so no hidden dataset can tell > from >="),
    Mutant("floats-rounded", "Floats are written with `repr`",
           (("writer.writerow([repr(x1), repr(x2), label])", 'writer.writerow([f"{x1:.6f}", f"{x2:.6f}", label])'),),
           "prepare_data run on its own", ("written with repr",), alone=True),
    # train_model
    Mutant("weights-start-nonzero", "from all-zero weights and bias",
           (("w1 = w2 = b = 0.0", "w1 = w2 = b = 0.01"),),
           "train_model run on its own on another dataset", ("start from zeros",)),
    Mutant("gradients-summed", "gradients are the means over rows",
           ((UPDATE, "w1, w2, b = w1 - learning_rate * g1, w2 - learning_rate * g2, b - learning_rate * gb"),),
           "train_model run on its own on another dataset", ("gradients are means over all rows",)),
    Mutant("gradients-summed-blames-training", "gradients are the means over rows (the gate blames the training)",
           ((UPDATE, "w1, w2, b = w1 - learning_rate * g1, w2 - learning_rate * g2, b - learning_rate * gb"),),
           "misses the threshold: the model is not deployed", ("accuracy differs from the specification",
                                                               "fix train_model")),
    Mutant("gradient-step-up", "each parameter moves by `-learning_rate * gradient`",
           ((UPDATE, UPDATE.replace(" - learning_rate", " + learning_rate")),),
           "train_model run on its own on another dataset", ("-learning_rate * gradient",)),
    Mutant("sequential-update", "all three updated from the same epoch's gradients",
           ((SEQUENTIAL_UPDATE, SEQUENTIAL_MISTAKE),),
           "train_model run on its own on another dataset", ("one parameter after another",)),
    Mutant("one-epoch-short", "for each epoch",
           (("for _ in range(epochs):", "for _ in range(epochs - 1):"),),
           "train_model run on its own on another dataset", ("trained weights and bias differ",)),
    Mutant("predict-strictly-above", "training accuracy with threshold `p >= 0.5`",
           (("if prob(w1, w2, b, x1, x2) >= 0.5 else 0", "if prob(w1, w2, b, x1, x2) > 0.5 else 0"),),
           "so every p is exactly 0.5", ("predicts 1 when p >= 0.5",)),
    Mutant("metric-misnamed", 'logs `metrics.log_metric("accuracy", acc)`',
           (('metrics.log_metric("accuracy", accuracy)', 'metrics.log_metric("acc", accuracy)'),),
           "returned and logged accuracy", ("metrics.log_metric('accuracy', acc)",)),
    Mutant("returns-correct-count", "and returns `acc`",
           (("    return accuracy\n", "    return float(correct)\n"),),
           "returned and logged accuracy", ("returned accuracy differs",)),
    Mutant("model-json-keys", 'Writes JSON `{"weights": [w1, w2], "bias": b}` to `model.path`',
           (('json.dump({"weights": [w1, w2], "bias": b}, f)', 'json.dump({"w": [w1, w2], "b": b}, f)'),),
           "train_model run on its own on another dataset", ('{"weights": [w1, w2], "bias": b}',)),
    Mutant("metrics-not-metrics", "`metrics: Output[Metrics]` (artifact type system.Metrics)",
           (("model: Output[Model], metrics: Output[Metrics]) -> float:",
             "model: Output[Model], metrics: Output[Dataset]) -> float:"),
            ('    metrics.log_metric("accuracy", accuracy)\n', "")),
           "typed artifacts", ("metrics: Output[Metrics]",)),
    # deploy_model
    Mutant("digest-16", "the first 12 hex characters of the SHA-256 of the model file's bytes",
           (("hexdigest()[:12]", "hexdigest()[:16]"),),
           "deploy_model run on its own", ("first 12 hex characters",)),
    Mutant("digest-md5", "the SHA-256 of the model file's bytes",
           (("hashlib.sha256(f.read())", "hashlib.md5(f.read())"),),
           "deploy_model run on its own", ("SHA-256",)),
    Mutant("endpoint-slash", 'returns `f"{endpoint_name}:{digest}"`',
           (('return f"{endpoint_name}:{digest}"', 'return f"{endpoint_name}/{digest}"'),),
           "deploy_model run on its own", ("f'{endpoint_name}:{digest}'",)),
    # the pipeline
    Mutant("pipeline-name", 'pipeline named `"training-pipeline"`',
           (('@dsl.pipeline(name="training-pipeline")', '@dsl.pipeline(name="train-pipeline")'),),
           "training-pipeline with prepare-data, train-model", ("'training-pipeline'",)),
    default("n_rows", "int = 200", "int = 100"),
    default("seed", "int = 42", "int = 0"),
    default("epochs", "int = 100", "int = 10"),
    default("learning_rate", "float = 0.5", "float = 0.1"),
    default("accuracy_threshold", "float = 0.8", "float = 0.9"),
    default("endpoint_name", 'str = "demo-endpoint"', 'str = "endpoint"'),
    Mutant("endpoint-constant", "every parameter comes from the pipeline (`endpoint_name`)",
           (("endpoint_name=endpoint_name)", 'endpoint_name="demo-endpoint")'),),
           "Artifacts flow prepare", ("input endpoint_name must be the pipeline's parameter",)),
    Mutant("caching-left-on", "`prepare_data` has caching disabled",
           (("    data_task.set_caching_options(enable_caching=False)\n", ""),),
           "prepare_data has caching disabled", ("set_caching_options(enable_caching=False)",)),
    Mutant("cpu-1", 'CPU limit `"2"`',
           ((SETTINGS, SETTINGS.replace('set_cpu_limit("2")', 'set_cpu_limit("1")')),),
           "CPU limit of 2", ("CPU limit must be 2",)),
    Mutant("memory-unitless", 'memory limit `"4G"`',
           ((SETTINGS, SETTINGS.replace('"4G"', '"4"')),),
           "CPU limit of 2", ("has no unit", "'4G'")),
    Mutant("memory-gibibytes", 'memory limit `"4G"` (not "4Gi")',
           ((SETTINGS, SETTINGS.replace('"4G"', '"4Gi"')),),
           "CPU limit of 2", ("'4G'",)),
    Mutant("no-retries", "and 2 retries",
           ((SETTINGS, SETTINGS.replace(".set_retry(num_retries=2)", "")),),
           "retried twice", ("set_retry(num_retries=2)",)),
    Mutant("three-retries", "and 2 retries",
           ((SETTINGS, SETTINGS.replace("num_retries=2", "num_retries=3")),),
           "retried twice", ("the contract asks for 2",)),
    Mutant("gate-strict", "`dsl.If(<train output> >= accuracy_threshold)`",
           ((GATE, GATE.replace(">=", ">")),),
           "deploy_model runs only inside dsl.If", ("strict comparison", ">=")),
    Mutant("gate-constant", "`dsl.If(<train output> >= accuracy_threshold)` (the parameter)",
           ((GATE, 'train_task.outputs["Output"] >= 0.8'),),
           "deploy_model runs only inside dsl.If", ("the pipeline parameter accuracy_threshold",)),
    Mutant("no-gate", "`deploy_model` runs only inside `dsl.If(...)`",
           (('    with dsl.If(train_task.outputs["Output"] >= accuracy_threshold, name="accuracy-gate"):\n'
             '        deploy_model(', '    if True:\n        deploy_model('),),
           "misses the threshold: the model is not deployed", ("dsl.If",)),
    Mutant("module-level-import", "every import a component needs is inside its function body",
           (("from kfp import compiler, dsl\n", "import hashlib\n\nfrom kfp import compiler, dsl\n"),
            ('    import hashlib\n\n    with open(model.path, "rb")', '    with open(model.path, "rb")')),
           "deploy_model run on its own", ("uses `hashlib` without importing",), alone=True),
]
