// question: Close an ingest batch with its counts.
// param batchId: string: the batch id
// param finishedAt: string: ISO 8601 time the run finished
// param ok: integer: models newly written
// param unchanged: integer: models already stored, not written again
// param failed: integer: files that could not be ingested
// columns: batch
MATCH (b:Batch {id: $batchId})
SET b.finishedAt = $finishedAt, b.ok = $ok, b.unchanged = $unchanged, b.failed = $failed
RETURN b.id AS batch
