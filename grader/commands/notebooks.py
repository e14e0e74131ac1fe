"""``hml notebooks``: regenerate starter notebooks from starter modules."""
from __future__ import annotations

import click


@click.command()
@click.option("--check", is_flag=True, help="Only report notebooks that are out of date; exit 1 if any.")
def notebooks(check: bool) -> None:
    """Write exercises/<id>/<module>.ipynb from the starter module's `# %%` cells."""
    import nbformat

    from grader.console import console
    from grader.course.model import Course
    from grader.intake.notebooks import StaleNotebooks, module_to_notebook

    stale = []
    for exercise in Course().exercises():
        if not exercise.starter.is_file():
            continue
        text = nbformat.writes(module_to_notebook(exercise.starter.read_text())) + "\n"
        target = exercise.starter_notebook
        if target.is_file() and target.read_text() == text:
            continue
        stale.append(target)
        if not check:
            target.write_text(text)
            console.print(f"wrote {target.relative_to(exercise.directory.parent.parent)}")
    if check and stale:
        raise StaleNotebooks("out of date: " + ", ".join(p.name for p in stale) + " (run `hml notebooks`)")
