"""The CLI's contract for failures: one clear line on stderr, a non-zero exit, no traceback."""

from __future__ import annotations

import subprocess
import sys

from modelgenes import __version__


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelgenes", *args], capture_output=True, text=True, timeout=120
    )


def test_version_prints_the_package_version() -> None:
    result = _run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"modelgenes {__version__}"


def test_unreachable_neo4j_is_one_line_naming_the_uri() -> None:
    result = _run("--store", "bolt://127.0.0.1:9", "db", "status")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "bolt://127.0.0.1:9" in lines[0] and "unavailable" in lines[0]
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback() -> None:
    result = _run("--debug", "--store", "bolt://127.0.0.1:9", "db", "status")
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "StoreUnavailable" in result.stderr


def test_unknown_store_scheme_is_refused() -> None:
    result = _run("--store", "http://example.invalid", "db", "status")
    assert result.returncode == 1
    assert "http://example.invalid" in result.stderr
