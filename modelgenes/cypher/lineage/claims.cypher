// question: Every lineage claim about a model, in both directions: its parents and children by each source (declared, weights, structure), with relation, confidence, evidence, and what the weights say about declared claims.
// param model: model: the model (its sha256 id; the CLI resolves a path, sha256 prefix, hub id or name)
// columns: direction, other, name, hubId, relation, source, confidence, distance, weightsRelation, evidence
MATCH (m:Model {id: $model})-[d:DERIVED_FROM]-(o:Model)
RETURN CASE WHEN startNode(d) = m THEN 'parent' ELSE 'child' END AS direction,
       o.id AS other, o.name AS name, o.hubId AS hubId, d.relation AS relation, d.source AS source,
       d.confidence AS confidence, d.distance AS distance, d.weightsRelation AS weightsRelation,
       d.evidence AS evidence
ORDER BY direction DESC, source, confidence DESC, name
