// question: What is the derivation tree inside a family: every DERIVED_FROM edge whose child is identified as the family?
// param family: string: the family name, e.g. "bert"
// columns: child, childName, parent, parentName, relation, confidence, evidence
MATCH (c:Model)-[:IDENTIFIED_AS]->(:Family {name: $family})
MATCH (c)-[d:DERIVED_FROM]->(p:Model)
RETURN c.id AS child, c.name AS childName, p.id AS parent, p.name AS parentName,
       d.relation AS relation, d.confidence AS confidence, d.evidence AS evidence
ORDER BY parentName, childName
