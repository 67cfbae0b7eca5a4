// question: From which models does a model derive by every source of evidence: declared claims and those inferred from weights and structure (nearest first, one row per ancestor by its shortest chain)? Same-architecture links are kinship, not derivation, and are not followed.
// param model: model: the model (its sha256 id; the CLI resolves a path, sha256 prefix, hub id or name)
// param maxDepth: integer = 8: follow at most this many DERIVED_FROM edges (1 to 8 are searched)
// param sources: list[string] = declared,weights,structure: the claim sources to follow, comma-separated
// columns: ancestor, name, hubId, depth, relations, sources, chain
MATCH p = (m:Model {id: $model})-[:DERIVED_FROM*1..8]->(a:Model)
WHERE length(p) <= $maxDepth
  AND all(r IN relationships(p) WHERE r.source IN $sources AND r.relation <> 'same-architecture')
WITH a, p
ORDER BY length(p)
WITH a, collect(p)[0] AS p
RETURN a.id AS ancestor, a.name AS name, a.hubId AS hubId, length(p) AS depth,
       [r IN relationships(p) | r.relation] AS relations,
       [r IN relationships(p) | r.source] AS sources,
       [n IN nodes(p) | n.name] AS chain
ORDER BY depth, name
