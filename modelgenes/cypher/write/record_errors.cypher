// question: Record files a batch could not ingest, each as an IngestError of the batch.
// param rows: list: maps {id, path, sha256, kind, message}
// param batchId: string: the batch id
// columns: written
MATCH (b:Batch {id: $batchId})
UNWIND $rows AS r
MERGE (e:IngestError {id: r.id})
SET e.path = r.path, e.sha256 = r.sha256, e.kind = r.kind, e.message = r.message
MERGE (b)-[:HAD_ERROR]->(e)
RETURN count(e) AS written
