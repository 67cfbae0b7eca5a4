// question: Which models are identified as a family, best score first?
// param family: string: the family name, e.g. "resnet"
// columns: model, name, hubId, score, params, format, otherFamilies
MATCH (m:Model)-[i:IDENTIFIED_AS]->(:Family {name: $family})
RETURN m.id AS model, m.name AS name, m.hubId AS hubId, i.score AS score, m.params AS params, m.format AS format,
       [(m)-[:IDENTIFIED_AS]->(o:Family) WHERE o.name <> $family | o.name] AS otherFamilies
ORDER BY score DESC, name
