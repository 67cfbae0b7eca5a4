// question: Which signatures do a family's models match, and in how many of them?
// param family: string: the family name
// columns: signature, specificity, models, share
MATCH (f:Family {name: $family})<-[:IDENTIFIED_AS]-(m:Model)
WITH f, count(m) AS total
MATCH (f)<-[:IDENTIFIED_AS]-(m:Model)-[:HAS_MATCH]->(:Match)-[:OF]->(s:Signature)
WITH s, total, count(DISTINCT m) AS models
RETURN s.id AS signature, s.specificity AS specificity, models, round(1000.0 * models / total) / 1000.0 AS share
ORDER BY models DESC, signature
