"""Per-tensor weight sketches: a few hundred numbers per model that let two models' weights be compared
without either model at hand.

``sketch_weights(path)`` reads an ONNX file's weight tensors one at a time, streamed: the protobuf is
walked field by field with positioned reads (never parsed whole), a tensor's values are read by ranges
from the model file or its external-data file, in chunks of ``CHUNK`` elements. Memory stays bounded by a
chunk, whatever the model's size; a tensor larger than ``FULL_PASS_MAX`` elements has its statistics
estimated from ``STAT_BLOCKS`` blocks at positions fixed by its shape, so time is bounded too.

For each weight tensor of at least ``MIN_ELEMENTS`` elements that is floating point, or quantised
(int8/uint8 with a scale and zero point that the graph names: ``DequantizeLinear`` (QDQ), the
``MatMulInteger``/``ConvInteger`` weights of dynamic quantisation, ``QLinearMatMul``/``QLinearConv``, a
quantised ``Gather`` table) and then *dequantised*, the sketch keeps:

- its shape and stored element type;
- mean, standard deviation, L2 norm and the share of exact zeros (of the dequantised values);
- ``k`` values sampled at positions fixed by the shape alone (seeded by a hash of the shape), so two
  models with the same shapes sample the same positions and ``distance`` can estimate how far apart
  their tensors are. A 2-D tensor's positions are drawn on its sorted shape, so a transposed copy
  (``[in, out]`` vs ``[out, in]``) samples the same logical elements.

The model-level ``shapes_hash`` (a hash of the sorted tensor shapes) finds candidates in the knowledge
base: only models with the same hash (or the same architecture hash) are ever compared.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import math
import os
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from google.protobuf.message import DecodeError
from onnx import numpy_helper

from modelgenes.errors import ModelgenesError, UnreadableModel
from modelgenes.ingest.formats.protowire import read_varint

__all__ = [
    "MIN_ELEMENTS",
    "SKETCH_PROPS",
    "SKETCH_VERSION",
    "TensorSketch",
    "WeightComparison",
    "WeightSketch",
    "compare",
    "sample_positions",
    "sketch_arrays",
    "sketch_or_none",
    "sketch_weights",
]

SKETCH_VERSION = "ws1"  # stored with the sketch; sketches of another version are not compared
MIN_ELEMENTS = 256  # smaller tensors (biases, norms, scalars) say little and are left out
MAX_K = 64  # samples per tensor at most
MIN_K = 4  # ... and at least
SAMPLE_BUDGET = 2048  # samples per model: k = clamp(SAMPLE_BUDGET // tensors, MIN_K, MAX_K)
MAX_TENSORS = 384  # a model with more weight tensors is sketched on this many, evenly spread
PROBE_SIZE = 64  # samples in the probe, the short vector a first candidate filter compares
FULL_PASS_MAX = 1 << 24  # tensors up to this many elements are read whole for their statistics
STAT_BLOCKS = 64  # larger ones: this many blocks ...
BLOCK = 1 << 16  # ... of this many elements each
CHUNK = 1 << 20  # elements read at a time
_MAX_VARINT_TENSOR = 64 << 20  # a tensor stored as varints (int32_data) is decoded only below this

# TensorProto element types read as numbers (onnx.TensorProto.DataType values).
_FLOAT, _UINT8, _INT8, _FLOAT16, _DOUBLE, _BFLOAT16 = 1, 2, 3, 10, 11, 16
_NUMPY: dict[int, np.dtype[Any]] = {
    _FLOAT: np.dtype("<f4"),
    _UINT8: np.dtype("u1"),
    _INT8: np.dtype("i1"),
    _FLOAT16: np.dtype("<f2"),
    _DOUBLE: np.dtype("<f8"),
    _BFLOAT16: np.dtype("<u2"),
}
_FLOATS = frozenset({_FLOAT, _FLOAT16, _DOUBLE, _BFLOAT16})
_QUANTISED = frozenset({_UINT8, _INT8})
_DTYPE_NAMES: dict[int, str] = {v: k.lower() for k, v in onnx.TensorProto.DataType.items()}
# The Model node properties a sketch is stored in (``WeightSketch.to_props``).
SKETCH_PROPS = (
    "weightSketch",
    "shapesHash",
    "weightK",
    "weightShapes",
    "weightStats",
    "weightSamples",
    "weightProbe",
    "weightSkipped",
)


# --------------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TensorSketch:
    """One weight tensor, summarised: shape, stored type, statistics and samples (dequantised values)."""

    shape: tuple[int, ...]
    dtype: str  # element type as stored ("float", "float16", "int8" for a dequantised int8 tensor)
    mean: float
    std: float
    norm: float  # L2 norm
    zeros: float  # share of elements that are exactly zero
    samples: tuple[float, ...]  # values at ``sample_positions(shape, len(samples))``

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def canonical(self) -> tuple[int, ...]:
        """The shape a transposed copy shares: 2-D shapes sorted, others as they are."""
        return tuple(sorted(self.shape)) if len(self.shape) == 2 else self.shape

    @property
    def quantised(self) -> bool:
        return self.dtype in ("int8", "uint8")


@dataclass(frozen=True)
class WeightSketch:
    """A model's weight tensors, sketched (``tensors`` in file order), ``k`` samples each.

    ``skipped`` counts weight-like tensors left out (an element type or quantisation not read, a value
    store not decoded); ``warnings`` says why.
    """

    tensors: tuple[TensorSketch, ...]
    k: int
    skipped: int = 0
    warnings: tuple[str, ...] = ()
    version: str = SKETCH_VERSION

    @property
    def shapes_hash(self) -> str | None:
        """16 hex digits over the sorted canonical shapes; None when no tensor was sketched."""
        if not self.tensors:
            return None
        shapes = sorted("x".join(map(str, t.canonical)) for t in self.tensors)
        return hashlib.sha256(("\n".join(shapes)).encode()).hexdigest()[:16]

    @property
    def elements(self) -> int:
        return sum(t.size for t in self.tensors)

    @property
    def quantised(self) -> bool:
        return any(t.quantised for t in self.tensors)

    def probe(self) -> np.ndarray:
        """The first samples of each tensor, in file order, at most ``PROBE_SIZE`` values: equal length
        and positions for two models with the same shapes, so a cheap first filter can compare them."""
        if not self.tensors:
            return np.zeros(0, dtype=np.float32)
        per = max(1, min(self.k, -(-PROBE_SIZE // len(self.tensors))))
        values = [v for t in self.tensors for v in t.samples[:per]]
        return np.asarray(values[:PROBE_SIZE], dtype=np.float32)

    def to_props(self) -> dict[str, Any]:
        """Model node properties (at most about 20 KB): one shape string per tensor (``768x3072``, with
        ``/int8`` when not stored as float), the statistics (mean, std, norm, zeros per tensor) and the
        samples packed as base64 little-endian float32."""
        stats = np.asarray([(t.mean, t.std, t.norm, t.zeros) for t in self.tensors], dtype="<f4")
        samples = np.asarray([v for t in self.tensors for v in t.samples], dtype="<f4")
        return {
            "weightSketch": self.version,
            "shapesHash": self.shapes_hash,
            "weightK": self.k,
            "weightShapes": [
                "x".join(map(str, t.shape)) + ("" if t.dtype == "float" else f"/{t.dtype}")
                for t in self.tensors
            ],
            "weightStats": _pack(stats),
            "weightSamples": _pack(samples),
            "weightProbe": _pack(self.probe()),
            "weightSkipped": self.skipped,
        }

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> WeightSketch | None:
        """The sketch stored by ``to_props``; None when absent, of another version or damaged."""
        if props.get("weightSketch") != SKETCH_VERSION or not props.get("weightShapes"):
            return None
        try:
            k = int(props["weightK"])
            shapes = [str(x) for x in props["weightShapes"]]
            stats = _unpack(props["weightStats"]).reshape(-1, 4)
            samples = _unpack(props["weightSamples"]).reshape(-1)
        except (KeyError, TypeError, ValueError):
            return None
        if stats.shape[0] != len(shapes) or samples.size != k * len(shapes):
            return None
        tensors = []
        for i, text in enumerate(shapes):
            dims, _, dtype = text.partition("/")
            tensors.append(
                TensorSketch(
                    shape=tuple(int(d) for d in dims.split("x")) if dims else (),
                    dtype=dtype or "float",
                    mean=float(stats[i, 0]),
                    std=float(stats[i, 1]),
                    norm=float(stats[i, 2]),
                    zeros=float(stats[i, 3]),
                    samples=tuple(float(v) for v in samples[i * k : (i + 1) * k]),
                )
            )
        return cls(tensors=tuple(tensors), k=k, skipped=int(props.get("weightSkipped") or 0))


def _pack(values: np.ndarray) -> str:
    return base64.b64encode(np.asarray(values, dtype="<f4").tobytes()).decode("ascii")


def _unpack(text: Any) -> np.ndarray:
    return np.frombuffer(base64.b64decode(str(text), validate=True), dtype="<f4")


def sample_positions(shape: Sequence[int], k: int) -> np.ndarray:
    """Flat positions (row-major) of the ``k`` samples of a tensor of ``shape``: a function of the shape
    only, and the first ``k`` of the ``MAX_K`` positions (so sketches with different ``k`` share a prefix).
    A 2-D shape draws (row, column) pairs on its sorted form, so its transpose samples the same elements;
    a square one draws mirrored pairs, so its transpose samples them in swapped order.
    """
    shape = tuple(int(d) for d in shape)
    n = math.prod(shape)
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    canonical = tuple(sorted(shape)) if len(shape) == 2 else shape
    seed = int.from_bytes(
        hashlib.blake2b(f"{SKETCH_VERSION}:{canonical}".encode(), digest_size=8).digest(), "little"
    )
    rng = np.random.default_rng(seed)
    if len(shape) == 2 and shape[0] == shape[1]:
        # Square: mirrored pairs (u, v), (v, u), so that a transposed copy samples the same elements
        # in swapped pairs (``_mirror``).
        half = rng.integers(0, shape[0], (MAX_K // 2, 2))
        pairs = np.stack([half, half[:, ::-1]], axis=1).reshape(-1, 2)
        flat = pairs[:, 0] * shape[1] + pairs[:, 1]
    elif len(shape) == 2:
        small, large = canonical
        u = rng.integers(0, small, MAX_K)
        v = rng.integers(0, large, MAX_K)
        flat = u * shape[1] + v if shape[0] == small else v * shape[1] + u
    else:
        flat = rng.integers(0, n, MAX_K)
    return flat[:k].astype(np.int64)


def _stat_blocks(shape: Sequence[int], n: int) -> np.ndarray:
    """Start positions of the blocks that stand for a huge tensor's statistics (fixed by its shape)."""
    blocks = n // BLOCK
    digest = hashlib.blake2b(f"blocks:{tuple(shape)}".encode(), digest_size=8).digest()
    seed = int.from_bytes(digest, "little")
    chosen = np.random.default_rng(seed).choice(blocks, size=min(STAT_BLOCKS, blocks), replace=False)
    return np.sort(chosen).astype(np.int64) * BLOCK


# --------------------------------------------------------------------------------------------------
# Comparing two sketches
# --------------------------------------------------------------------------------------------------
REORDER_MAX = 0.3  # a distance found only by re-pairing tensors counts when at most this large
UNRELATED_TENSOR = 1.0  # a tensor this far from its pair (relative L2) is unrelated to it


@dataclass(frozen=True)
class WeightComparison:
    """How far apart two models' weights are, estimated from their sketches.

    ``distance`` is the relative L2 distance ``sqrt(Σ‖a−b‖² / Σ(‖a‖²+‖b‖²)/2)`` over the paired tensors
    (0 for identical weights, about 1.4 for independent random ones); ``coverage`` the share of the
    larger model's sketched elements that were paired. ``norm_drift`` is ``(Σ‖a‖² − Σ‖b‖²) / Σ‖b‖²``
    and ``zeros_gain`` the size-weighted share of zeros of ``a`` minus that of ``b`` (pruning shows as a
    positive gain); ``nonzero_distance`` the distance over the sampled positions where ``a`` is not zero.
    ``paired`` says how tensors were paired: ``"in order"`` (the n-th tensor of a shape in one model with
    the n-th of that shape in the other) or ``"by content"`` (nearest first, for exporters that order
    tensors differently). ``unrelated_share`` is the share of paired elements in tensors that are as far
    apart as independent ones (relative distance above ``UNRELATED_TENSOR``): a derived model has next to
    none, two models that merely share some tensors (the same random seed, a copied embedding) have many.
    """

    distance: float
    coverage: float
    tensors: int
    elements: int
    norm_drift: float
    zeros_gain: float
    nonzero_distance: float
    paired: str
    unrelated_share: float = 0.0

    @property
    def comparable(self) -> bool:
        return self.tensors > 0 and self.coverage >= 0.8


_NOT_COMPARABLE = WeightComparison(math.inf, 0.0, 0, 0, 0.0, 0.0, math.inf, "none", 1.0)


def compare(a: WeightSketch, b: WeightSketch) -> WeightComparison:
    """Estimate how far ``a``'s weights are from ``b``'s (tensors paired by canonical shape)."""
    if not a.tensors or not b.tensors or a.version != b.version:
        return _NOT_COMPARABLE
    k = min(a.k, b.k)
    groups_a = _groups(a)
    groups_b = _groups(b)
    in_order: list[tuple[TensorSketch, TensorSketch]] = []
    by_content: list[tuple[TensorSketch, TensorSketch]] = []
    for shape, ta in groups_a.items():
        tb = groups_b.get(shape)
        if not tb:
            continue
        in_order.extend(zip(ta, tb, strict=False))
        by_content.extend(_pair_by_content(ta, tb, k))
    if not in_order:
        return _NOT_COMPARABLE
    first = _measure(in_order, k, a, b, "in order")
    if first.distance <= REORDER_MAX:
        return first
    second = _measure(by_content, k, a, b, "by content")
    return second if second.distance <= REORDER_MAX else first


def _groups(sketch: WeightSketch) -> dict[tuple[int, ...], list[TensorSketch]]:
    out: dict[tuple[int, ...], list[TensorSketch]] = defaultdict(list)
    for t in sketch.tensors:
        out[t.canonical].append(t)
    return out


def _samples(t: TensorSketch, k: int) -> np.ndarray:
    return np.asarray(t.samples[: k - k % 2 if _square(t) else k], dtype=np.float64)


def _square(t: TensorSketch) -> bool:
    return len(t.shape) == 2 and t.shape[0] == t.shape[1]


def _mirror(samples: np.ndarray) -> np.ndarray:
    """A square tensor's samples as its transpose would give them (each mirrored pair swapped)."""
    shape = samples.shape
    return samples.reshape(*shape[:-1], -1, 2)[..., ::-1].reshape(shape)


def _pair_difference(ta: TensorSketch, tb: TensorSketch, sa: np.ndarray, sb: np.ndarray) -> np.ndarray:
    """Element differences of paired samples; a square pair is compared as stored and transposed, and
    the closer reading is kept."""
    direct = sa - sb
    if not _square(ta) or not _square(tb):
        return direct
    mirrored = sa - _mirror(sb)
    return mirrored if float((mirrored**2).sum()) < float((direct**2).sum()) else direct


def _pair_by_content(
    ta: list[TensorSketch], tb: list[TensorSketch], k: int
) -> list[tuple[TensorSketch, TensorSketch]]:
    """Greedy one-to-one pairing of same-shape tensors, nearest samples first."""
    if len(ta) == 1 and len(tb) == 1:
        return [(ta[0], tb[0])]
    sa = np.stack([_samples(t, k) for t in ta])
    sb = np.stack([_samples(t, k) for t in tb])
    scale = np.asarray([max(t.norm**2 / max(t.size, 1), 1e-30) for t in tb])
    d = ((sa[:, None, :] - sb[None, :, :]) ** 2).mean(axis=2)
    if _square(ta[0]):
        d = np.minimum(d, ((sa[:, None, :] - _mirror(sb)[None, :, :]) ** 2).mean(axis=2))
    d = d / scale[None, :]
    pairs: list[tuple[TensorSketch, TensorSketch]] = []
    order = np.argsort(d, axis=None, kind="stable")
    used_a: set[int] = set()
    used_b: set[int] = set()
    for flat in order:
        i, j = divmod(int(flat), len(tb))
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        pairs.append((ta[i], tb[j]))
        if len(used_a) == len(ta) or len(used_b) == len(tb):
            break
    return pairs


def _measure(
    pairs: list[tuple[TensorSketch, TensorSketch]],
    k: int,
    a: WeightSketch,
    b: WeightSketch,
    how: str,
) -> WeightComparison:
    diff = energy = norm_a = norm_b = zeros_a = zeros_b = 0.0
    nz_diff = nz_energy = 0.0
    elements = unrelated = 0
    for ta, tb in pairs:
        n = ta.size
        sa, sb = _samples(ta, k), _samples(tb, k)
        if not sa.size:
            continue
        delta = _pair_difference(ta, tb, sa, sb)
        tensor_diff = n * float((delta**2).mean())
        tensor_energy = (ta.norm**2 + tb.norm**2) / 2
        if tensor_energy > 0 and tensor_diff > UNRELATED_TENSOR**2 * tensor_energy:
            unrelated += n
        diff += tensor_diff
        energy += tensor_energy
        norm_a += ta.norm**2
        norm_b += tb.norm**2
        zeros_a += ta.zeros * n
        zeros_b += tb.zeros * n
        keep = sa != 0
        if keep.any():
            nz_diff += n * float((delta[keep] ** 2).sum()) / sa.size
            nz_energy += n * float((sb[keep] ** 2).sum()) / sa.size
        elements += n
    if not elements:
        return _NOT_COMPARABLE
    distance = math.sqrt(diff / energy) if energy > 0 else (0.0 if diff == 0 else math.inf)
    nonzero = math.sqrt(nz_diff / nz_energy) if nz_energy > 0 else distance
    return WeightComparison(
        distance=distance,
        coverage=elements / max(a.elements, b.elements),
        tensors=len(pairs),
        elements=elements,
        norm_drift=(norm_a - norm_b) / norm_b if norm_b > 0 else 0.0,
        zeros_gain=(zeros_a - zeros_b) / elements,
        nonzero_distance=nonzero,
        paired=how,
        unrelated_share=unrelated / elements,
    )


# --------------------------------------------------------------------------------------------------
# Reading an ONNX file field by field
# --------------------------------------------------------------------------------------------------
class _File:
    """Positioned reads (``os.pread``) on one file: no shared offset, no buffer beyond what is asked."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.fd = os.open(path, os.O_RDONLY)
            self.size = os.fstat(self.fd).st_size
        except OSError as e:
            raise UnreadableModel(path, f"cannot read for the weight sketch: {e.strerror or e}") from e

    def read(self, offset: int, length: int) -> bytes:
        data = os.pread(self.fd, length, offset)
        if len(data) != length:
            raise UnreadableModel(self.path, f"{length} bytes wanted at offset {offset}, file too short")
        return data

    def close(self) -> None:
        os.close(self.fd)


@dataclass
class _Field:
    number: int
    wire: int
    value: int  # the varint's value, or the byte offset of a length-delimited payload
    length: int = 0  # payload length (wire type 2)


def _fields(f: _File, start: int, end: int) -> Iterator[_Field]:
    """The fields of the message stored at ``[start, end)``, reading only their headers."""
    pos = start
    while pos < end:
        head = f.read(pos, min(20, end - pos))
        tag, p = read_varint(head, 0)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, p = read_varint(head, p)
            yield _Field(number, wire, value)
            pos += p
        elif wire == 2:
            length, p = read_varint(head, p)
            payload = pos + p
            if payload + length > end:
                raise ValueError("field runs past its message")
            yield _Field(number, wire, payload, length)
            pos = payload + length
        elif wire == 1:
            pos += p + 8
        elif wire == 5:
            pos += p + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")


@dataclass
class _Values:
    """Where a tensor's values are: a packed run of fixed-size numbers in a file, or decoded already."""

    file: _File | None = None
    offset: int = 0
    array: np.ndarray | None = None  # small tensors stored as varints, or Constant attributes


@dataclass
class _Tensor:
    name: str
    dims: tuple[int, ...]
    data_type: int
    values: _Values | None = None
    problem: str = ""  # why the values cannot be read

    @property
    def size(self) -> int:
        return math.prod(self.dims)


@dataclass
class _Scan:
    tensors: list[_Tensor] = field(default_factory=list)
    nodes: list[onnx.NodeProto] = field(default_factory=list)


class _OnnxScanner:
    """Walks ``ModelProto.graph`` (initializers, nodes) without materialising tensor data."""

    def __init__(self, path: Path) -> None:
        from modelgenes.ingest.formats.onnx import _allowed_roots

        self.path = path
        self.folder = path.absolute().parent
        self.roots = _allowed_roots(self.folder)
        self.model = _File(path)
        self.external: dict[str, _File] = {}

    def close(self) -> None:
        self.model.close()
        for f in self.external.values():
            f.close()

    def scan(self) -> _Scan:
        out = _Scan()
        try:
            graph = next((x for x in _fields(self.model, 0, self.model.size) if x.number == 7), None)
            if graph is None or graph.wire != 2:
                raise UnreadableModel(self.path, "no graph in the ONNX protobuf")
            for x in _fields(self.model, graph.value, graph.value + graph.length):
                if x.wire != 2:
                    continue
                if x.number == 5:
                    out.tensors.append(self._tensor(x.value, x.value + x.length))
                elif x.number == 1:
                    node = onnx.NodeProto.FromString(self.model.read(x.value, x.length))
                    out.nodes.append(node)
                    out.tensors.extend(self._constant(node))
        except (ValueError, DecodeError) as e:
            raise UnreadableModel(self.path, f"cannot walk the ONNX protobuf for weights: {e}") from e
        return out

    def _tensor(self, start: int, end: int) -> _Tensor:
        dims: list[int] = []
        data_type = 0
        name = ""
        raw: tuple[int, int] | None = None
        packed: dict[int, tuple[int, int]] = {}
        external: dict[str, str] = {}
        location = 0
        for x in _fields(self.model, start, end):
            if x.number == 1:
                if x.wire == 0:
                    dims.append(x.value)
                else:
                    buf, p = self.model.read(x.value, x.length), 0
                    while p < len(buf):
                        d, p = read_varint(buf, p)
                        dims.append(d)
            elif x.number == 2 and x.wire == 0:
                data_type = x.value
            elif x.number == 8 and x.wire == 2:
                name = self.model.read(x.value, x.length).decode("utf-8", "replace")
            elif x.number == 9 and x.wire == 2:
                raw = (x.value, x.length)
            elif x.number in (4, 5, 10) and x.wire == 2:
                packed[x.number] = (x.value, x.length)
            elif x.number == 13 and x.wire == 2:
                entry = onnx.StringStringEntryProto.FromString(self.model.read(x.value, x.length))
                external[entry.key] = entry.value
            elif x.number == 14 and x.wire == 0:
                location = x.value
        tensor = _Tensor(name, tuple(dims), data_type)
        itemsize = _NUMPY[data_type].itemsize if data_type in _NUMPY else 0
        if not itemsize:
            tensor.problem = f"element type {_DTYPE_NAMES.get(data_type, data_type)}"
        elif location == 1:
            self._external_values(tensor, external, itemsize)
        elif raw is not None:
            self._check_length(tensor, raw[1], itemsize)
            tensor.values = _Values(self.model, raw[0])
        elif data_type == _FLOAT and 4 in packed:
            self._check_length(tensor, packed[4][1], 4)
            tensor.values = _Values(self.model, packed[4][0])
        elif data_type == _DOUBLE and 10 in packed:
            self._check_length(tensor, packed[10][1], 8)
            tensor.values = _Values(self.model, packed[10][0])
        elif 5 in packed and packed[5][1] <= _MAX_VARINT_TENSOR:
            proto = onnx.TensorProto.FromString(self.model.read(start, end - start))
            tensor.values = _Values(array=np.asarray(numpy_helper.to_array(proto)).reshape(-1))
        elif tensor.size:
            tensor.problem = "values not stored in a readable form"
        return tensor

    @staticmethod
    def _check_length(tensor: _Tensor, length: int, itemsize: int) -> None:
        if length != tensor.size * itemsize:
            raise ValueError(f"tensor {tensor.name!r}: {length} bytes for {tensor.size} elements")

    def _external_values(self, tensor: _Tensor, entries: Mapping[str, str], itemsize: int) -> None:
        from modelgenes.ingest.formats.onnx import _safe_location

        location = entries.get("location", "")
        if not location:
            tensor.problem = "external data without a location"
            return
        target = _safe_location(self.path, self.folder, self.roots, location)
        f = self.external.get(location)
        if f is None:
            try:
                f = _File(target)
            except UnreadableModel as e:
                tensor.problem = f"external data {location!r}: {e.cause}"
                return
            self.external[location] = f
        offset = int(entries.get("offset") or 0)
        length = int(entries.get("length") or tensor.size * itemsize)
        if length != tensor.size * itemsize or offset + length > f.size:
            tensor.problem = f"external data {location!r} is shorter than the tensor"
            return
        tensor.values = _Values(f, offset)

    def _constant(self, node: onnx.NodeProto) -> list[_Tensor]:
        """A ``Constant`` node's tensor value, as a tensor named after its output."""
        if node.op_type != "Constant" or node.domain not in ("", "ai.onnx") or not node.output:
            return []
        for a in node.attribute:
            if a.name == "value" and a.type == onnx.AttributeProto.TENSOR:
                t = a.t
                dims = tuple(int(d) for d in t.dims)
                if math.prod(dims) < MIN_ELEMENTS or t.data_type not in _NUMPY:
                    return []
                tensor = _Tensor(node.output[0], dims, t.data_type)
                if t.data_location == onnx.TensorProto.EXTERNAL:
                    entries = {e.key: e.value for e in t.external_data}
                    self._external_values(tensor, entries, _NUMPY[t.data_type].itemsize)
                else:
                    tensor.values = _Values(array=np.asarray(numpy_helper.to_array(t)).reshape(-1))
                return [tensor]
        return []


# --------------------------------------------------------------------------------------------------
# Reading values (dequantised) by ranges
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Dequant:
    scale: np.ndarray  # float64, one value or one per channel
    zero: np.ndarray  # float64, same length as scale
    axis: int  # channel axis when per-channel


class _Reader:
    """Values of one tensor as float64, by ranges and at positions, dequantised when asked."""

    def __init__(self, tensor: _Tensor, dequant: _Dequant | None = None) -> None:
        assert tensor.values is not None
        self.tensor = tensor
        self.values = tensor.values
        self.dtype = _NUMPY[tensor.data_type]
        self.dequant = dequant
        self.n = tensor.size
        if dequant is not None and dequant.scale.size > 1:
            dims = tensor.dims
            axis = dequant.axis % len(dims) if dims else 0
            self.stride = math.prod(dims[axis + 1 :])
            self.channels = dims[axis] if dims else 1
            if self.channels != dequant.scale.size:
                raise ValueError(f"{dequant.scale.size} scales for {self.channels} channels")

    def _convert(self, raw: np.ndarray, first: np.ndarray | int) -> np.ndarray:
        if self.tensor.data_type == _BFLOAT16 and raw.dtype == np.uint16:
            values = (raw.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
        else:
            values = raw.astype(np.float64)
        q = self.dequant
        if q is None:
            return values
        if q.scale.size == 1:
            return (values - q.zero[0]) * q.scale[0]
        channel = (np.asarray(first) // self.stride) % self.channels
        return (values - q.zero[channel]) * q.scale[channel]

    def read(self, start: int, count: int) -> np.ndarray:
        if self.values.array is not None:
            raw = self.values.array[start : start + count]
        else:
            assert self.values.file is not None
            size = self.dtype.itemsize
            data = self.values.file.read(self.values.offset + start * size, count * size)
            raw = np.frombuffer(data, dtype=self.dtype)
        positions = np.arange(start, start + count) if self.dequant is not None else start
        return self._convert(raw, positions)

    def take(self, positions: np.ndarray) -> np.ndarray:
        if self.values.array is not None:
            raw = self.values.array[positions]
        else:
            assert self.values.file is not None
            size = self.dtype.itemsize
            f = self.values.file
            data = b"".join(f.read(self.values.offset + int(p) * size, size) for p in positions)
            raw = np.frombuffer(data, dtype=self.dtype)
        return self._convert(raw, positions)


def _statistics(reader: _Reader) -> tuple[float, float, float, float]:
    """mean, std, L2 norm, share of zeros: exact up to ``FULL_PASS_MAX`` elements, else from blocks."""
    n = reader.n
    total = squares = zeros = 0.0
    seen = 0
    if n <= FULL_PASS_MAX:
        starts: Sequence[int] | np.ndarray = range(0, n, CHUNK)
        width = CHUNK
    else:
        starts = _stat_blocks(reader.tensor.dims, n)
        width = BLOCK
    for start in starts:
        count = min(width, n - int(start))
        x = reader.read(int(start), count)
        total += float(x.sum())
        squares += float(np.dot(x, x))
        zeros += float(np.count_nonzero(x == 0))
        seen += count
    mean = total / seen
    mean_square = squares / seen
    std = math.sqrt(max(mean_square - mean * mean, 0.0))
    return mean, std, math.sqrt(mean_square * n), zeros / seen


def _finite(x: float) -> float:
    return x if math.isfinite(x) else 0.0


def _digits(x: float) -> float:
    """As stored: float32 (the precision of the samples)."""
    return float(np.float32(_finite(x)))


# --------------------------------------------------------------------------------------------------
# Finding quantisation parameters in the graph
# --------------------------------------------------------------------------------------------------
# (op, input index of the quantised weight) → (scale input, zero-point input, default axis)
_QLINEAR = {
    ("DequantizeLinear", 0): (1, 2, 1),
    ("QLinearMatMul", 3): (4, 5, -1),
    ("QLinearMatMul", 0): (1, 2, -1),
    ("QLinearConv", 3): (4, 5, 0),
}
_INTEGER_OPS = {"MatMulInteger": -1, "ConvInteger": 0}  # weight at input 1, zero point at input 3
_PASS_THROUGH = frozenset({"Gather", "Transpose", "Reshape", "Squeeze", "Unsqueeze", "Flatten"})


class _Graph:
    """Who consumes which tensor, and which node produces it: enough to find a weight's scale."""

    def __init__(self, nodes: Sequence[onnx.NodeProto], tensors: Mapping[str, _Tensor]) -> None:
        self.tensors = tensors
        self.consumers: dict[str, list[tuple[onnx.NodeProto, int]]] = defaultdict(list)
        self.producer: dict[str, onnx.NodeProto] = {}
        for node in nodes:
            for i, name in enumerate(node.input):
                if name:
                    self.consumers[name].append((node, i))
            for name in node.output:
                self.producer[name] = node

    def _array(self, name: str) -> np.ndarray | None:
        t = self.tensors.get(name)
        if t is None or t.values is None or t.size > 1 << 20 or t.data_type not in _NUMPY:
            return None
        if t.size == 0:
            return None
        return _Reader(t).read(0, t.size)

    def dequant(self, tensor: _Tensor) -> _Dequant | None:
        """The scale and zero point that turn the quantised ``tensor`` into its float values."""
        return self._dequant_at(tensor.name, len(tensor.dims), hops=3)

    def _dequant_at(self, name: str, rank: int, hops: int) -> _Dequant | None:
        for node, index in self.consumers.get(name, ()):
            op = node.op_type
            spec = _QLINEAR.get((op, index))
            if spec is not None:
                scale_i, zero_i, axis = spec
                axis = _int_attribute(node, "axis", axis) if op == "DequantizeLinear" else axis
                return self._params(node, scale_i, zero_i, axis, rank)
            if op in _INTEGER_OPS and index == 1:
                scale = self._integer_scale(node)
                if scale is not None:
                    zero = self._array(node.input[3]) if len(node.input) > 3 and node.input[3] else None
                    return _make_dequant(scale, zero, _INTEGER_OPS[op], rank)
            if op in _PASS_THROUGH and index == 0 and hops > 0 and node.output:
                found = self._dequant_at(node.output[0], rank, hops - 1)
                if found is not None:
                    return found
        return None

    def _params(
        self, node: onnx.NodeProto, scale_i: int, zero_i: int, axis: int, rank: int
    ) -> _Dequant | None:
        scale = self._array(node.input[scale_i]) if len(node.input) > scale_i else None
        if scale is None:
            return None
        zero = self._array(node.input[zero_i]) if len(node.input) > zero_i and node.input[zero_i] else None
        return _make_dequant(scale, zero, axis, rank)

    def _integer_scale(self, node: onnx.NodeProto) -> np.ndarray | None:
        """Dynamic quantisation multiplies the integer product by ``input scale × weight scale``
        (``MatMulInteger → Cast → Mul(·, Mul(x_scale, W_scale))``): the constant factor is the weight's."""
        frontier = [node.output[0]] if node.output else []
        for _ in range(3):
            following: list[str] = []
            for name in frontier:
                for consumer, _i in self.consumers.get(name, ()):
                    if consumer.op_type == "Mul":
                        for other in consumer.input:
                            if other == name:
                                continue
                            found = self._constant_factor(other)
                            if found is not None:
                                return found
                    if consumer.op_type in ("Cast", "Reshape", "Transpose") and consumer.output:
                        following.append(consumer.output[0])
            frontier = following
        return None

    def _constant_factor(self, name: str) -> np.ndarray | None:
        direct = self._array(name) if name in self.tensors else None
        if direct is not None:
            return direct
        producer = self.producer.get(name)
        if producer is None or producer.op_type != "Mul":
            return None
        for operand in producer.input:
            if operand in self.tensors:
                value = self._array(operand)
                if value is not None:
                    return value
        return None


def _int_attribute(node: onnx.NodeProto, name: str, default: int) -> int:
    for a in node.attribute:
        if a.name == name and a.type == onnx.AttributeProto.INT:
            return int(a.i)
    return default


def _make_dequant(scale: np.ndarray, zero: np.ndarray | None, axis: int, rank: int) -> _Dequant | None:
    scale = np.asarray(scale, dtype=np.float64).reshape(-1)
    z = np.zeros_like(scale) if zero is None else np.asarray(zero, dtype=np.float64).reshape(-1)
    if z.size == 1 and scale.size > 1:
        z = np.full_like(scale, z[0])
    if z.size != scale.size or not scale.size:
        return None
    return _Dequant(scale=scale, zero=z, axis=axis % rank if rank else 0)


# --------------------------------------------------------------------------------------------------
# Putting it together
# --------------------------------------------------------------------------------------------------
def sketch_weights(path: str | Path) -> WeightSketch:
    """The weight sketch of the ONNX model at ``path`` (its external data read in place, by ranges).

    Raises ``UnreadableModel`` when the file cannot be walked, ``UnsafeModel`` for external data
    outside the model's folder; tensors it cannot read are counted in ``skipped`` with a warning.
    """
    path = Path(path)
    scanner = _OnnxScanner(path)
    try:
        scan = scanner.scan()
        by_name = {t.name: t for t in scan.tensors}
        graph = _Graph(scan.nodes, by_name)
        chosen: list[tuple[_Tensor, _Dequant | None]] = []
        warnings: list[str] = []
        skipped = 0
        for t in scan.tensors:
            if t.size < MIN_ELEMENTS:
                continue
            if t.problem or t.values is None:
                if t.data_type in _FLOATS or t.data_type in _QUANTISED:
                    skipped += 1
                    warnings.append(f"{t.name}: {t.problem or 'no values'}")
                continue
            if t.data_type in _FLOATS:
                chosen.append((t, None))
            elif t.data_type in _QUANTISED:
                dequant = graph.dequant(t)
                if dequant is None:
                    skipped += 1
                    warnings.append(f"{t.name}: {_DTYPE_NAMES[t.data_type]} with no scale found")
                else:
                    chosen.append((t, dequant))
        if len(chosen) > MAX_TENSORS:
            skipped += len(chosen) - MAX_TENSORS
            chosen = [chosen[i] for i in _spread(len(chosen))]
        k = max(MIN_K, min(MAX_K, SAMPLE_BUDGET // max(len(chosen), 1)))
        k -= k % 2  # whole mirrored pairs for square tensors
        sketches = []
        for t, dequant in chosen:
            try:
                sketches.append(_sketch_tensor(t, dequant, k))
            except (ValueError, UnreadableModel) as e:
                skipped += 1
                warnings.append(f"{t.name}: {e}")
        return WeightSketch(tensors=tuple(sketches), k=k, skipped=skipped, warnings=tuple(warnings[:20]))
    finally:
        scanner.close()


def sketch_arrays(arrays: Sequence[np.ndarray], dtypes: Sequence[str] | None = None) -> WeightSketch:
    """The sketch of weight tensors given as arrays (already dequantised), for readers of other formats
    and for tests: the same selection (``MIN_ELEMENTS``), statistics and sample positions as
    ``sketch_weights``. ``dtypes`` names each array's stored type (default: ``float``)."""
    kept = [(np.ascontiguousarray(a), (dtypes[i] if dtypes else "float")) for i, a in enumerate(arrays)]
    kept = [(a, d) for a, d in kept if a.size >= MIN_ELEMENTS]
    if len(kept) > MAX_TENSORS:
        kept = [kept[i] for i in _spread(len(kept))]
    k = max(MIN_K, min(MAX_K, SAMPLE_BUDGET // max(len(kept), 1)))
    k -= k % 2
    sketches = []
    for i, (array, dtype) in enumerate(kept):
        tensor = _Tensor(f"array{i}", tuple(int(d) for d in array.shape), _DOUBLE)
        tensor.values = _Values(array=array.astype(np.float64).reshape(-1))
        sketches.append(dataclasses.replace(_sketch_tensor(tensor, None, k), dtype=dtype))
    return WeightSketch(tensors=tuple(sketches), k=k)


def _spread(n: int) -> list[int]:
    """``MAX_TENSORS`` indices evenly spread over ``n`` (file order kept)."""
    return sorted({round(i * (n - 1) / (MAX_TENSORS - 1)) for i in range(MAX_TENSORS)})


def _sketch_tensor(t: _Tensor, dequant: _Dequant | None, k: int) -> TensorSketch:
    reader = _Reader(t, dequant)
    mean, std, norm, zeros = _statistics(reader)
    samples = reader.take(sample_positions(t.dims, k))
    return TensorSketch(
        shape=t.dims,
        dtype=_DTYPE_NAMES.get(t.data_type, str(t.data_type)),
        mean=_digits(mean),
        std=_digits(std),
        norm=_digits(norm),
        zeros=_digits(zeros),
        samples=tuple(float(np.float32(_finite(float(v)))) for v in samples),
    )


def sketch_or_none(path: str | Path, warn: Callable[[str], None] | None = None) -> WeightSketch | None:
    """``sketch_weights`` for ingest: None (with a warning) instead of an error, so a model whose weights
    cannot be sketched is still stored (its graph was read; only weight lineage is lost)."""
    try:
        return sketch_weights(path)
    except ModelgenesError as e:
        if warn is not None:
            warn(f"weights not sketched: {e}")
    except Exception as e:  # a sketching bug must not cost the model its place in the knowledge base
        if warn is not None:
            warn(f"weights not sketched: {type(e).__name__}: {e}")
    return None
