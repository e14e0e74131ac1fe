# Borrows the grader's own reference code instead of writing any.
import importlib


def place(workload):
    reached = []
    for name in ("grader.judging.evaluators.tflite", "grader.judging.evaluators.keras", "grader.judging.kfp_ir"):
        try:
            importlib.import_module(name)
            reached.append(name)
        except (ImportError, OSError):  # missing (bubblewrap) or unreadable (Landlock)
            pass
    raise RuntimeError("ATTACK import_grader " + (" ".join(reached) if reached else "NOTHING-REACHED"))
