"""Find the model files under the paths a user gives to batch ingest.

Files named on the command line are always candidates (a bad one must be reported, not skipped).
Inside folders, a file is a candidate when a reader recognises its first bytes, or when its suffix
says it is a model (``.onnx``) so that a corrupt model is reported rather than silently passed over.
Sidecar files (model cards, configs, external weights) are not candidates.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from modelgenes.ingest.formats import HEAD_BYTES, readers

__all__ = ["MODEL_SUFFIXES", "discover_models"]

MODEL_SUFFIXES = frozenset({".onnx"})
# Folders that never hold models of ours and can be huge.
_SKIP_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", "node_modules", ".venv", ".tox", ".mypy_cache"})


def discover_models(paths: Iterable[str | Path]) -> list[Path]:
    """Candidate model files, each once, in a stable order (given order, then sorted within folders)."""
    seen: set[Path] = set()
    out: list[Path] = []
    for given in paths:
        path = Path(given)
        found = _walk(path) if path.is_dir() else iter([path])
        for candidate in found:
            key = candidate.absolute()
            if key not in seen:
                seen.add(key)
                out.append(candidate)
    return out


def _walk(root: Path) -> Iterator[Path]:
    # os.walk does not follow symlinked folders, so a symlink loop cannot trap it.
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(files):
            path = Path(folder) / name
            if _looks_like_model(path):
                yield path


def _looks_like_model(path: Path) -> bool:
    if path.suffix.lower() in MODEL_SUFFIXES:
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
    except OSError:
        return False
    return any(reader.sniff(head) for reader in readers())
