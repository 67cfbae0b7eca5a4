// question: Store inferred DERIVED_FROM edges, one per child, parent and source (weights or structure), with relation, evidence, confidence and weight distance.
// param rows: list: maps {child, parent, source, relation, evidence: list of strings, confidence, distance (or null)}
// param inferredAt: string: ISO 8601 time of the inference
// columns: written
UNWIND $rows AS r
MATCH (c:Model {id: r.child})
MATCH (p:Model {id: r.parent})
MERGE (c)-[d:DERIVED_FROM {source: r.source}]->(p)
SET d.relation = r.relation, d.evidence = r.evidence, d.confidence = r.confidence,
    d.distance = r.distance, d.inferredAt = $inferredAt
RETURN count(d) AS written
