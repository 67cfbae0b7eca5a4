"""Running a signature's proof: its samples (positive, negative, known misses) and named corpus models.

``check_signature`` returns one ``Check`` per sample or corpus model. A known miss passes while the
signature still misses it (it is an xfail: when it starts matching, the check says so and the sample
should move to ``positive``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from modelgenes.errors import ModelgenesError
from modelgenes.ingest.graph import ModelGraph
from modelgenes.signatures.match import GraphIndex, explain, match_signature
from modelgenes.signatures.model import Signature
from modelgenes.signatures.samples import sample_graph

__all__ = ["DEFAULT_CORPUS", "Check", "check_signature"]

# The labelled corpus of a source checkout (tests/data/zoo beside the package).
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "tests" / "data" / "zoo"

POSITIVE, NEGATIVE, KNOWN_MISS = "positive", "negative", "known_miss"
CORPUS_MATCH, CORPUS_NO_MATCH = "corpus_match", "corpus_no_match"


@dataclass(frozen=True)
class Check:
    """One proof item: which signature, what kind, on what, whether it passed, and why."""

    signature_id: str
    kind: str
    subject: str
    passed: bool
    detail: str = ""
    skipped: bool = False


@cache
def _corpus_graph(path: str) -> ModelGraph:
    from modelgenes.ingest.formats import read_model

    return read_model(path)[0]


def _matches(graph: ModelGraph, sig: Signature) -> tuple[bool, str]:
    index = GraphIndex(graph)
    found = match_signature(index, sig)
    if found.count >= sig.min_repetitions:
        return True, f"{found.count} instance(s)"
    return False, " / ".join(explain(index, sig).lines()[1:])


def check_signature(
    sig: Signature,
    corpus_dir: Path | None = DEFAULT_CORPUS,
    read_corpus: Callable[[str], ModelGraph] = _corpus_graph,
) -> list[Check]:
    """Every sample and named corpus model of ``sig``, checked."""
    from modelgenes.signatures.eval import resolve_corpus_path

    checks: list[Check] = []
    items = [(POSITIVE, s) for s in sig.samples.positive]
    items += [(NEGATIVE, s) for s in sig.samples.negative]
    items += [(KNOWN_MISS, s) for s in sig.samples.known_miss]
    for kind, name in items:
        try:
            graph = sample_graph(name)
        except ModelgenesError as e:
            checks.append(Check(sig.id, kind, name, False, str(e)))
            continue
        hit, detail = _matches(graph, sig)
        passed = hit if kind == POSITIVE else not hit
        if kind == KNOWN_MISS and hit:
            detail = "now matches: move it to positive samples"
        checks.append(Check(sig.id, kind, name, passed, detail))
    corpus = [(CORPUS_MATCH, p) for p in sig.corpus.match] + [
        (CORPUS_NO_MATCH, p) for p in sig.corpus.no_match
    ]
    for kind, rel in corpus:
        path = resolve_corpus_path(corpus_dir or ".", rel)
        if corpus_dir is None or not path.exists():
            checks.append(Check(sig.id, kind, rel, True, "corpus model not available", skipped=True))
            continue
        try:
            graph = read_corpus(str(path))
        except ModelgenesError as e:
            checks.append(Check(sig.id, kind, rel, False, str(e)))
            continue
        hit, detail = _matches(graph, sig)
        checks.append(Check(sig.id, kind, rel, hit == (kind == CORPUS_MATCH), detail))
    return checks
