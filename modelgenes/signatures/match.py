"""The matcher: every non-overlapping instance of a signature's pattern in a ``ModelGraph``.

An anchored backtracking matcher of our own: for each pattern variant (optional nodes present or
bypassed) it anchors on the pattern node whose ops are rarest in the graph, then grows the instance
along pattern edges, so each step only looks at the successors or predecessors of a node already
matched. Instances are taken greedily in graph order and never share a node. On a miss,
``explain`` reports the deepest partial instance and the node and condition where it failed.

Node properties usable in ``where`` conditions: any kept attribute (``group``, ``kernel_shape``,
``strides``, ``perm``, ``axis``, ...) and the derived ones in ``node_property``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from modelgenes.ingest.graph import ModelGraph
from modelgenes.signatures.model import Condition, Edge, PatternNode, Signature

__all__ = [
    "DERIVED_PROPERTIES",
    "Explanation",
    "GraphIndex",
    "Match",
    "explain",
    "match_all",
    "match_signature",
]

DERIVED_PROPERTIES = {
    "kernel": "kernel size (kernel_shape, else the weight's spatial dims)",
    "rank": "number of spatial dims of a Conv/pool (1 for Conv1d, 2 for Conv2d)",
    "depthwise": "Conv with group > 1 and one input channel per group",
    "grouped": "Conv with group > 1",
    "pointwise": "Conv whose kernel is all ones",
    "patchify": "Conv whose strides equal its kernel, kernel > 1 (patch embedding)",
    "consumers": "number of nodes consuming this node's outputs",
    "producers": "number of nodes feeding this node",
    "const_inputs": "number of inputs that are initializers or constants",
    "weight_rows": "first dimension of the first weight input (Gather table rows, Conv out channels)",
    "quantised": "came from a quantised op",
    "op": "the canonical op",
    "original_op": "the op(s) as written in the file",
}


@dataclass(frozen=True)
class Match:
    """Instances of one signature in one graph: node indices and names per instance, coverage."""

    signature_id: str
    instances: tuple[tuple[int, ...], ...]  # graph node indices of each instance (present nodes only)
    names: tuple[tuple[str, ...], ...]
    coverage: float  # share of the graph's nodes inside an instance

    @property
    def count(self) -> int:
        return len(self.instances)


@dataclass(frozen=True)
class Explanation:
    """Why a signature did (not) match: the closest partial instance and where it stopped."""

    signature_id: str
    matched: bool
    count: int
    partial: tuple[tuple[str, str], ...]  # (pattern node id, graph node name) of the closest attempt
    failed_node: str | None  # pattern node id the closest attempt could not place
    reason: str

    def lines(self) -> list[str]:
        """Human-readable explanation, one fact per line."""
        if self.matched:
            return [f"{self.signature_id}: matched {self.count} instance(s)"]
        out = [f"{self.signature_id}: no match"]
        if self.partial:
            out.append(
                f"closest partial instance ({len(self.partial)} node(s)): "
                + ", ".join(f"{p}={g}" for p, g in self.partial)
            )
        out.append(f"failed at {self.failed_node or '-'}: {self.reason}")
        return out


class GraphIndex:
    """Adjacency, op index, topological ranks and cached node properties of one ``ModelGraph``."""

    def __init__(self, graph: ModelGraph) -> None:
        self.graph = graph
        n = len(graph.nodes)
        self.succ: list[list[int]] = [[] for _ in range(n)]
        self.pred: list[list[int]] = [[] for _ in range(n)]
        for a, b in graph.edges:
            self.succ[a].append(b)
            self.pred[b].append(a)
        self.edge_set = set(graph.edges)
        self.by_op: dict[str, list[int]] = {}
        for i, node in enumerate(graph.nodes):
            self.by_op.setdefault(node.op, []).append(i)
        self.weights = {i.name: i.shape for i in graph.initializers}
        self.constants = set(graph.constants)
        self._props: dict[tuple[int, str], Any] = {}
        self._reach: dict[tuple[int, bool, frozenset[str], int], list[int]] = {}
        self._topo: list[int] | None = None

    def reach(self, i: int, forward: bool, via: frozenset[str], max_hops: int) -> list[int]:
        """Nodes one edge away from ``i``, or reached through at most ``max_hops`` nodes whose ops are in
        ``via`` (forward: along data flow; else against it), nearest first."""
        adjacency = self.succ if forward else self.pred
        if not via:
            return list(dict.fromkeys(adjacency[i]))
        key = (i, forward, via, max_hops)
        found = self._reach.get(key)
        if found is not None:
            return found
        out: dict[int, None] = {}
        frontier = [i]
        seen = {i}
        for hop in range(max_hops + 1):
            nxt: list[int] = []
            for f in frontier:
                for j in adjacency[f]:
                    if j in seen:
                        continue
                    seen.add(j)
                    out[j] = None
                    if hop < max_hops and self.graph.nodes[j].op in via:
                        nxt.append(j)
            frontier = nxt
        found = list(out)
        self._reach[key] = found
        return found

    def connected(self, a: int, b: int, edge: Edge) -> bool:
        """True when data flows from ``a`` to ``b`` as ``edge`` allows."""
        if not edge.via:
            return (a, b) in self.edge_set
        return b in self.reach(a, True, edge.via, edge.max_hops)

    def candidates(self, ops: Iterable[str]) -> list[int]:
        out: list[int] = []
        for op in ops:
            out.extend(self.by_op.get(op, ()))
        return sorted(out)

    def op_count(self, ops: Iterable[str]) -> int:
        return sum(len(self.by_op.get(op, ())) for op in ops)

    @property
    def topo_rank(self) -> list[int]:
        """Each node's position in a topological order (Kahn; nodes on a cycle keep file order)."""
        if self._topo is None:
            n = len(self.graph.nodes)
            indeg = [len(set(p)) for p in self.pred]
            ready = [i for i in range(n) if indeg[i] == 0]
            ready.reverse()
            order: list[int] = []
            seen = [False] * n
            while ready:
                i = ready.pop()
                seen[i] = True
                order.append(i)
                for j in sorted(set(self.succ[i]), reverse=True):
                    indeg[j] -= 1
                    if indeg[j] == 0:
                        ready.append(j)
            order.extend(i for i in range(n) if not seen[i])
            rank = [0] * n
            for pos, i in enumerate(order):
                rank[i] = pos
            self._topo = rank
        return self._topo

    def prop(self, i: int, key: str) -> Any:
        """A node property: an attribute, or one of ``DERIVED_PROPERTIES`` (None when not known)."""
        cache_key = (i, key)
        if cache_key in self._props:
            return self._props[cache_key]
        value = self._compute(i, key)
        self._props[cache_key] = value
        return value

    def _weight_shape(self, i: int) -> tuple[int, ...] | None:
        for name in self.graph.nodes[i].inputs[1:]:
            shape = self.weights.get(name)
            if shape is not None and len(shape) >= 1:
                return shape
        return None

    def _compute(self, i: int, key: str) -> Any:
        node = self.graph.nodes[i]
        attrs = node.attributes
        if key == "op":
            return node.op
        if key == "original_op":
            return node.original_op
        if key == "quantised":
            return node.quantised
        if key == "consumers":
            return len(set(self.succ[i]))
        if key == "producers":
            return len(set(self.pred[i]))
        if key == "const_inputs":
            return sum(1 for t in node.inputs if t and (t in self.weights or t in self.constants))
        if key == "weight_rows":
            for name in node.inputs:
                shape = self.weights.get(name)
                if shape:
                    return shape[0]
            return None
        if key == "kernel":
            k = attrs.get("kernel_shape")
            if k is not None:
                return tuple(k)
            w = self._weight_shape(i)
            return tuple(w[2:]) if w is not None and len(w) > 2 else None
        if key == "rank":
            k = self.prop(i, "kernel")
            return len(k) if k is not None else None
        if key in ("grouped", "depthwise"):
            w = self._weight_shape(i)
            if "group" not in attrs and node.op == "Conv":
                # Some readers drop a quantised conv's attributes: infer from the weight (one input
                # channel per group, several outputs, a spatial kernel) rather than guess "not grouped".
                k = w[2:] if w is not None else ()
                return w is not None and len(w) > 2 and w[1] == 1 and w[0] > 1 and max(k, default=1) > 1
            group = int(attrs.get("group", 1) or 1)
            if key == "grouped" or group <= 1:
                return group > 1
            return w is None or (len(w) > 1 and w[1] == 1)
        if key == "pointwise":
            k = self.prop(i, "kernel")
            return k is not None and all(d == 1 for d in k)
        if key == "patchify":
            k = self.prop(i, "kernel")
            s = attrs.get("strides")
            return k is not None and s is not None and tuple(s) == tuple(k) and max(k) > 1
        value = attrs.get(key)
        if isinstance(value, list):
            return tuple(value)
        return value


def _check(cond: Condition, value: Any) -> bool:
    if cond.op == "eq":
        return bool(value == cond.value)
    if cond.op == "in":
        return value in cond.value
    if cond.op == "not":
        return bool(value != cond.value)
    if value is None:
        return False
    try:
        if cond.op == "min":
            return bool(value >= cond.value)
        return bool(value <= cond.value)
    except TypeError:
        return False


def _node_fails(index: GraphIndex, pnode: PatternNode, i: int) -> str | None:
    """None when graph node ``i`` satisfies the pattern node, else the reason it does not."""
    node = index.graph.nodes[i]
    if node.op not in pnode.ops:
        return f"{node.name} is {node.op}, expected {'|'.join(sorted(pnode.ops))}"
    for cond in pnode.where:
        value = index.prop(i, cond.key)
        if not _check(cond, value):
            return f"{node.name} ({node.op}) fails {cond.describe()}: it has {value!r}"
    return None


@dataclass(frozen=True)
class _Step:
    pnode: PatternNode
    via: int  # position in the plan of an already placed node it hangs off (-1 for the anchor)
    forward: bool  # True: candidates are downstream of ``via``; False: upstream
    link: Edge | None  # the pattern edge that connects it to ``via``
    # Other placed positions joined to this one by an edge: (position, edge points to this node, edge).
    checks: tuple[tuple[int, bool, Edge], ...]


@dataclass(frozen=True)
class _Plan:
    steps: tuple[_Step, ...]
    present: frozenset[str]


def _variants(sig: Signature) -> list[tuple[frozenset[str], list[Edge]]]:
    """Each choice of present optional nodes (most present first) with its edges; absent optional
    nodes are bypassed: their predecessors connect straight to their successors."""
    optional = [n.id for n in sig.nodes if n.optional]
    out = []
    for k in range(len(optional), -1, -1):
        for absent in itertools.combinations(optional, len(optional) - k):
            present = frozenset(n.id for n in sig.nodes if n.id not in absent)
            edges = list(sig.edges)
            for gone in absent:
                ins = [e for e in edges if e.dst == gone]
                outs = [e for e in edges if e.src == gone]
                edges = [e for e in edges if gone not in (e.src, e.dst)]
                for a in ins:
                    for b in outs:
                        if a.src == b.dst:
                            continue
                        via = a.via | b.via
                        edges.append(Edge(a.src, b.dst, via, a.max_hops + b.max_hops if via else 0))
            out.append((present, list(dict.fromkeys(edges))))
    return out


def _plan(
    sig: Signature,
    index: GraphIndex,
    present: frozenset[str],
    edges: list[Edge],
    anchor_id: str | None = None,
) -> _Plan:
    nodes = [n for n in sig.nodes if n.id in present]
    anchor = next((n for n in nodes if n.id == anchor_id), None) or min(
        nodes, key=lambda n: (index.op_count(n.ops), -len(n.where))
    )
    order = [anchor]
    pos = {anchor.id: 0}
    steps = [_Step(anchor, -1, True, None, ())]
    remaining = {n.id: n for n in nodes if n.id != anchor.id}
    while remaining:
        best: tuple[tuple[int, int], PatternNode, int, bool, Edge] | None = None
        for e in edges:
            for placed, other, forward in ((e.src, e.dst, True), (e.dst, e.src, False)):
                if placed in pos and other in remaining:
                    cand = remaining[other]
                    # Prefer direct edges, then the rarest ops.
                    score = (1 if e.via else 0, index.op_count(cand.ops))
                    if best is None or score < best[0]:
                        best = (score, cand, pos[placed], forward, e)
        if best is None:  # disconnected after bypassing: cannot happen for validated patterns
            break
        _, pnode, via, forward, link = best
        checks = []
        for e in edges:
            if e is link:
                continue
            if e.dst == pnode.id and e.src in pos:
                checks.append((pos[e.src], True, e))
            elif e.src == pnode.id and e.dst in pos:
                checks.append((pos[e.dst], False, e))
        pos[pnode.id] = len(order)
        order.append(pnode)
        steps.append(_Step(pnode, via, forward, link, tuple(checks)))
        del remaining[pnode.id]
    return _Plan(tuple(steps), present)


class _Search:
    """Backtracking over one plan, remembering the deepest failure for explanations."""

    def __init__(self, index: GraphIndex, plan: _Plan, used: set[int]) -> None:
        self.index = index
        self.plan = plan
        self.used = used
        self.best_depth = -1
        self.best_partial: list[int] = []
        self.best_reason = ""
        self.best_node = ""

    def _fail(self, depth: int, assigned: list[int], reason: str) -> None:
        if depth > self.best_depth:
            self.best_depth = depth
            self.best_partial = list(assigned)
            self.best_reason = reason
            self.best_node = self.plan.steps[depth].pnode.id

    def run(self, anchor: int) -> list[int] | None:
        step = self.plan.steps[0]
        if anchor in self.used:
            return None
        why = _node_fails(self.index, step.pnode, anchor)
        if why:
            self._fail(0, [], why)
            return None
        assigned = [anchor]
        if self._extend(assigned, {anchor}):
            return assigned
        return None

    def _extend(self, assigned: list[int], taken: set[int]) -> bool:
        depth = len(assigned)
        if depth == len(self.plan.steps):
            return True
        step = self.plan.steps[depth]
        base = assigned[step.via]
        assert step.link is not None
        pool = self.index.reach(base, step.forward, step.link.via, step.link.max_hops)
        base_name = self.index.graph.nodes[base].name
        direction = "consumer" if step.forward else "producer"
        if not pool:
            self._fail(depth, assigned, f"{base_name} has no {direction} to be {step.pnode.describe()}")
            return False
        last_reason = ""
        for cand in pool:
            if cand in taken or cand in self.used:
                last_reason = f"{self.index.graph.nodes[cand].name} is already part of an instance"
                continue
            why = _node_fails(self.index, step.pnode, cand)
            if why:
                last_reason = f"no {direction} of {base_name} fits {step.pnode.describe()} ({why})"
                continue
            bad = None
            for other, to_cand, edge in step.checks:
                pair = (assigned[other], cand) if to_cand else (cand, assigned[other])
                if not self.index.connected(pair[0], pair[1], edge):
                    src, dst = (self.index.graph.nodes[p].name for p in pair)
                    bad = (
                        f"{self.index.graph.nodes[cand].name} fits but {src} does not feed {dst} "
                        f"({edge.describe()})"
                    )
                    break
            if bad:
                last_reason = bad
                continue
            assigned.append(cand)
            taken.add(cand)
            if self._extend(assigned, taken):
                return True
            assigned.pop()
            taken.discard(cand)
        self._fail(depth, assigned, last_reason)
        return False

    def partial_names(self) -> tuple[tuple[str, str], ...]:
        return tuple(
            (self.plan.steps[k].pnode.id, self.index.graph.nodes[g].name)
            for k, g in enumerate(self.best_partial)
        )


def _plans(sig: Signature, index: GraphIndex) -> list[_Plan]:
    return [_plan(sig, index, present, edges) for present, edges in _variants(sig)]


def _order_instance(plan: _Plan, assigned: Sequence[int]) -> tuple[int, ...]:
    return tuple(sorted(assigned))


def match_signature(graph: ModelGraph | GraphIndex, sig: Signature) -> Match:
    """All non-overlapping instances of ``sig`` (most-complete variants first, then graph order)."""
    index = graph if isinstance(graph, GraphIndex) else GraphIndex(graph)
    used: set[int] = set()
    instances: list[tuple[int, ...]] = []
    for plan in _plans(sig, index):
        if plan.steps[0].pnode.ops.isdisjoint(index.by_op):
            continue
        search = _Search(index, plan, used)
        for anchor in index.candidates(plan.steps[0].pnode.ops):
            found = search.run(anchor)
            if found is not None:
                used.update(found)
                instances.append(_order_instance(plan, found))
    instances.sort(key=lambda inst: min(index.topo_rank[i] for i in inst))
    nodes = index.graph.nodes
    total = len(nodes)
    covered = sum(len(inst) for inst in instances)
    return Match(
        sig.id,
        tuple(instances),
        tuple(tuple(nodes[i].name for i in inst) for inst in instances),
        covered / total if total else 0.0,
    )


def match_all(graph: ModelGraph | GraphIndex, signatures: Iterable[Signature]) -> list[Match]:
    """``match_signature`` for each signature over one shared index (signatures may overlap each other)."""
    index = graph if isinstance(graph, GraphIndex) else GraphIndex(graph)
    return [match_signature(index, sig) for sig in signatures]


def explain(graph: ModelGraph | GraphIndex, sig: Signature) -> Explanation:
    """Whether ``sig`` matches, and when it does not, the closest partial instance and why it failed."""
    index = graph if isinstance(graph, GraphIndex) else GraphIndex(graph)
    found = match_signature(index, sig)
    if found.count >= sig.min_repetitions:
        return Explanation(sig.id, True, found.count, (), None, "")
    if found.count:
        return Explanation(
            sig.id,
            False,
            found.count,
            tuple(zip((n.id for n in sig.nodes), found.names[0], strict=False)),
            None,
            f"{found.count} instance(s) found, min_repetitions is {sig.min_repetitions}",
        )
    # Anchor on every pattern node in turn: the closest partial instance may not contain the rarest op.
    best: _Search | None = None
    for present, edges in _variants(sig):
        for anchor_id in sorted(present):
            plan = _plan(sig, index, present, edges, anchor_id)
            search = _Search(index, plan, set())
            anchors = index.candidates(plan.steps[0].pnode.ops)
            if not anchors:
                if best is None:
                    search.best_node = anchor_id
                    ops = "|".join(sorted(plan.steps[0].pnode.ops))
                    search.best_reason = f"the graph has no {ops} node (pattern node {anchor_id})"
                    best = search
                continue
            for anchor in anchors:
                search.run(anchor)
            if best is None or search.best_depth > best.best_depth:
                best = search
    assert best is not None
    return Explanation(sig.id, False, 0, best.partial_names(), best.best_node, best.best_reason)
