"""Options given before the command, shared by every command through ``ctx.obj``."""

from __future__ import annotations

from dataclasses import dataclass

import typer

__all__ = ["CliState", "state_of"]


@dataclass(frozen=True)
class CliState:
    store: str  # "embedded" or a Neo4j URI
    debug: bool


def state_of(ctx: typer.Context) -> CliState:
    """The global options, whether the command was invoked through the app or directly."""
    obj = ctx.find_root().obj
    return obj if isinstance(obj, CliState) else CliState(store="embedded", debug=False)
