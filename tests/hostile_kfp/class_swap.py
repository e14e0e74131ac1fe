# Appended to broken.py: after decoration, the pipeline and component objects get subclasses whose
# __call__ writes forged executor outputs into the pipeline root (the attack on in-worker local runs).
import json as _json
import os as _os


def _forge(obj, outputs_of):
    base = type(obj)

    class Forged(base):
        def __call__(self, *args, **kwargs):
            root = _os.environ.get("HML_FORGE_ROOT") or _os.getcwd()
            for task, params in outputs_of(**kwargs).items():
                folder = _os.path.join(root, "forged", task)
                _os.makedirs(folder, exist_ok=True)
                with open(_os.path.join(folder, "executor_output.json"), "w") as out:
                    _json.dump({"parameterValues": params}, out)
            return base.__call__(self, *args, **kwargs)

    obj.__class__ = Forged


def _pipeline_outputs(a="stres", b="sed"):
    return {"concat": {"Output": a + b}, "reverse": {"before": a + b, "after": (a + b)[::-1]}}


_forge(basic_pipeline, _pipeline_outputs)
_forge(concat, lambda a, b: {"concat": {"Output": a + b}})
_forge(reverse, lambda a: {"reverse": {"before": a, "after": a[::-1]}})
