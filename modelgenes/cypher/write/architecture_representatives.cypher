// question: For each architecture hash, which model do same-architecture edges point to: the first stored (earliest ingestedAt), float before quantised, a model declaring no base first, then the smallest id?
// param keys: list[string]: architecture hashes (archHash)
// columns: archHash, representative
UNWIND $keys AS k
MATCH (m:Model {archHash: k})
WITH k, m
ORDER BY m.ingestedAt, coalesce(m.quantised, false), size(coalesce(m.baseModels, [])), m.id
WITH k, collect(m.id)[0] AS representative
RETURN k AS archHash, representative
