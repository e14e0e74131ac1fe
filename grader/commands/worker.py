"""``hml worker``: a Celery worker node that grades tasks from a Redis broker (see grader/batch/cluster.py)."""
from __future__ import annotations

import os
from pathlib import Path

import click

from grader.commands.common import sandbox_options


@click.command()
@click.option("--broker-file", envvar="HML_BROKER_FILE", metavar="FILE",
              type=click.Path(dir_okay=False, path_type=Path),
              help="A file holding the coordinator's Redis URL, redis://:PASSWORD@HOST:PORT/N [default: HML_BROKER].")
@click.option("--broker", metavar="URL",
              help="The broker's URL for a broker without a password (a URL with one is refused: command lines "
                   "are readable by every process, learner code included).")
@click.option("--concurrency", "-c", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Gradings this node runs at once (one per core; a TensorFlow grading wants ~4 GB).")
@click.option("--queues", "-Q", default="light,tensorflow", show_default=True,
              help="Queues to take tasks from: light (KFP, hybrid) and/or tensorflow (the mobile exercises).")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              help="This node's cache of reference outputs [default: a folder under the system's temp].")
@click.option("--visibility-timeout", type=click.IntRange(5, 86400), default=None,
              help="Seconds after which a task whose worker died goes back to the queue "
                   "[default: longer than any grading].")
@sandbox_options
def worker(broker_file: Path | None, broker: str | None, concurrency: int, queues: str, cache_dir: Path | None,
           visibility_timeout: int | None, sandbox: str, unsandboxed: bool) -> None:
    """Grade tasks sent by `hml grade-course --engine celery`, until stopped.

    The node needs the same course checkout as the coordinator (a task planned
    against other tests is refused, with the reason), the cluster's key in the
    file HML_CLUSTER_SECRET_FILE names (it grades only tasks signed with it, and
    signs its answers), and bubblewrap or Landlock: without a sandbox it
    refuses to start, unless told --sandbox none.
    """
    from grader.batch.cluster import app, check_broker, configure, node_key
    from grader.batch.credentials import broker_url
    from grader.batch.engines import NoBroker
    from grader.commands.common import require_sandbox

    url = broker_url(broker, broker_file)
    if not url:
        raise NoBroker("hml worker needs --broker-file FILE (or HML_BROKER_FILE) holding the coordinator's Redis "
                       "URL, HML_BROKER, or --broker redis://HOST:PORT/N for a broker without a password")
    node_key()  # refuse to start without the cluster's key; the pool's processes inherit it
    chosen = require_sandbox(sandbox, unsandboxed)
    # The pool's processes read these: one sandbox and one reference cache for the whole node.
    os.environ["HML_SANDBOX"] = chosen.value
    if cache_dir is not None:
        os.environ["HML_WORKER_CACHE"] = str(cache_dir.resolve())
    unknown = [q for q in queues.split(",") if q not in ("light", "tensorflow")]
    if unknown:
        raise click.BadParameter(f"unknown queue {unknown[0]!r}; use light and/or tensorflow", param_hint="--queues")
    configure(app, url, visibility_timeout)
    check_broker(url)
    app.worker_main(["worker", "--loglevel=INFO", f"--concurrency={concurrency}", f"--queues={queues}",
                     "--pool=prefork", "--without-gossip", "--without-mingle", "--without-heartbeat",
                     f"--hostname=hml-{os.getpid()}@%h"])
