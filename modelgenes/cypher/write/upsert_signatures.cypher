// question: Store the signature library: each signature with its family and specificity, and which family a family-specific signature indicates.
// param rows: list: maps {id, family, specificity, description}
// columns: written
UNWIND $rows AS r
MERGE (s:Signature {id: r.id})
SET s.family = r.family, s.specificity = r.specificity, s.description = r.description
FOREACH (f IN CASE WHEN r.specificity = 'family' THEN [r.family] ELSE [] END |
  MERGE (fa:Family {name: f})
  MERGE (s)-[:INDICATES]->(fa))
RETURN count(s) AS written
