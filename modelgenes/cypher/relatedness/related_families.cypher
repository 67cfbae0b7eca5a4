// question: Which families are related to a family, because their models match the same broad signatures (attention, FFN, ...)? Similarity is the Jaccard index of the two families' broad-signature sets.
// param family: string: the family name, e.g. "bert"
// param minSimilarity: float = 0.5: keep families at least this similar (0 to 1; 0.5 is a good default)
// columns: family, similarity, shared, onlyHere, onlyThere, curated
MATCH (f:Family {name: $family})<-[:IDENTIFIED_AS]-(:Model)-[:HAS_MATCH]->(:Match)-[:OF]->(s:Signature {specificity: 'broad'})
WITH f, collect(DISTINCT s.id) AS mine
MATCH (g:Family)<-[:IDENTIFIED_AS]-(:Model)-[:HAS_MATCH]->(:Match)-[:OF]->(t:Signature {specificity: 'broad'})
WHERE g.name <> f.name
WITH f, mine, g, collect(DISTINCT t.id) AS theirs
WITH f, g, mine, theirs, [x IN mine WHERE x IN theirs] AS shared
WHERE size(shared) > 0
WITH f, g, shared, mine, theirs,
     toFloat(size(shared)) / (size(mine) + size(theirs) - size(shared)) AS similarity
WHERE similarity >= $minSimilarity
RETURN g.name AS family, round(similarity * 1000) / 1000.0 AS similarity, shared,
       [x IN mine WHERE NOT x IN theirs] AS onlyHere,
       [x IN theirs WHERE NOT x IN mine] AS onlyThere,
       size([(f)-[:VARIANT_OF]-(g) | 1]) > 0 AS curated
ORDER BY similarity DESC, family
