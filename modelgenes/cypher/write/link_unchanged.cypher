// question: Link models a batch found already stored (same sha256) to the batch, and remember the path they were seen at.
// param rows: list: maps {id, path}
// param batchId: string: the batch id
// columns: linked
MATCH (b:Batch {id: $batchId})
UNWIND $rows AS r
MATCH (m:Model {id: r.id})
SET m.paths = CASE WHEN r.path IN coalesce(m.paths, []) THEN m.paths ELSE coalesce(m.paths, []) + [r.path] END
MERGE (m)-[:INGESTED_IN]->(b)
RETURN count(m) AS linked
