// question: Which models have no identified family, no declared base model and no DERIVED_FROM edge to a stored model (unknown-genealogy)?
// param relations: list[string]: the DERIVED_FROM relations that count as lineage (licenses.yaml lineage.relations)
// columns: model, name, hubId, subject, detail, evidence
MATCH (m:Model)
WITH m, [(m)-[:IDENTIFIED_AS]->(f:Family) | f.name] AS families,
     [(m)-[r:DERIVED_FROM]->(:Model) | r.relation] AS lineage
WHERE size(families) = 0 AND size(coalesce(m.baseModels, [])) = 0
  AND none(x IN lineage WHERE x IN $relations)
OPTIONAL MATCH (m)-[:HAS_MATCH]->(:Match)-[:OF]->(s:Signature)
WITH m, s
ORDER BY s.id
WITH m, coalesce(m.hubId, m.name) AS who, collect(s.id) AS signatures
RETURN m.id AS model, m.name AS name, m.hubId AS hubId, null AS subject,
       who + ' matches no signature family and declares no base model' AS detail,
       [CASE WHEN size(signatures) = 0 THEN 'no signature matched its graph'
             ELSE 'no family identified; only broad signatures matched: ' + reduce(s = '', x IN signatures | s + CASE WHEN s = '' THEN '' ELSE ', ' END + x) END,
        'no base_model declared in its metadata',
        'no DERIVED_FROM edge to a stored model'] AS evidence
ORDER BY hubId, name
