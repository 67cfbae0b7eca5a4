// question: Open (or reopen, after a crash) an ingest batch.
// param batchId: string: the batch id (its --batch-name, or a generated one)
// param source: string: what was ingested (the paths given)
// param startedAt: string: ISO 8601 time the run started
// columns: batch
MERGE (b:Batch {id: $batchId})
SET b.source = $source, b.startedAt = $startedAt, b.finishedAt = null
RETURN b.id AS batch
