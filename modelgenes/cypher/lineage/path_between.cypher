// question: How are two models related by derivation: the shortest chain of DERIVED_FROM edges between them, in either direction? Follows the declared claims (model cards, manifests); lineage/inferred_ancestors and lineage/inferred_descendants add the claims inferred from weights and structure.
// param from: model: the first model
// param to: model: the second model
// columns: length, models, names, relations, directions
MATCH p = (a:Model {id: $from})-[:DERIVED_FROM*1..8]-(b:Model {id: $to})
WHERE all(r IN relationships(p) WHERE r.source = 'declared')
WITH p, length(p) AS hops, nodes(p) AS ns
RETURN hops AS length, [n IN ns | n.id] AS models, [n IN ns | n.name] AS names,
       [r IN relationships(p) | r.relation] AS relations,
       [i IN range(0, hops - 1) | CASE WHEN startNode(relationships(p)[i]) = ns[i] THEN 'child-of' ELSE 'parent-of' END] AS directions
ORDER BY length
LIMIT 1
