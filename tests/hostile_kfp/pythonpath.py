# Appended to broken.py: at import, a sitecustomize.py on PYTHONPATH gives every later Python the
# module-level helper, so task subprocesses that inherit the environment would find _join.
import os as _os
import tempfile as _tempfile

_folder = _tempfile.mkdtemp(prefix="hml-planted-")
with open(_os.path.join(_folder, "sitecustomize.py"), "w") as _out:
    _out.write("import builtins\nbuiltins._join = lambda a, b: a + b\n")
_os.environ["PYTHONPATH"] = _os.pathsep.join(filter(None, [_folder, _os.environ.get("PYTHONPATH")]))
_os.environ["PYTHONSTARTUP"] = _os.path.join(_folder, "sitecustomize.py")
