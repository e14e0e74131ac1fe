"""``hml worker``: a Celery worker node that grades tasks from a Redis broker (see grader/batch/cluster.py)."""
from __future__ import annotations

import os
from pathlib import Path

import click

from grader.commands.common import sandbox_options


@click.command()
@click.option("--broker", required=True, envvar="HML_BROKER", metavar="URL",
              help="The Redis broker, redis://HOST:PORT/N (the coordinator's).")
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
def worker(broker: str, concurrency: int, queues: str, cache_dir: Path | None, visibility_timeout: int | None,
           sandbox: str, unsandboxed: bool) -> None:
    """Grade tasks sent by `hml grade-course --engine celery --broker URL`, until stopped.

    The node needs the same course checkout as the coordinator (a task planned
    against other tests is refused, with the reason) and bubblewrap or Landlock:
    without a sandbox it refuses to start, unless told --sandbox none.
    """
    from grader.batch.cluster import app, check_broker, configure
    from grader.commands.common import require_sandbox

    chosen = require_sandbox(sandbox, unsandboxed)
    # The pool's processes read these: one sandbox and one reference cache for the whole node.
    os.environ["HML_SANDBOX"] = chosen.value
    if cache_dir is not None:
        os.environ["HML_WORKER_CACHE"] = str(cache_dir.resolve())
    unknown = [q for q in queues.split(",") if q not in ("light", "tensorflow")]
    if unknown:
        raise click.BadParameter(f"unknown queue {unknown[0]!r}; use light and/or tensorflow", param_hint="--queues")
    configure(app, broker, visibility_timeout)
    check_broker(broker)
    app.worker_main(["worker", "--loglevel=INFO", f"--concurrency={concurrency}", f"--queues={queues}",
                     "--pool=prefork", "--without-gossip", "--without-mingle", "--without-heartbeat",
                     f"--hostname=hml-{os.getpid()}@%h"])
