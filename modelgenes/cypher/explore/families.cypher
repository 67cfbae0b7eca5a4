// question: Which families does the store know, with their modality and how many models are identified as each?
// columns: family, modality, models, variantOf
MATCH (f:Family)
OPTIONAL MATCH (f)<-[:IDENTIFIED_AS]-(m:Model)
WITH f, count(m) AS models
RETURN f.name AS family, f.modality AS modality, models, [(f)-[:VARIANT_OF]->(g:Family) | g.name] AS variantOf
ORDER BY models DESC, family
