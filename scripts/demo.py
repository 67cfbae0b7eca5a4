"""`make demo`: start the embedded store, ingest the bundled sample models, print answers.

Each step is a real CLI call, printed before it runs, so what you see is what you can type yourself.
The samples are the repo's corpus (tests/data: tiny models of every family, hub-style folders with
model cards that form a lineage chain) and the ONNX Model Zoo graphs shipped in the onnx package.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import onnx

REPO = Path(__file__).resolve().parents[1]
ONNX_ZOO = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
DATA = REPO / "tests" / "data"


def _step(title: str, *args: str, may_fail: bool = False) -> None:
    cmd = [sys.executable, "-m", "modelgenes", *args]
    shown = " ".join(shlex.quote(a) for a in ["modelgenes", *args])
    print(f"\n== {title}\n$ {shown}", flush=True)
    result = subprocess.run(cmd, cwd=REPO)
    if result.returncode != 0 and not may_fail:
        sys.exit(result.returncode)


def main() -> None:
    crnn = sorted((DATA / "zoo").glob("*/crnn*ts-op17.onnx"))
    _step("Start the embedded graph store (reused if it already runs)", "db", "start")
    _step(
        "Ingest the bundled sample models (unchanged files are skipped on a second run)",
        "ingest",
        str(DATA.relative_to(REPO)),
        str(ONNX_ZOO),
    )
    _step("Families found, with how many models each", "query", "explore/families")
    _step("Families related to BERT through shared broad signatures", "related", "bert")
    _step(
        "Models made of several families, components in data-flow order",
        "query",
        "explore/multi_family_models",
    )
    if crnn:
        _step(
            "Identify one multi-part model straight from its file", "identify", str(crnn[0].relative_to(REPO))
        )
    # By file: a path names the model by its content (sha256), whatever else the store holds.
    int8 = next((DATA / "hub").glob("models--acme--bert-tiny-sst2-int8/snapshots/*/model.onnx"))
    _step("A lineage chain: a quantised fine-tune back to its base", "lineage", str(int8.relative_to(REPO)))
    out = REPO / ".modelgenes" / "demo"
    out.mkdir(parents=True, exist_ok=True)
    _step(
        "Compliance audit: license conflicts along lineage, untraceable licenses, task mismatches, ...",
        "audit",
        "--out",
        str((out / "audit.html").relative_to(REPO)),
    )
    _step(
        "An ML-BOM (CycloneDX 1.6) of the quantised fine-tune with its pedigree",
        "export",
        "--format",
        "cyclonedx",
        str(int8.relative_to(REPO)),
        "--out",
        str((out / "bom.json").relative_to(REPO)),
    )
    _step("What the store holds", "db", "status")
    print("\nThe store keeps running for the next command (`modelgenes db stop` stops it).")
    print(f"The audit report is {out / 'audit.html'}, the ML-BOM {out / 'bom.json'}.")
    print("Try: modelgenes query --list")


if __name__ == "__main__":
    main()
