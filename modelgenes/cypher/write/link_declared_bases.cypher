// question: Add DERIVED_FROM edges a model card or manifest declares (base_model, base_model_relation), for every declared base whose hub id is stored.
// columns: child, parent, relation
MATCH (c:Model)
WHERE c.baseModels IS NOT NULL
UNWIND c.baseModels AS base
MATCH (p:Model {hubId: base})
WHERE p.id <> c.id
MERGE (c)-[d:DERIVED_FROM {source: 'declared'}]->(p)
SET d.relation = CASE WHEN size(c.baseModels) > 1 AND c.baseModelRelation IS NULL THEN 'merge' ELSE coalesce(c.baseModelRelation, 'finetune') END,
    d.evidence = ['declared base_model ' + base + ' (' + coalesce(c.metadataSource, 'metadata') + ')'],
    d.confidence = CASE WHEN c.baseModelRelation IS NULL THEN 0.7 ELSE 0.9 END
RETURN c.id AS child, p.id AS parent, d.relation AS relation
