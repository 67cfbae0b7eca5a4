"""Batch ingest: files and folders → records (in worker processes) → one writer → the store.

Re-ingesting the same files writes nothing (sha256 identity: they are reported unchanged); a bad
file becomes an ``IngestError`` of its ``Batch`` and the batch goes on; each model is written whole
by one statement, so a batch killed half-way and run again completes without duplicates.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from modelgenes.errors import ModelgenesError
from modelgenes.genealogy.record import ModelRecord, extract
from modelgenes.ingest.discover import discover_models
from modelgenes.ingest.formats import file_sha256
from modelgenes.ingest.metadata import ManifestRow
from modelgenes.kb import write
from modelgenes.kb.derivations import infer_derivations
from modelgenes.kb.store import GraphStore

__all__ = ["IngestFailure", "IngestReport", "ProgressCallback", "ingest_paths"]

# Records are written in groups this large: one statement each, small enough that a retry of a
# failed group one by one stays cheap.
WRITE_GROUP = 32

ProgressCallback = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass(frozen=True)
class IngestFailure:
    path: str
    sha256: str
    kind: str  # the error's class name: UnreadableModel, UnsafeModel, StoreRefused, InternalError, ...
    message: str


@dataclass
class IngestReport:
    """What one batch did: counters, the failures with their cause, and how long it took."""

    batch_id: str
    files: int = 0
    new: int = 0
    unchanged: int = 0
    failures: list[IngestFailure] = field(default_factory=list)
    derived_links: int = 0
    inferred_links: int = 0  # DERIVED_FROM edges inferred from structure and weights (kb.derivations)
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def ok(self) -> bool:
        return not self.failures


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _library_rows() -> tuple[list[write.FamilyRow], list[write.SignatureRow]]:
    from modelgenes.signatures.model import load_library

    library = load_library()
    families = [
        write.FamilyRow(f.id, f.modality, f.name, (f.variant_of,) if f.variant_of else ())
        for f in library.families.values()
    ]
    signatures = [
        write.SignatureRow(s.id, s.family, s.specificity, s.description) for s in library.signatures
    ]
    return families, signatures


def _hash_all(
    paths: Sequence[Path], workers: int, progress: ProgressCallback
) -> tuple[dict[Path, str], list[IngestFailure]]:
    hashes: dict[Path, str] = {}
    failures: list[IngestFailure] = []

    def one(path: Path) -> tuple[Path, str | None, str]:
        try:
            if not path.is_file():
                return path, None, "not a regular file" if path.exists() else "no such file"
            return path, file_sha256(path), ""
        except (OSError, ModelgenesError) as e:
            return path, None, str(e)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:  # hashing releases the GIL
        for done, (path, sha, error) in enumerate(pool.map(one, paths), start=1):
            if sha is None:
                failures.append(
                    IngestFailure(str(path), "", "UnreadableModel", f"{path}: cannot read model: {error}")
                )
            else:
                hashes[path] = sha
            progress("hash", done, len(paths))
    return hashes, failures


@dataclass(frozen=True)
class _Job:
    """One file to extract: its manifest row, and the sha256 the batch already computed."""

    path: Path
    row: ManifestRow | None
    sha256: str


def _extract_safely(job: _Job) -> ModelRecord | IngestFailure:
    """Worker entry point: never raises, so one bad file cannot stop the pool."""
    path = str(job.path)
    try:
        return extract(path, job.row, sha256=job.sha256)
    except ModelgenesError as e:
        return IngestFailure(path, "", type(e).__name__, str(e))
    except Exception as e:  # a reader bug must not sink the batch; it is reported with its type
        return IngestFailure(path, "", "InternalError", f"{path}: {type(e).__name__}: {e}")


def _extract_all(
    jobs: Sequence[_Job],
    workers: int,
) -> Iterable[ModelRecord | IngestFailure]:
    if workers <= 1 or len(jobs) <= 2:
        for job in jobs:
            yield _extract_safely(job)
        return
    # forkserver: workers do not inherit the parent's store connection or threads.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["modelgenes.genealogy.record"])
    done: set[Path] = set()
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures: dict[Future[ModelRecord | IngestFailure], Path] = {
                pool.submit(_extract_safely, job): job.path for job in jobs
            }
            for future in as_completed(futures):
                path = futures[future]
                try:
                    result = future.result()
                except BrokenProcessPool as e:
                    if not done:
                        raise  # no worker ever answered: they could not start
                    # A worker died (out of memory, killed) after others worked: report, go on.
                    result = IngestFailure(
                        str(path), "", "WorkerDied", f"{path}: the worker process died: {e}"
                    )
                done.add(path)
                yield result
    except BrokenProcessPool:
        # Workers that cannot start (e.g. a main module they cannot re-import) must not lose the
        # batch: read what is left in this process.
        for job in jobs:
            if job.path not in done:
                yield _extract_safely(job)


def ingest_paths(
    store: GraphStore,
    paths: Iterable[str | Path],
    *,
    manifest: Mapping[Path, ManifestRow] | None = None,
    workers: int | None = None,
    batch_name: str | None = None,
    progress: ProgressCallback | None = None,
) -> IngestReport:
    """Ingest model files and folders into ``store``; returns the batch's report.

    ``manifest`` maps resolved file paths to manifest rows (metadata for those files).
    """
    started = time.perf_counter()
    progress = progress or (lambda phase, done, total: None)
    workers = workers or os.cpu_count() or 1
    given = [Path(p) for p in paths]
    batch_id = batch_name or f"batch-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    report = IngestReport(batch_id=batch_id)

    files = discover_models(given)
    report.files = len(files)
    write.sync_library(store, *_library_rows())
    write.start_batch(store, batch_id, " ".join(str(p) for p in given), _now())

    hashes, report.failures = _hash_all(files, workers, progress)
    known = write.known_model_ids(store, hashes.values())
    seen_before = [(sha, str(path)) for path, sha in hashes.items() if sha in known]
    report.unchanged = len(seen_before)
    write.link_unchanged(store, batch_id, seen_before)

    # One extraction per distinct content; further paths of the same content are linked after.
    first_path: dict[str, Path] = {}
    duplicates: list[tuple[str, str]] = []
    for path, sha in hashes.items():
        if sha in known:
            continue
        if sha in first_path:
            duplicates.append((sha, str(path)))
        else:
            first_path[sha] = path
    manifest = manifest or {}
    jobs = [_Job(path, manifest.get(path.resolve()), sha) for sha, path in first_path.items()]

    pending: list[tuple[ModelRecord, str]] = []
    ingested_at = _now()

    def flush() -> None:
        written, refused = write.write_records(store, pending, batch_id, ingested_at)
        report.new += written
        report.failures.extend(
            IngestFailure(
                f.path, f.record.id, "StoreRefused", f"{f.path}: the store refused the model: {f.message}"
            )
            for f in refused
        )
        pending.clear()

    for done, result in enumerate(_extract_all(jobs, workers), start=1):
        if isinstance(result, IngestFailure):
            report.failures.append(dataclasses.replace(result, sha256=hashes.get(Path(result.path), "")))
        else:
            pending.append((result, str(first_path[result.id])))
            if len(pending) >= WRITE_GROUP:
                flush()
        progress("extract", done, len(jobs))
    flush()

    write.link_unchanged(store, batch_id, duplicates)
    report.unchanged += len(duplicates)
    write.record_errors(
        store,
        batch_id,
        [{"path": f.path, "sha256": f.sha256, "kind": f.kind, "message": f.message} for f in report.failures],
    )
    write.sync_licenses(store)  # after the records, so licenses first seen in this batch get rules too
    report.derived_links = len(write.link_declared_bases(store))
    try:  # the models are stored; a failed inference is reported, it does not undo the batch
        report.inferred_links = infer_derivations(store, hashes.values()).edges
    except ModelgenesError as e:
        report.failures.append(IngestFailure("(derivation inference)", "", type(e).__name__, str(e)))
    report.seconds = time.perf_counter() - started
    write.finish_batch(
        store, batch_id, _now(), ok=report.new, unchanged=report.unchanged, failed=report.failed
    )
    return report
