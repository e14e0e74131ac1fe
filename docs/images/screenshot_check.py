"""Make ``docs/images/hml-check-jupyterlab.png``: ``%hml check`` run in JupyterLab, captured by headless Chromium.

What it does, all in a temporary folder and on loopback only:

1. ``hml start hybrid_placement --notebook`` makes a workspace; its notebook is cut down to the title, the
   ``%load_ext hml`` cell, one code cell and one ``%hml check`` cell, and made "partly done": the code cell
   is the reference solution with one rule misspelt (``"edge_quantised"``), so the check shows passed rows,
   a failed row with its first hint and the summary line.
2. JupyterLab is started on 127.0.0.1 (a free port, a random token, no browser), with private Jupyter
   config/data/runtime/settings folders and a kernelspec whose kernel is *this* Python (the interpreter
   running this script, which must have the project and ipykernel installed: the project's ``.venv``).
3. Headless Chromium opens the notebook; over the Chrome DevTools Protocol the script runs every cell in
   JupyterLab (``notebook:run-all-cells``), waits for the check's table, scrolls it into view and captures
   the page as a PNG.

Needs, besides the project's ``.venv`` (``make install``; ipykernel comes with it):

- JupyterLab, which the project does not depend on. Keep it out of the project's locked environment, e.g.
  ``python3 -m venv /tmp/jlab && /tmp/jlab/bin/pip install jupyterlab``, and pass
  ``--jupyter /tmp/jlab/bin/jupyter`` (or set ``HML_JUPYTER``; default: ``jupyter`` on PATH).
- Chromium: ``apt-get install chromium`` (or pass ``--chromium PATH`` / set ``HML_CHROMIUM``).

Run from the repository root::

    .venv/bin/python docs/images/screenshot_check.py --jupyter /tmp/jlab/bin/jupyter

``--keep`` leaves the temporary folder (workspace, server log) in place to look at.
"""
from __future__ import annotations

import argparse
import base64
import io
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().with_name("hml-check-jupyterlab.png")
EXERCISE = "hybrid_placement"
MISSPELT = ('"edge_quantized"', '"edge_quantised"')  # one rule written wrong: the README example fails
KERNEL = "hml-project-python"
MAX_BYTES = 250_000  # above this the PNG is reduced to a 256-colour palette


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jupyter", default=os.environ.get("HML_JUPYTER", "jupyter"),
                        help="the jupyter executable of an environment with JupyterLab (default: $HML_JUPYTER, "
                             "else jupyter on PATH)")
    parser.add_argument("--chromium", default=os.environ.get("HML_CHROMIUM"),
                        help="the Chromium executable (default: $HML_CHROMIUM, else chromium, chromium-browser "
                             "or google-chrome on PATH)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"the PNG to write (default: {OUT.relative_to(ROOT)})")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=860)
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for the check to show")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print where it is")
    args = parser.parse_args(argv)

    jupyter = shutil.which(args.jupyter)
    if not jupyter:
        parser.error(f"no jupyter executable {args.jupyter!r}: install JupyterLab (pip install jupyterlab) in a "
                     "separate virtualenv and pass --jupyter PATH")
    chromium = _chromium(args.chromium)
    if not chromium:
        parser.error("no Chromium found: apt-get install chromium, or pass --chromium PATH")

    tmp = Path(tempfile.mkdtemp(prefix="hml-screenshot-"))
    try:
        notebook = _workspace(tmp / "work")
        env = _jupyter_env(tmp)
        with _Process([jupyter, "lab", *_lab_options(tmp / "work")], env, tmp / "jupyterlab.log") as lab:
            port, token = lab.port, lab.token
            _wait_for_server(port, token, lab, args.timeout)
            url = f"http://127.0.0.1:{port}/lab/tree/{notebook.name}?reset&token={token}"
            png = _capture(chromium, url, tmp, args.width, args.height, args.timeout)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(_small(png))
        print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)")
        return 0
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _chromium(given: str | None) -> str | None:
    for name in ([given] if given else ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]):
        found = shutil.which(name)
        if found:
            return found
    return None


def _workspace(work: Path) -> Path:
    """A started workspace whose notebook is partly done and short enough that the check is in view."""
    import nbformat

    from grader.course.model import Course
    from grader.intake.notebooks import CHECK_CELL, LOAD_CELL

    env = dict(os.environ)
    env.pop("JPY_SESSION_NAME", None)
    subprocess.run([sys.executable, "-m", "grader.cli", "start", EXERCISE, "--notebook", "--dir", str(work)],
                   check=True, capture_output=True, env=env, cwd=ROOT, timeout=120)
    exercise = Course(ROOT).exercise(EXERCISE)
    notebook = work / f"{exercise.module_name}.ipynb"
    reference = exercise.reference.read_text()
    assert MISSPELT[0] in reference, f"the reference no longer has {MISSPELT[0]}: pick another misspelling"
    code = _without_header(reference.replace(*MISSPELT))

    book = nbformat.read(str(notebook), as_version=4)
    title = book.cells[0]
    assert title.cell_type == "markdown", title
    book.cells = [title, nbformat.v4.new_code_cell(LOAD_CELL), nbformat.v4.new_code_cell(code),
                  nbformat.v4.new_code_cell(CHECK_CELL)]
    book.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.validate(book)
    nbformat.write(book, str(notebook))
    return notebook


def _without_header(source: str) -> str:
    """The reference's code without its jupytext header (a markdown title as comments) and ``# %%`` markers."""
    lines = source.splitlines()
    while lines and (lines[0].startswith("#") or not lines[0].strip()):
        lines.pop(0)
    return "\n".join(line for line in lines if not line.startswith("# %%")).strip() + "\n"


def _jupyter_env(tmp: Path) -> dict:
    """Private Jupyter folders (no user config, settings or workspace state), a kernelspec for this Python."""
    kernel = tmp / "jupyter-path" / "kernels" / KERNEL
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "metadata": {"debugger": False},
    }, indent=1))
    settings = tmp / "lab-settings"
    notification = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    # no "get Jupyter news?" toast over the notebook, and no request to the internet for news or updates
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = {key: value for key, value in os.environ.items() if not key.startswith(("JPY_", "JUPYTER"))}
    env.update(
        JUPYTER_PATH=str(tmp / "jupyter-path"),
        JUPYTER_CONFIG_DIR=str(tmp / "jupyter-config"),
        JUPYTER_DATA_DIR=str(tmp / "jupyter-data"),
        JUPYTER_RUNTIME_DIR=str(tmp / "jupyter-runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "lab-workspaces"),
        HML_CACHE_DIR=str(tmp / "hml-cache"),  # fresh hint tiers: the failing test shows "Hint 1/…"
        JUPYTER_PLATFORM_DIRS="1",
    )
    return env


def _lab_options(root_dir: Path) -> list[str]:
    as_root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []  # e.g. in a container
    return [
        *as_root,
        "--no-browser",
        "--ip=127.0.0.1",
        "--port-retries=0",
        f"--ServerApp.root_dir={root_dir}",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run the cells as a learner's Run All would
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--KernelSpecManager.ensure_native_kernel=False",  # only the kernelspec written here
        "--LabApp.extension_manager=readonly",  # no listing fetched from PyPI
        "--ServerApp.terminals_enabled=False",
    ]


class _Process:
    """A child process on a free loopback port (``--port``) with a token, stopped (by its own pid) on exit."""

    def __init__(self, argv: list[str], env: dict, log: Path):
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        self.argv = [*argv, f"--port={self.port}"]
        self.env = dict(env, JUPYTER_TOKEN=self.token)
        self.log_path = log
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> _Process:
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen(self.argv, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        return self

    def log_tail(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-3000:]

    def __exit__(self, *exc) -> None:
        _stop(self.proc)
        self.log.close()


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_server(port: int, token: str, lab: _Process, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if lab.proc.poll() is not None:
            raise SystemExit(f"JupyterLab exited ({lab.proc.returncode}):\n{lab.log_tail()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=5) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"JupyterLab did not answer on 127.0.0.1:{port}:\n{lab.log_tail()}")


# In the page, once JupyterLab has opened the notebook and its kernel is idle: run all cells. Then, each
# poll: whether the check's summary line is there, and if so scroll the notebook so the check's output ends
# near the bottom of the view, with the check cell selected as a learner's Shift+Enter would leave it.
PANEL = """var notebookPanel = () => {  // var: each evaluation may declare it again
  for (const widget of window.jupyterapp.shell.widgets("main")) {
    if (widget.sessionContext && widget.content && widget.content.widgets) return widget;
  }
  return null;
};
"""
READY = PANEL + """(async () => {
  if (!window.jupyterapp || !window.jupyterapp.shell) return "no app";
  const panel = notebookPanel();
  if (!panel || !panel.content.widgets.length) return "no notebook";
  await panel.sessionContext.ready;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  if (!kernel || kernel.status !== "idle") return "kernel " + (kernel ? kernel.status : "none");
  if (kernel.name !== KERNEL) return "error: the notebook runs kernel " + kernel.name + ", not " + KERNEL;
  return "ready";
})()""".replace("KERNEL", json.dumps(KERNEL))
RUN = PANEL + """(async () => {
  const panel = notebookPanel();
  window.jupyterapp.shell.activateById(panel.id);
  await panel.context.save();  // save, then check: the check reads the saved notebook
  await window.jupyterapp.commands.execute("notebook:run-all-cells");
  return "running";
})()"""
SAVE = PANEL + """(async () => {
  await notebookPanel().context.save();  // so the tab shows no unsaved changes
  return "saved";
})()"""
SHOWN = PANEL + """(() => {
  const notebook = notebookPanel().content;
  for (const cell of notebook.widgets) {
    const outputs = cell.model.type === "code" ? cell.model.outputs.toJSON() : [];
    const error = outputs.find(output => output.output_type === "error");
    if (error) return "error: " + error.ename + ": " + error.evalue + "\\n" + cell.model.sharedModel.getSource();
  }
  const summary = document.querySelector(".jp-Notebook .hml-summary");
  if (!summary) return "waiting";
  notebook.activeCellIndex = notebook.widgets.length - 1;
  notebook.deselectAll();
  notebook.mode = "command";
  if (document.activeElement) document.activeElement.blur();
  const check = summary.closest(".hml-check");
  let scroller = check.parentElement;
  while (scroller && !(scroller.scrollHeight > scroller.clientHeight + 1 &&
                       /(auto|scroll)/.test(getComputedStyle(scroller).overflowY))) {
    scroller = scroller.parentElement;
  }
  if (scroller) {
    const bottom = check.getBoundingClientRect().bottom - scroller.getBoundingClientRect().bottom;
    scroller.scrollTop += bottom + 24;
  }
  return "shown";
})()"""


def _capture(chromium: str, url: str, tmp: Path, width: int, height: int, timeout: float) -> bytes:
    profile = tmp / "chromium-profile"
    argv = [chromium, "--headless=new", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
            f"--user-data-dir={profile}", f"--window-size={width},{height}", "--hide-scrollbars",
            "--no-first-run", "--no-default-browser-check", "--disable-gpu", "--disable-extensions",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--mute-audio", "--force-color-profile=srgb", "--lang=en-US"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    log = (tmp / "chromium.log").open("wb")
    proc = subprocess.Popen([*argv, "about:blank"], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        page = _devtools_page(profile, proc, tmp / "chromium.log")
        try:  # in .venv through google-genai (constraints.txt); only its sync client is used
            from websockets.sync.client import connect
        except ImportError as exc:
            raise SystemExit(f"{exc}: pip install websockets (>= 13) into the environment running this") from exc

        with connect(page, max_size=None, open_timeout=30) as ws:
            cdp = _Cdp(ws)
            cdp.call("Emulation.setDeviceMetricsOverride",
                     width=width, height=height, deviceScaleFactor=1, mobile=False)
            cdp.call("Page.enable")
            cdp.call("Page.navigate", url=url)
            _poll(cdp, READY, "ready", timeout, "JupyterLab to open the notebook with an idle kernel", tmp)
            cdp.evaluate(RUN)
            _poll(cdp, SHOWN, "shown", timeout, "the %hml check output", tmp)
            cdp.evaluate(SAVE)
            time.sleep(1.0)  # let the scroll and the selection repaint
            state = cdp.evaluate(SHOWN)
            assert state == "shown", state
            shot = cdp.call("Page.captureScreenshot", format="png", fromSurface=True)
            return base64.b64decode(shot["data"])
    finally:
        _stop(proc)
        log.close()


def _poll(cdp: _Cdp, expression: str, wanted: str, timeout: float, what: str, tmp: Path) -> None:
    """Evaluate ``expression`` until it returns ``wanted``; stop at once on a state that starts with "error:"."""
    deadline, state = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            state = cdp.evaluate(expression)
        except RuntimeError as exc:  # e.g. the page navigating: try again
            state = f"devtools: {exc}"
        if state == wanted:
            return
        if isinstance(state, str) and state.startswith("error:"):
            break
        time.sleep(0.5)
    failed = tmp / "failed.png"  # what the page showed (run with --keep to look at it)
    failed.write_bytes(base64.b64decode(cdp.call("Page.captureScreenshot", format="png")["data"]))
    failed_early = isinstance(state, str) and state.startswith("error:")
    raise SystemExit(f"{'failed' if failed_early else 'timed out'} waiting for {what} "
                     f"(last state: {state!r}); the page as it was: {failed}")


def _devtools_page(profile: Path, proc: subprocess.Popen, log: Path) -> str:
    """The DevTools websocket URL of Chromium's first page (the port is in the profile's DevToolsActivePort)."""
    active = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"Chromium exited ({proc.returncode}):\n{log.read_text(errors='replace')[-3000:]}")
        if active.is_file() and active.read_text().strip():
            port = int(active.read_text().split()[0])
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as reply:
                pages = [t for t in json.load(reply) if t.get("type") == "page"]
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
        time.sleep(0.2)
    raise SystemExit("Chromium did not open its DevTools port")


class _Cdp:
    """A minimal Chrome DevTools Protocol client: one call at a time, events ignored."""

    def __init__(self, ws):
        self.ws, self.next_id = ws, 0

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=120))
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            return "exception: " + json.dumps(result["exceptionDetails"])[:500]
        return result["result"].get("value")


def _small(png: bytes) -> bytes:
    """The PNG, optimised; as a 256-colour palette image if it is still larger than ``MAX_BYTES``."""
    try:  # in .venv through matplotlib
        from PIL import Image
    except ImportError:
        return png

    image = Image.open(io.BytesIO(png)).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    if out.tell() > MAX_BYTES:
        out = io.BytesIO()
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            out, format="PNG", optimize=True)
    return out.getvalue()


if __name__ == "__main__":
    sys.exit(main())
