"""``modelgenes signatures list|show|test|suggest``: the signature library and the tools to grow it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from modelgenes.cli.app import app
from modelgenes.cli.output import FormatOption, OutputFormat, emit_records
from modelgenes.errors import ModelgenesError
from modelgenes.signatures.model import load_library

signatures_app = typer.Typer(
    help="The signature library: list, show, test and suggest signatures.", no_args_is_help=True
)
app.add_typer(signatures_app, name="signatures")


@signatures_app.command("list")
def list_signatures(fmt: FormatOption = OutputFormat.table) -> None:
    """Every signature: id, family, specificity, weight, pattern size and description."""
    library = load_library()
    emit_records(
        [
            {
                "id": s.id,
                "family": s.family,
                "specificity": s.specificity,
                "weight": s.weight,
                "nodes": len(s.nodes),
                "description": " ".join(s.description.split())[:90],
            }
            for s in library.signatures
        ],
        fmt,
        title="signatures",
    )


@signatures_app.command("show")
def show(
    signature_id: Annotated[str, typer.Argument(help="Signature id (family/name, '@version' optional).")],
) -> None:
    """Print one signature file as written."""
    sig = load_library().get(signature_id)
    sys.stdout.write(Path(sig.path).read_text(encoding="utf-8"))


@signatures_app.command("test")
def test(
    ids: Annotated[list[str] | None, typer.Argument(help="Signature ids to test (default: all).")] = None,
    files: Annotated[
        list[Path] | None,
        typer.Option("--file", help="Also test this signature file (e.g. a suggested draft)."),
    ] = None,
    corpus: Annotated[
        Path | None,
        typer.Option("--corpus", help="Corpus folder the signatures' corpus paths are relative to."),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Run each signature's samples (positive, negative, known misses) and named corpus models.

    Exits 1 when any check fails.
    """
    from modelgenes.signatures.proof import DEFAULT_CORPUS, check_signature

    library = load_library(extra=files or ())
    if ids:
        chosen = [library.get(i) for i in ids]
    elif files:
        chosen = [s for s in library.signatures if Path(s.path) in {Path(f) for f in files}]
    else:
        chosen = list(library.signatures)
    rows = []
    for sig in chosen:
        for c in check_signature(sig, corpus or DEFAULT_CORPUS):
            status = "skip" if c.skipped else ("pass" if c.passed else "FAIL")
            rows.append(
                {
                    "signature": c.signature_id,
                    "kind": c.kind,
                    "subject": c.subject,
                    "result": status,
                    "detail": c.detail,
                }
            )
    emit_records(rows, fmt, title="signature tests")
    failed = sum(r["result"] == "FAIL" for r in rows)
    passed = sum(r["result"] == "pass" for r in rows)
    typer.echo(f"{passed} passed, {failed} failed", err=fmt is OutputFormat.json)
    if failed:
        raise ModelgenesError(f"{failed} signature check(s) failed")


@signatures_app.command("suggest")
def suggest(
    models: Annotated[list[Path], typer.Argument(help="Models of the family (two or more recommended).")],
    family: Annotated[str, typer.Option("--family", help="Family the draft signature is for.")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the draft YAML here (default: stdout).")
    ] = None,
    against: Annotated[
        list[Path] | None,
        typer.Option("--against", help="Models of other families the draft must not match."),
    ] = None,
) -> None:
    """Mine a draft signature: a subgraph recurring in all MODELS and absent from every other family.

    The draft lists the models under corpus.match; add samples and run 'signatures test --file DRAFT'.
    """
    from modelgenes.ingest.formats import read_model
    from modelgenes.signatures.mine import suggest as mine

    graphs = [read_model(m)[0] for m in models]
    others = [read_model(m)[0] for m in against or ()]
    result = mine(
        graphs, family, load_library(), sources=[_corpus_reference(m) for m in models], others=others
    )
    if out is None:
        sys.stdout.write(result.yaml_text)
        return
    try:
        out.write_text(result.yaml_text, encoding="utf-8")
    except OSError as e:
        raise ModelgenesError(f"{out}: cannot write the draft: {e.strerror or e}") from e
    typer.echo(f"wrote {out} ({result.nodes} pattern nodes, {result.candidates} distinctive neighbourhoods)")


def _corpus_reference(model: Path) -> str:
    """How a draft names a model so that 'signatures test' finds it again: relative to the default
    corpus when it lies there (as the library's own signatures do), else by absolute path."""
    from modelgenes.signatures.proof import DEFAULT_CORPUS

    resolved = model.resolve()
    return (
        resolved.relative_to(DEFAULT_CORPUS).as_posix()
        if resolved.is_relative_to(DEFAULT_CORPUS)
        else str(resolved)
    )
