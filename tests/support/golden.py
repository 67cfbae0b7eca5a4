"""Golden-file comparison for whole outputs (``identify`` and ``audit`` JSON).

Refresh every golden file after an intended change with::

    MODELGENES_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/integration -k golden
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["UPDATE_GOLDEN", "assert_matches_golden"]

UPDATE_GOLDEN = os.environ.get("MODELGENES_UPDATE_GOLDEN") == "1"


def assert_matches_golden(path: Path, got: Any) -> None:
    """``got`` equals the JSON stored at ``path`` (written there first when refreshing)."""
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(got, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    assert path.is_file(), f"no golden file {path.name} yet: run with MODELGENES_UPDATE_GOLDEN=1"
    assert got == json.loads(path.read_text()), (
        f"output differs from {path}; if intended, refresh with "
        "MODELGENES_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/integration -k golden"
    )
