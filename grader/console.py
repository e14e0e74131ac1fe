"""The one rich console the CLI prints through."""
from __future__ import annotations

from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def warn(message: str) -> None:
    err_console.print(f"[yellow]warning:[/yellow] {message}")
