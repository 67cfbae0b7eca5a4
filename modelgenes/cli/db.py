"""``modelgenes db start|stop|status|reset``: manage the embedded store (and check any store)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from modelgenes.cli.app import app
from modelgenes.cli.output import FormatOption, OutputFormat, emit_records
from modelgenes.cli.state import state_of
from modelgenes.cypher.catalog import get_query
from modelgenes.errors import ModelgenesError
from modelgenes.kb.connect import open_store
from modelgenes.kb.falkor import EmbeddedServer, ServerInfo

db_app = typer.Typer(
    help="Manage the graph store (the embedded FalkorDB server by default).", no_args_is_help=True
)
app.add_typer(db_app, name="db")


def _embedded_only(ctx: typer.Context, action: str) -> EmbeddedServer:
    store = state_of(ctx).store
    if store != "embedded":
        raise ModelgenesError(f"'db {action}' manages the embedded store only; --store is {store}")
    return EmbeddedServer()


def _describe(server: EmbeddedServer, info: ServerInfo | None) -> dict[str, object]:
    return {
        "store": "embedded",
        "running": info is not None,
        "pid": info.pid if info else None,
        "port": info.port if info else None,
        "data_dir": str(server.data_dir),
    }


@db_app.command("start")
def start(ctx: typer.Context, fmt: FormatOption = OutputFormat.table) -> None:
    """Start the embedded server (harmless when it already runs) and create the schema."""
    server = _embedded_only(ctx, "start")
    info = server.start()
    with open_store("embedded", home=server.home):
        pass  # opening creates the schema, so the first write finds its indexes in place
    emit_records([_describe(server, info)], fmt)


@db_app.command("stop")
def stop(ctx: typer.Context) -> None:
    """Flush the embedded server's data to disk and stop it."""
    server = _embedded_only(ctx, "stop")
    if server.stop():
        typer.echo(f"stopped the embedded store ({server.data_dir})")
    else:
        typer.echo(f"the embedded store was not running ({server.data_dir})")


@db_app.command("status")
def status(ctx: typer.Context, fmt: FormatOption = OutputFormat.table) -> None:
    """Say whether the store runs, where, and how many nodes and relationships it holds."""
    spec = state_of(ctx).store
    if spec == "embedded":
        server = EmbeddedServer()
        info = server.status()
        record = _describe(server, info)
        if info is not None:
            record.update(_counts("embedded", server.home))
    else:
        record = {"store": spec, "running": True, **_counts(spec, None)}
    emit_records([record], fmt)


@db_app.command("reset")
def reset(
    ctx: typer.Context,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete everything the embedded store holds (asks first unless --yes)."""
    server = _embedded_only(ctx, "reset")
    if not yes:
        typer.confirm(f"Delete every model, match and finding stored in {server.data_dir}?", abort=True)
    server.reset()
    typer.echo(f"reset the embedded store ({server.data_dir})")


def _counts(spec: str, home: Path | None) -> dict[str, object]:
    with open_store(spec, home=home, ensure_schema=False) as store:
        query = get_query("admin/store_counts")
        return store.query(query.text, name=query.name)[0]
