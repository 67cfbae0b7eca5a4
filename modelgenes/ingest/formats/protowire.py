"""The protobuf wire format at its lowest level: varints. Shared by the ONNX reader (which skips
weight bytes without parsing them) and the weight sketcher (which walks tensors field by field)."""

from __future__ import annotations

__all__ = ["WireError", "encode_varint", "read_varint"]


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def read_varint(buf: bytes | memoryview, pos: int, end: int | None = None) -> tuple[int, int]:
    """The varint starting at ``pos`` (reading no further than ``end``) and the position after it."""
    stop = len(buf) if end is None else end
    result = shift = 0
    while pos < stop and shift <= 63:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
    raise WireError("truncated or overlong varint")


def encode_varint(value: int) -> bytes:
    """``value`` (non-negative) as a varint."""
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)
