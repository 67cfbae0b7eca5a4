// question: Which ingest batches ran, with their counts and errors?
// columns: batch, source, startedAt, finishedAt, ok, unchanged, failed, errors
MATCH (b:Batch)
RETURN b.id AS batch, b.source AS source, b.startedAt AS startedAt, b.finishedAt AS finishedAt,
       b.ok AS ok, b.unchanged AS unchanged, b.failed AS failed,
       [(b)-[:HAD_ERROR]->(e:IngestError) | e.path + ': ' + e.message] AS errors
ORDER BY startedAt DESC
