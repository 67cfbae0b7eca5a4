"""Signatures as data: the ``Signature`` value, the family table, and loading both from YAML.

A signature file (``library/<family>/<name>.yaml``, format in ``docs/signatures.md``) describes one
recurring subgraph of canonical ops: pattern nodes (allowed ops, optional flag, conditions on
attributes), data-flow edges between them, how many non-overlapping instances make the evidence,
its weight, and its proof (named sample graphs and corpus models that must or must not match).
``families.yaml`` names each family's display name, modality and curated ``variant_of`` relation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from modelgenes.errors import ModelgenesError

__all__ = [
    "BROAD",
    "FAMILY",
    "LIBRARY_DIR",
    "Condition",
    "Edge",
    "Family",
    "Library",
    "PatternNode",
    "Signature",
    "SignatureError",
    "load_library",
    "load_signature",
]

LIBRARY_DIR = Path(__file__).parent / "library"
FAMILIES_FILE = Path(__file__).parent / "families.yaml"
SCHEMA_FILE = Path(__file__).parent / "schema.json"

FAMILY = "family"  # a signature that names its family by itself
BROAD = "broad"  # a signature shared across families: relatedness evidence only
BROAD_FOLDER = "_broad"
MODALITIES = ("vision", "text", "audio", "multimodal")
CONDITION_OPS = ("eq", "in", "not", "min", "max")

_ID_RE = re.compile(r"^(?P<family>[a-z0-9_]+)/(?P<name>[a-z0-9][a-z0-9_-]*)@(?P<version>[0-9]+)$")
_NODE_ID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SignatureError(ModelgenesError):
    """A signature or family file is malformed; names the file and the cause."""

    def __init__(self, path: str | Path, cause: str) -> None:
        self.path = str(path)
        self.cause = cause
        super().__init__(f"{self.path}: bad signature file: {cause}")


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition on a node property (an attribute or a derived property, see ``match.node_property``).

    ``op`` is ``eq`` (equal), ``in`` (one of ``value``), ``not`` (not equal), ``min`` / ``max`` (bounds).
    """

    key: str
    op: str
    value: Any

    def describe(self) -> str:
        """Human form used in explanations: ``kernel == [3, 3]``."""
        symbol = {"eq": "==", "in": "in", "not": "!=", "min": ">=", "max": "<="}[self.op]
        return f"{self.key} {symbol} {self.value!r}"


@dataclass(frozen=True, slots=True)
class PatternNode:
    """A pattern node: allowed canonical ops (alternatives), optional flag, conditions."""

    id: str
    ops: frozenset[str]
    optional: bool = False
    where: tuple[Condition, ...] = ()

    def describe(self) -> str:
        ops = "|".join(sorted(self.ops))
        return f"{self.id}:{ops}" + ("?" if self.optional else "")


@dataclass(frozen=True, slots=True)
class Edge:
    """Data flows from ``src`` to ``dst``: directly, or through at most ``max_hops`` intermediate nodes
    whose ops are all in ``via`` (layout plumbing such as Reshape/Transpose that exporters vary)."""

    src: str
    dst: str
    via: frozenset[str] = frozenset()
    max_hops: int = 0

    def describe(self) -> str:
        if not self.via:
            return f"{self.src} → {self.dst}"
        return f"{self.src} ⇝ {self.dst} (via ≤{self.max_hops} of {'|'.join(sorted(self.via))})"


@dataclass(frozen=True, slots=True)
class Samples:
    """Names of sample builders (``signatures.samples``): must match, must not, known misses."""

    positive: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()
    known_miss: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CorpusExpectations:
    """Corpus model paths (as in labels.csv) that must match and must not match."""

    match: tuple[str, ...] = ()
    no_match: tuple[str, ...] = ()


@dataclass(frozen=True)
class Signature:
    """One signature file, parsed. ``id`` is ``family/name@version``."""

    id: str
    family: str
    specificity: str
    description: str
    nodes: tuple[PatternNode, ...]
    edges: tuple[Edge, ...]
    min_repetitions: int = 1
    weight: float = 0.8
    references: tuple[str, ...] = ()
    samples: Samples = field(default_factory=Samples)
    corpus: CorpusExpectations = field(default_factory=CorpusExpectations)
    unless: tuple[str, ...] = ()  # signature ids whose presence in the graph vetoes this one's evidence
    path: str = ""

    @property
    def name(self) -> str:
        return self.id.split("/", 1)[1].split("@", 1)[0]

    @property
    def is_broad(self) -> bool:
        return self.specificity == BROAD

    def node(self, node_id: str) -> PatternNode:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise KeyError(node_id)


@dataclass(frozen=True, slots=True)
class Family:
    """A family of the library: id (``resnet``), display name, modality, curated parent variant."""

    id: str
    name: str
    modality: str
    variant_of: str | None = None


@dataclass(frozen=True)
class Library:
    """All signatures and families, plus the score a family needs to be claimed."""

    signatures: tuple[Signature, ...]
    families: Mapping[str, Family]
    threshold: float = 0.5

    def get(self, signature_id: str) -> Signature:
        """The signature with this id, or with this id at its latest version when no ``@`` is given."""
        found = [s for s in self.signatures if s.id == signature_id or s.id.split("@")[0] == signature_id]
        if not found:
            raise ModelgenesError(f"no signature {signature_id!r} in the library (see 'signatures list')")
        return max(found, key=lambda s: int(s.id.rsplit("@", 1)[1]))

    def of_family(self, family: str) -> tuple[Signature, ...]:
        return tuple(s for s in self.signatures if s.family == family)


def _fail(path: Path, cause: str) -> SignatureError:
    return SignatureError(path, cause)


def _as_tuple(value: Any, path: Path, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(path, f"{what} must be a string or a list of strings")
    return tuple(value)


def _freeze(value: Any) -> Any:
    """Lists become tuples so conditions compare with attribute tuples and hash."""
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _conditions(raw: Any, path: Path, node_id: str) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise _fail(path, f"node {node_id}: 'where' must be a mapping of property → value")
    out = []
    for key, spec in raw.items():
        if isinstance(spec, dict):
            if len(spec) != 1 or next(iter(spec)) not in CONDITION_OPS:
                raise _fail(path, f"node {node_id}: condition on {key!r} must be one of {CONDITION_OPS}")
            op, value = next(iter(spec.items()))
            if op == "in":
                if not isinstance(value, list):
                    raise _fail(path, f"node {node_id}: 'in' on {key!r} needs a list")
                value = tuple(_freeze(v) for v in value)
            else:
                value = _freeze(value)
            out.append(Condition(str(key), op, value))
        else:
            out.append(Condition(str(key), "eq", _freeze(spec)))
    return tuple(out)


def parse_signature(data: Any, path: Path) -> Signature:
    """A ``Signature`` from one file's parsed YAML; ``SignatureError`` naming the file and problem."""
    if not isinstance(data, dict):
        raise _fail(path, "top level must be a mapping")
    for key in ("id", "family", "specificity", "description", "pattern"):
        if key not in data:
            raise _fail(path, f"missing required key {key!r}")
    sig_id = str(data["id"])
    m = _ID_RE.match(sig_id)
    if not m:
        raise _fail(path, f"id {sig_id!r} is not family/name@version")
    family = str(data["family"])
    specificity = str(data["specificity"])
    if specificity not in (FAMILY, BROAD):
        raise _fail(path, f"specificity must be {FAMILY!r} or {BROAD!r}, not {specificity!r}")
    if m["family"] != family:
        raise _fail(path, f"id {sig_id!r} does not start with its family {family!r}")
    if specificity == BROAD and family != BROAD_FOLDER:
        raise _fail(path, f"a broad signature belongs to the {BROAD_FOLDER!r} pseudo-family")
    if specificity == FAMILY and family == BROAD_FOLDER:
        raise _fail(path, f"a {BROAD_FOLDER!r} signature must have specificity {BROAD!r}")
    pattern = data["pattern"]
    if not isinstance(pattern, dict) or not isinstance(pattern.get("nodes"), list) or not pattern["nodes"]:
        raise _fail(path, "pattern needs a non-empty 'nodes' list")
    nodes: list[PatternNode] = []
    for raw in pattern["nodes"]:
        if not isinstance(raw, dict) or "id" not in raw or "op" not in raw:
            raise _fail(path, "each pattern node needs 'id' and 'op'")
        node_id = str(raw["id"])
        if not _NODE_ID_RE.match(node_id):
            raise _fail(path, f"pattern node id {node_id!r} is not an identifier")
        ops = _as_tuple(raw["op"], path, f"node {node_id}: op")
        if not ops:
            raise _fail(path, f"node {node_id}: needs at least one op")
        nodes.append(
            PatternNode(
                node_id,
                frozenset(ops),
                bool(raw.get("optional", False)),
                _conditions(raw.get("where"), path, node_id),
            )
        )
    ids = [n.id for n in nodes]
    if len(set(ids)) != len(ids):
        raise _fail(path, "pattern node ids must be unique")
    if all(n.optional for n in nodes):
        raise _fail(path, "a pattern needs at least one node that is not optional")
    if sum(n.optional for n in nodes) > 4:
        raise _fail(path, "at most 4 optional nodes per pattern (each doubles the variants tried)")
    edges: list[Edge] = []
    for raw_edge in pattern.get("edges") or []:
        if isinstance(raw_edge, list) and len(raw_edge) == 2:
            edge = Edge(str(raw_edge[0]), str(raw_edge[1]))
        elif isinstance(raw_edge, dict) and "from" in raw_edge and "to" in raw_edge:
            via = _as_tuple(raw_edge.get("via"), path, "edge via")
            hops = int(raw_edge.get("max_hops", 3 if via else 0))
            if via and not 1 <= hops <= 8:
                raise _fail(path, f"edge {raw_edge!r}: max_hops must be 1..8")
            edge = Edge(str(raw_edge["from"]), str(raw_edge["to"]), frozenset(via), hops if via else 0)
        else:
            raise _fail(path, f"edge {raw_edge!r} must be [from, to] or {{from, to, via, max_hops}}")
        if edge.src not in ids or edge.dst not in ids:
            raise _fail(path, f"edge {edge.describe()} names a node not in the pattern")
        if edge.src == edge.dst:
            raise _fail(path, f"edge {edge.describe()} is a self-loop")
        edges.append(edge)
    _check_connected(path, ids, edges)
    samples = data.get("samples") or {}
    corpus = data.get("corpus") or {}
    if not isinstance(samples, dict) or not isinstance(corpus, dict):
        raise _fail(path, "'samples' and 'corpus' must be mappings")
    weight = float(data.get("weight", 0.8))
    if not 0.0 < weight <= 1.0:
        raise _fail(path, "weight must be in (0, 1]")
    min_rep = int(data.get("min_repetitions", 1))
    if min_rep < 1:
        raise _fail(path, "min_repetitions must be at least 1")
    return Signature(
        id=sig_id,
        family=family,
        specificity=specificity,
        description=str(data["description"]).strip(),
        nodes=tuple(nodes),
        edges=tuple(edges),
        min_repetitions=min_rep,
        weight=weight,
        references=_as_tuple(data.get("references"), path, "references"),
        samples=Samples(
            _as_tuple(samples.get("positive"), path, "samples.positive"),
            _as_tuple(samples.get("negative"), path, "samples.negative"),
            _as_tuple(samples.get("known_miss"), path, "samples.known_miss"),
        ),
        corpus=CorpusExpectations(
            _as_tuple(corpus.get("match"), path, "corpus.match"),
            _as_tuple(corpus.get("no_match"), path, "corpus.no_match"),
        ),
        unless=_as_tuple(data.get("unless"), path, "unless"),
        path=str(path),
    )


def _check_connected(path: Path, ids: list[str], edges: list[Edge]) -> None:
    # The matcher grows an instance along edges from one anchor: every node must be reachable.
    adjacent: dict[str, set[str]] = {i: set() for i in ids}
    for e in edges:
        a, b = e.src, e.dst
        adjacent[a].add(b)
        adjacent[b].add(a)
    seen = {ids[0]}
    todo = [ids[0]]
    while todo:
        for nxt in adjacent[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    if len(seen) != len(ids):
        raise _fail(path, f"pattern is not connected: {sorted(set(ids) - seen)} unreachable")


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise _fail(path, e.strerror or str(e)) from e
    except yaml.YAMLError as e:
        raise _fail(path, f"not valid YAML: {e}") from e


def load_signature(path: str | Path) -> Signature:
    """Parse one signature file."""
    path = Path(path)
    return parse_signature(_read_yaml(path), path)


def load_families(path: Path = FAMILIES_FILE) -> tuple[dict[str, Family], float]:
    """The family table and the claim threshold from ``families.yaml``."""
    data = _read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("families"), dict):
        raise _fail(path, "needs a 'families' mapping")
    families: dict[str, Family] = {}
    for fid, raw in data["families"].items():
        if not isinstance(raw, dict) or raw.get("modality") not in MODALITIES:
            raise _fail(path, f"family {fid}: modality must be one of {MODALITIES}")
        families[str(fid)] = Family(
            str(fid), str(raw.get("name", fid)), raw["modality"], raw.get("variant_of")
        )
    for fam in families.values():
        if fam.variant_of is not None and fam.variant_of not in families:
            raise _fail(path, f"family {fam.id}: variant_of {fam.variant_of!r} is not a family")
    return families, float(data.get("threshold", 0.5))


def signature_files(root: Path = LIBRARY_DIR) -> list[Path]:
    """Every ``*.yaml`` under the library folder, sorted."""
    return sorted(root.glob("*/*.yaml"))


def load_library(root: str | Path | None = None, extra: Iterable[str | Path] = ()) -> Library:
    """The whole library (cached for the default folder); ``extra`` adds signature files (drafts)."""
    if root is None and not extra:
        return _default_library()
    return _load(Path(root) if root else LIBRARY_DIR, tuple(Path(p) for p in extra))


@cache
def _default_library() -> Library:
    return _load(LIBRARY_DIR, ())


def _load(root: Path, extra: tuple[Path, ...]) -> Library:
    families, threshold = load_families()
    signatures = []
    seen: dict[str, str] = {}
    for path in [*signature_files(root), *extra]:
        sig = load_signature(path)
        if sig.family != path.parent.name and path not in extra:
            raise _fail(path, f"family {sig.family!r} does not match its folder {path.parent.name!r}")
        if sig.family != BROAD_FOLDER and sig.family not in families and path not in extra:
            raise _fail(path, f"family {sig.family!r} is not in families.yaml")
        if sig.id in seen:
            raise _fail(path, f"duplicate id {sig.id!r} (also in {seen[sig.id]})")
        seen[sig.id] = str(path)
        signatures.append(sig)
    for sig in signatures:
        for other in sig.unless:
            if other not in seen:
                raise _fail(Path(sig.path), f"unless names {other!r}, which is not in the library")
    return Library(tuple(signatures), families, threshold)
