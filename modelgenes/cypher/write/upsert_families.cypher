// question: Store the known families with their modality, and the curated VARIANT_OF edges between them (e.g. ModernBERT to BERT).
// param rows: list: maps {name, modality, displayName, variantOf: list of family names}
// columns: written
UNWIND $rows AS r
MERGE (f:Family {name: r.name})
SET f.modality = r.modality, f.displayName = r.displayName
FOREACH (v IN r.variantOf |
  MERGE (g:Family {name: v})
  MERGE (f)-[:VARIANT_OF]->(g))
RETURN count(f) AS written
