"""`make demo`: start the embedded store, run the bundled sample models through modelgenes, print answers.

Each step is a real CLI call, printed before it runs, so what you see is what you can type yourself.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import onnx

REPO = Path(__file__).resolve().parents[1]
ONNX_ZOO = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"


def _samples() -> list[str]:
    """A few bundled models: ONNX Model Zoo graphs shipped in the onnx package, plus the repo's corpus."""
    picks = [ONNX_ZOO / f"light_{n}.onnx" for n in ("resnet50", "squeezenet", "inception_v1")]
    zoo = REPO / "tests" / "data" / "zoo"
    picks += sorted(zoo.glob("*/bert-*ts-op17.onnx"))[:1] + sorted(zoo.glob("*/crnn*.onnx"))[:1]
    return [str(p) for p in picks if p.exists()]


def _step(title: str, *args: str) -> None:
    cmd = [sys.executable, "-m", "modelgenes", *args]
    shown = " ".join(shlex.quote(a) for a in ["modelgenes", *args])
    print(f"\n== {title}\n$ {shown}", flush=True)
    result = subprocess.run(cmd, cwd=REPO)
    if result.returncode != 0:
        sys.exit(result.returncode)


def _has_command(name: str) -> bool:
    probe = subprocess.run([sys.executable, "-m", "modelgenes", name, "--help"], capture_output=True)
    return probe.returncode == 0


def main() -> None:
    _step("Start the embedded graph store (reused if it already runs)", "db", "start")
    samples = _samples()
    if _has_command("inspect"):
        _step("Read the sample models' graphs", "inspect", *samples)
    _step("What the store holds", "db", "status")
    print("\nThe store keeps running for the next command; `modelgenes db stop` stops it.")


if __name__ == "__main__":
    main()
