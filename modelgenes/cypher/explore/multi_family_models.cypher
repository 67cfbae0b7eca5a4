// question: Which models hold several families (multi-part models such as CNN + LSTM OCR models), with their components in data-flow order?
// columns: model, name, families, components
MATCH (m:Model)-[:IDENTIFIED_AS]->(f:Family)
WITH m, collect(f.name) AS families
WHERE size(families) > 1
OPTIONAL MATCH (m)-[:HAS_COMPONENT]->(c:Component)
WITH m, families, c
ORDER BY c.index
WITH m, families, collect(c.family) AS components
RETURN m.id AS model, m.name AS name, families, components
ORDER BY name
