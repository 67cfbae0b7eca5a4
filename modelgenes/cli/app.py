"""The ``modelgenes`` command line: global options, error handling, and the command groups."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from modelgenes import __version__
from modelgenes.cli.state import CliState
from modelgenes.errors import ModelgenesError

__all__ = ["app", "main"]

app = typer.Typer(
    name="modelgenes",
    help="Model genealogy: identify architectures from model files, trace lineage and licenses.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"modelgenes {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            envvar="MODELGENES_STORE",
            help="Graph store: 'embedded' (default) or a neo4j://, neo4j+s:// or bolt:// URI.",
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Model genealogy: identify architectures from model files, trace lineage and licenses."""
    ctx.obj = CliState(store=store or "embedded", debug=debug)


def _register_commands() -> None:
    # Each command group lives in its own module and registers itself on ``app``.
    from modelgenes.cli import (  # noqa: F401
        audit,
        db,
        eval,
        export,
        identify,
        ingest,
        inspect,
        query,
        signatures,
    )


_register_commands()


def main() -> None:
    """Entry point: run the app, turning ModelgenesError into one red line and exit code 1."""
    debug = "--debug" in sys.argv
    try:
        # Without standalone mode click returns the code of a typer.Exit instead of exiting.
        code = app(standalone_mode=False)
    except ModelgenesError as e:
        if debug:
            raise
        # One line, whatever the store or library put in its message.
        Console(stderr=True).print(
            f"[bold red]error:[/] {' '.join(str(e).split())}", highlight=False, soft_wrap=True
        )
        sys.exit(1)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        Console(stderr=True).print("[red]aborted[/]")
        sys.exit(1)
    except Exception as e:  # click usage errors and the like
        import click

        if isinstance(e, click.ClickException):
            e.show()
            sys.exit(e.exit_code)
        if debug:
            raise
        Console(stderr=True).print(f"[bold red]internal error:[/] {type(e).__name__}: {e}", highlight=False)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)
