// question: Which models derive from a model by every source of evidence: declared claims and those inferred from weights and structure (nearest first, one row per descendant by its shortest chain)? Same-architecture links are not followed.
// param model: model: the model (its sha256 id; the CLI resolves a path, sha256 prefix, hub id or name)
// param maxDepth: integer = 8: follow at most this many DERIVED_FROM edges (1 to 8 are searched)
// param sources: list[string] = declared,weights,structure: the claim sources to follow, comma-separated
// columns: descendant, name, hubId, depth, relations, sources, chain
MATCH p = (d:Model)-[:DERIVED_FROM*1..8]->(m:Model {id: $model})
WHERE length(p) <= $maxDepth
  AND all(r IN relationships(p) WHERE r.source IN $sources AND r.relation <> 'same-architecture')
WITH d, p
ORDER BY length(p)
WITH d, collect(p)[0] AS p
RETURN d.id AS descendant, d.name AS name, d.hubId AS hubId, length(p) AS depth,
       [r IN relationships(p) | r.relation] AS relations,
       [r IN relationships(p) | r.source] AS sources,
       [n IN nodes(p) | n.name] AS chain
ORDER BY depth, name
