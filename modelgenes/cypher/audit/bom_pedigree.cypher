// question: Which models are the ancestors of the given models along DERIVED_FROM edges (lineage relations only), with every edge on the way into each ancestor: the child it leaves, relation, source, confidence and evidence?
// param ids: list[string]: sha256 ids of the models whose pedigree is wanted
// param relations: list[string]: the DERIVED_FROM relations that count as lineage (licenses.yaml lineage.relations)
// param minConfidence: float = 0.6: the least confidence an edge needs to count
// columns: model, ancestor, depth, child, childName, relation, source, confidence, evidence
UNWIND $ids AS id
MATCH p = (m:Model {id: id})-[:DERIVED_FROM*1..8]->(a:Model)
WHERE a.id <> m.id
  AND all(r IN relationships(p) WHERE r.relation IN $relations AND coalesce(r.confidence, 0.0) >= $minConfidence)
WITH m, a, length(p) AS depth, last(relationships(p)) AS r, nodes(p)[length(p) - 1] AS c
RETURN m.id AS model, a.id AS ancestor, min(depth) AS depth, c.id AS child, coalesce(c.hubId, c.name) AS childName,
       r.relation AS relation, r.source AS source, r.confidence AS confidence, r.evidence AS evidence
ORDER BY model, depth, ancestor, childName, source
