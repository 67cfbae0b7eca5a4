// question: Which models are identified as several families (multi-part models such as a CNN feeding an LSTM), with their components in data-flow order (multi-family, informational)?
// columns: model, name, hubId, subject, detail, evidence
MATCH (m:Model)-[i:IDENTIFIED_AS]->(f:Family)
WITH m, i, f
ORDER BY i.score DESC, f.name
WITH m, collect({name: f.name, score: i.score}) AS families
WHERE size(families) > 1
WITH m, families, [(m)-[:HAS_COMPONENT]->(c:Component) | c] AS parts, coalesce(m.hubId, m.name) AS who,
     reduce(s = '', f IN families | s + CASE WHEN s = '' THEN '' ELSE ', ' END + f.name) AS familyText
WITH m, families, who, familyText,
     [k IN range(0, size(parts) - 1) | head([c IN parts WHERE c.index = k | c.family])] AS components
RETURN m.id AS model, m.name AS name, m.hubId AS hubId, familyText AS subject,
       who + ' holds ' + toString(size(families)) + ' families: ' + familyText AS detail,
       [f IN families | 'identified as ' + f.name + ' (score ' + toString(toInteger(round(coalesce(f.score, 0.0) * 100))) + '%)'] +
       CASE WHEN size(components) = 0 THEN [] ELSE ['components in data-flow order: ' + reduce(s = '', c IN components | s + CASE WHEN s = '' THEN '' ELSE ' -> ' END + coalesce(c, '?'))] END AS evidence
ORDER BY hubId, name
