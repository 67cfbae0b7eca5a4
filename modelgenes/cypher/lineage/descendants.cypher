// question: Which models derive from a model, directly or through a chain (nearest first)? Follows the declared claims (model cards, manifests); lineage/inferred_ancestors and lineage/inferred_descendants add the claims inferred from weights and structure.
// param model: model: the model (its sha256 id; the CLI resolves a path, sha256 prefix, hub id or name)
// param maxDepth: integer = 8: follow at most this many DERIVED_FROM edges (1 to 8 are searched)
// columns: descendant, name, hubId, depth, relations, chain
MATCH p = (d:Model)-[:DERIVED_FROM*1..8]->(m:Model {id: $model})
WHERE length(p) <= $maxDepth AND all(r IN relationships(p) WHERE r.source = 'declared')
RETURN d.id AS descendant, d.name AS name, d.hubId AS hubId, length(p) AS depth,
       [r IN relationships(p) | r.relation] AS relations,
       [n IN nodes(p) | n.name] AS chain
ORDER BY depth, name
