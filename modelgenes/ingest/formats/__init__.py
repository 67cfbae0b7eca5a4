"""Model readers, one per format behind one small interface, chosen by content (never by file name).

``read_model(path)`` is the entry point of the ingest stage: it checks the path, picks the reader
whose ``sniff`` accepts the file's first bytes, reads the raw (flattened) graph, normalises it and
hashes the file. Each reader only turns one file into a raw ``ModelGraph`` plus the ``ModelInfo``
fields the file itself states.
"""

from __future__ import annotations

import dataclasses
import errno
import gc
import hashlib
import os
import stat
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from modelgenes.errors import UnreadableModel, UnsupportedFormat
from modelgenes.ingest.graph import ModelGraph, ModelInfo

__all__ = [
    "HEAD_BYTES",
    "ModelReader",
    "check_model_file",
    "file_sha256",
    "read_model",
    "reader_for",
    "readers",
]

HEAD_BYTES = 64  # how much of a file ``sniff`` sees
_HASH_CHUNK = 1 << 20


class ModelReader(ABC):
    """Reads one model format. Subclasses set ``format`` and implement ``sniff`` and ``read``."""

    format: ClassVar[str]

    @abstractmethod
    def sniff(self, head: bytes) -> bool:
        """True when the file's first bytes (up to ``HEAD_BYTES``) look like this format."""

    @abstractmethod
    def read(self, path: Path) -> tuple[ModelGraph, ModelInfo]:
        """The raw, flattened, not yet normalised graph and the info the file states.

        ``ModelInfo.sha256`` is left empty (``read_model`` fills it). Raises ``UnreadableModel``
        for a corrupt file and ``UnsafeModel`` for one that asks for something we refuse to do.
        """


def readers() -> tuple[ModelReader, ...]:
    """The readers known to this installation, in the order they are tried."""
    from modelgenes.ingest.formats.onnx import OnnxReader

    return (OnnxReader(),)


def check_model_file(path: Path) -> int:
    """The size of ``path`` when it is a readable regular file; else ``UnreadableModel`` saying why.

    Catches what would otherwise crash or hang a reader: missing files, dangling symlinks, symlink
    loops, directories, FIFOs and devices (reading a FIFO blocks forever), permission problems.
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        cause = "dangling symlink" if path.is_symlink() else "no such file"
        raise UnreadableModel(path, cause) from None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise UnreadableModel(path, "symlink loop") from None
        raise UnreadableModel(path, e.strerror or str(e)) from None
    if stat.S_ISDIR(st.st_mode):
        raise UnreadableModel(path, "is a directory, not a model file")
    if not stat.S_ISREG(st.st_mode):
        raise UnreadableModel(path, "not a regular file (a device, FIFO or socket)")
    if not os.access(path, os.R_OK):
        raise UnreadableModel(path, "permission denied")
    return st.st_size


def _read_head(path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(HEAD_BYTES)
    except OSError as e:
        raise UnreadableModel(path, e.strerror or str(e)) from e


def reader_for(path: Path) -> ModelReader:
    """The reader whose ``sniff`` accepts the file; ``UnsupportedFormat`` naming what it looks like."""
    check_model_file(path)
    head = _read_head(path)
    if not head:
        raise UnreadableModel(path, "empty file")
    foreign = describe_foreign_content(head)
    if foreign is not None:
        raise UnsupportedFormat(path, f"not a model graph this tool reads: looks like {foreign}")
    for reader in readers():
        if reader.sniff(head):
            return reader
    raise UnsupportedFormat(path)


# Magic numbers of files people point a model tool at by mistake (or formats with no reader yet).
_MAGICS: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (0, b"\xff\xd8\xff", "a JPEG image"),
    (0, b"GIF8", "a GIF image"),
    (0, b"%PDF", "a PDF document"),
    (0, b"PK\x03\x04", "a zip archive (a PyTorch .pt/.pth checkpoint, Keras v3 or .npz file)"),
    (0, b"\x1f\x8b", "a gzip archive"),
    (0, b"GGUF", "a GGUF file (llama.cpp weights)"),
    (0, b"\x89HDF\r\n\x1a\n", "an HDF5 file (Keras .h5 weights)"),
    (4, b"TFL3", "a TensorFlow Lite flatbuffer (no reader for it yet)"),
    (0, b"\x7fELF", "an executable"),
    (0, b"\x93NUMPY", "a NumPy array"),
)


def describe_foreign_content(head: bytes) -> str | None:
    """What a file starting with ``head`` looks like, when it is clearly not a model graph we read."""
    for offset, magic, what in _MAGICS:
        if head[offset : offset + len(magic)] == magic:
            return what
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "a Python pickle (a PyTorch or scikit-learn checkpoint)"
    if len(head) >= 10 and head[8:10] in (b'{"', b"{'"):
        return "a safetensors file (weights only, no graph)"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] in (b"{", b"["):
        return "a JSON file"
    if stripped[:5].lower() in (b"<?xml", b"<html", b"<!doc") or stripped[:5] == b"<net ":
        return "an XML or HTML file (an OpenVINO .xml needs its own reader, not available yet)"
    if stripped[:3] == b"---":
        return "a YAML or Markdown file"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text and all(c.isprintable() or c in "\t\r\n" for c in text):
        return "a text file"
    return None


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, read in 1 MiB chunks (constant memory whatever the size)."""
    digest = hashlib.sha256()
    buffer = bytearray(_HASH_CHUNK)
    view = memoryview(buffer)
    try:
        with path.open("rb", buffering=0) as f:
            while True:
                n = f.readinto(buffer)
                if not n:
                    break
                digest.update(view[:n])
    except OSError as e:
        raise UnreadableModel(path, f"cannot hash the file: {e.strerror or e}") from e
    return digest.hexdigest()


class _Hasher(threading.Thread):
    """Hashes a file in a background thread: hashlib and file reads release the GIL, so the hash of a
    large model costs little wall time next to parsing it."""

    def __init__(self, path: Path) -> None:
        super().__init__(name="modelgenes-sha256", daemon=True)
        self.path = path
        self.result = ""
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = file_sha256(self.path)
        except BaseException as e:  # re-raised in the caller's thread
            self.error = e

    def value(self) -> str:
        self.join()
        if self.error is not None:
            raise self.error
        return self.result


def read_model(path: str | Path, *, sha256: str | None = None) -> tuple[ModelGraph, ModelInfo]:
    """Read one model file into its normalised graph and its info (sha256, format, producer, opset, size,
    parameter count). No metadata beside the file is read: see ``ingest.metadata.read_model_with_metadata``.
    A caller that has just hashed the file (batch ingest) passes ``sha256`` so it is not read twice.

    Raises ``UnreadableModel`` (``UnsupportedFormat`` when no reader knows the content) or ``UnsafeModel``.
    """
    from modelgenes.ingest.normalise import normalise

    path = Path(path)
    reader = reader_for(path)
    size = check_model_file(path)
    hasher = _Hasher(path)
    small = size < (4 << 20)  # below a few MB a thread costs more than it saves
    if sha256 is None and not small:
        hasher.start()
    # Reading builds hundreds of thousands of small objects and frees none of them: the cyclic garbage
    # collector would rescan them over and over (a third of the time on a 200,000-node graph).
    collecting = gc.isenabled()
    gc.disable()
    try:
        raw, info = reader.read(path)
        graph = normalise(raw)
    finally:
        if collecting:
            gc.enable()
        sha = sha256 or (file_sha256(path) if small else hasher.value())
    info = dataclasses.replace(info, sha256=sha, size_bytes=size, params=graph.parameter_count)
    return graph, info
