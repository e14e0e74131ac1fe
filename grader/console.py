"""The one rich console the CLI prints through."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from rich.console import Console
from rich.highlighter import NullHighlighter

console = Console()
err_console = Console(stderr=True)


def warn(message: str) -> None:
    err_console.print(f"[yellow]warning:[/yellow] {message}")


@contextmanager
def highlighting(enabled: bool) -> Iterator[None]:
    """Whether the consoles colour the numbers, quotes and paths rich spots in printed strings, for a while.

    The quiz turns it off: it prints prose from question banks, where that colouring falls on words at random.
    """
    saved = console.highlighter, err_console.highlighter
    if not enabled:
        console.highlighter = err_console.highlighter = NullHighlighter()
    try:
        yield
    finally:
        console.highlighter, err_console.highlighter = saved
