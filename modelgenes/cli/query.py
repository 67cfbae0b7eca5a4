"""``modelgenes query`` (named Cypher queries) and its shortcuts ``lineage``, ``related``, ``family``."""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
import typer

from modelgenes.cli.app import app
from modelgenes.cli.output import FormatOption, OutputFormat, emit
from modelgenes.cli.state import state_of
from modelgenes.cypher.catalog import NamedQuery, all_queries, get_query
from modelgenes.errors import QueryError
from modelgenes.kb.connect import open_store
from modelgenes.kb.lookup import resolve_model
from modelgenes.kb.store import GraphStore

__all__ = ["run_named_query"]


def run_named_query(store: GraphStore, query: NamedQuery, raw: dict[str, str]) -> pd.DataFrame:
    """Bind command-line values to the query's parameters, resolve model references, run it."""
    params: dict[str, Any] = query.bind(raw)
    for p in query.params:
        if p.type == "model":
            params[p.name] = resolve_model(store, params[p.name])
    rows = store.query(query.text, params, name=query.name)
    return pd.DataFrame.from_records(rows, columns=list(query.columns))


def _parse_pairs(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise QueryError("-p", f"expected key=value, got {pair!r}")
        out[key.strip()] = value
    return out


def _catalog_frame() -> pd.DataFrame:
    records = [
        {
            "query": q.name,
            "question": q.question,
            "parameters": ", ".join(
                f"{p.name}:{p.type}" + (f"={p.default}" if p.default else "") for p in q.params
            ),
            "columns": ", ".join(q.columns),
        }
        for q in all_queries().values()
        if not q.name.startswith(("write/", "admin/"))
    ]
    return pd.DataFrame.from_records(records)


@app.command("query")
def query_command(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="The query's name, e.g. lineage/ancestors.")] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="A parameter as key=value (repeatable).")
    ] = None,
    list_: Annotated[
        bool, typer.Option("--list", help="List the named queries and their parameters.")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Run a named, parameterised Cypher query of the catalog (see --list)."""
    if list_ or name is None:
        emit(_catalog_frame(), fmt, title="named queries")
        return
    query = get_query(name)
    if query.name.startswith("write/") or query.name.startswith("admin/"):
        raise QueryError(name, "write and admin statements are run by ingest and db commands, not by query")
    with open_store(state_of(ctx).store) as store:
        frame = run_named_query(store, query, _parse_pairs(param or []))
    emit(frame, fmt, title=query.question)


@app.command("lineage")
def lineage_command(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="A model: path, sha256 prefix, hub id or name.")],
    depth: Annotated[
        int, typer.Option(help="Follow at most this many DERIVED_FROM edges (1-8).", min=1, max=8)
    ] = 8,
    sources: Annotated[
        str,
        typer.Option(
            help="Claim sources to follow, comma-separated: declared (cards, manifests), weights, structure."
        ),
    ] = "declared,weights,structure",
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Show a model's ancestors and descendants along DERIVED_FROM claims, nearest first.

    One row per model, by its shortest chain; `relations` and `sources` say how each hop is known.
    `modelgenes query lineage/claims -p model=MODEL` lists every claim with its evidence.
    """
    with open_store(state_of(ctx).store) as store:
        raw = {"model": model, "maxDepth": str(depth), "sources": sources}
        up = run_named_query(store, get_query("lineage/inferred_ancestors"), raw)
        down = run_named_query(store, get_query("lineage/inferred_descendants"), raw)
    up = up.rename(columns={"ancestor": "model"}).assign(direction="ancestor")
    down = down.rename(columns={"descendant": "model"}).assign(direction="descendant")
    frame = pd.concat([up, down], ignore_index=True)
    frame = frame[["direction", "model", "name", "hubId", "depth", "relations", "sources", "chain"]]
    emit(frame, fmt, title=f"lineage of {model}")


@app.command("related")
def related_command(
    ctx: typer.Context,
    family: Annotated[str, typer.Argument(help="A family name, e.g. bert.")],
    min_similarity: Annotated[
        float, typer.Option("--min-similarity", help="Jaccard similarity of broad signatures (0-1).")
    ] = 0.5,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Families related to FAMILY through the broad signatures their models share."""
    with open_store(state_of(ctx).store) as store:
        frame = run_named_query(
            store,
            get_query("relatedness/related_families"),
            {"family": family, "minSimilarity": str(min_similarity)},
        )
    emit(frame, fmt, title=f"families related to {family}")


@app.command("family")
def family_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A family name, e.g. resnet.")],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The models identified as a family, best score first."""
    with open_store(state_of(ctx).store) as store:
        frame = run_named_query(store, get_query("explore/models_of_family"), {"family": name})
    emit(frame, fmt, title=f"models of family {name}")
