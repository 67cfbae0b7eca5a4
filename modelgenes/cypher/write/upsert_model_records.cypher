// question: Store whole models: identity and metadata, operators, signature matches, families, components, license, publisher, datasets, and the batch that brought them. One statement per batch of models, so a model is never half written; facts from an earlier identification of the same model are replaced.
// param rows: list: one map per model, built by modelgenes.kb.write.model_row
// param batchId: string: the id of the ingest batch
// columns: written
MATCH (b:Batch {id: $batchId})
UNWIND $rows AS r
MERGE (m:Model {id: r.id})
ON CREATE SET m.ingestedAt = r.ingestedAt
SET m += r.props
SET m.paths = CASE WHEN r.path IN coalesce(m.paths, []) THEN m.paths ELSE coalesce(m.paths, []) + [r.path] END
WITH b, m, r
OPTIONAL MATCH (m)-[:HAS_MATCH|HAS_COMPONENT]->(old)
DETACH DELETE old
WITH DISTINCT b, m, r
OPTIONAL MATCH (m)-[stale:USES_OP|IDENTIFIED_AS|DECLARES_LICENSE|PUBLISHED_BY|TRAINED_ON]->()
DELETE stale
WITH DISTINCT b, m, r
FOREACH (op IN r.ops |
  MERGE (o:Operator {name: op.name})
  CREATE (m)-[:USES_OP {count: op.count}]->(o))
FOREACH (x IN r.matches |
  MERGE (s:Signature {id: x.signature})
  CREATE (mt:Match {id: r.id + '|' + x.signature, count: x.count, coverage: x.coverage, nodes: x.nodes})
  CREATE (m)-[:HAS_MATCH]->(mt)
  CREATE (mt)-[:OF]->(s))
FOREACH (f IN r.families |
  MERGE (fa:Family {name: f.name})
  CREATE (m)-[:IDENTIFIED_AS {score: f.score, evidence: f.evidence}]->(fa))
FOREACH (c IN r.components |
  CREATE (cp:Component {id: r.id + '|' + toString(c.index), index: c.index, family: c.family, firstNode: c.first, lastNode: c.last, nodes: c.nodes})
  CREATE (m)-[:HAS_COMPONENT]->(cp))
FOREACH (i IN range(0, size(r.components) - 2) |
  MERGE (c1:Component {id: r.id + '|' + toString(i)})
  MERGE (c2:Component {id: r.id + '|' + toString(i + 1)})
  MERGE (c1)-[:NEXT]->(c2))
FOREACH (l IN r.licenses |
  MERGE (li:License {spdxId: l})
  CREATE (m)-[:DECLARES_LICENSE]->(li))
FOREACH (p IN r.publishers |
  MERGE (pu:Publisher {name: p})
  CREATE (m)-[:PUBLISHED_BY]->(pu))
FOREACH (d IN r.datasets |
  MERGE (ds:Dataset {name: d})
  CREATE (m)-[:TRAINED_ON]->(ds))
MERGE (m)-[:INGESTED_IN]->(b)
RETURN count(DISTINCT m) AS written
