// question: Which stored models are most like a model: same architecture hash, and the share of signatures they match in common?
// param model: model: the model (its sha256 id; the CLI resolves a path, sha256 prefix, hub id or name)
// param limit: integer = 20: at most this many models
// columns: model, name, sameArchitecture, similarity, shared
MATCH (m:Model {id: $model})-[:HAS_MATCH]->(:Match)-[:OF]->(s:Signature)
WITH m, collect(DISTINCT s.id) AS mine
MATCH (o:Model)-[:HAS_MATCH]->(:Match)-[:OF]->(t:Signature)
WHERE o.id <> m.id
WITH m, mine, o, collect(DISTINCT t.id) AS theirs
WITH m, o, mine, theirs, [x IN mine WHERE x IN theirs] AS shared
WHERE size(shared) > 0 OR o.archHash = m.archHash
RETURN o.id AS model, o.name AS name, o.archHash = m.archHash AS sameArchitecture,
       round(1000.0 * size(shared) / (size(mine) + size(theirs) - size(shared))) / 1000.0 AS similarity,
       shared
ORDER BY sameArchitecture DESC, similarity DESC, name
LIMIT $limit
