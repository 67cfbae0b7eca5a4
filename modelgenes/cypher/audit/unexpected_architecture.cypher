// question: Which models are identified as a family the policy does not allow (not in its allowed list, or in its denied list; a variant counts as the family it refines too) (unexpected-architecture)?
// param allowed: list[string]: the families the policy allows; empty allows every family
// param denied: list[string]: the families the policy denies
// columns: model, name, hubId, subject, detail, evidence
MATCH (m:Model)-[i:IDENTIFIED_AS]->(f:Family)
OPTIONAL MATCH (f)-[:VARIANT_OF*1..4]->(g:Family)
WITH m, i, f, [f.name] + collect(g.name) AS names
WITH m, i, f, [n IN names WHERE n IN $denied] AS deniedBy,
     size($allowed) > 0 AND none(n IN names WHERE n IN $allowed) AS notAllowed
WHERE size(deniedBy) > 0 OR notAllowed
WITH m, i, f, size(deniedBy) > 0 AS denied, notAllowed, coalesce(m.hubId, m.name) AS who,
     reduce(s = '', x IN deniedBy | s + CASE WHEN s = '' THEN '' ELSE ', ' END + toString(x)) AS deniedText,
     reduce(s = '', x IN $allowed | s + CASE WHEN s = '' THEN '' ELSE ', ' END + x) AS allowedText,
     reduce(s = '', x IN coalesce(i.evidence, []) | s + CASE WHEN s = '' THEN '' ELSE ', ' END + x) AS signatureText
RETURN m.id AS model, m.name AS name, m.hubId AS hubId, f.name AS subject,
       who + ' is identified as ' + f.name + ', a family the policy ' + CASE WHEN denied THEN 'denies' ELSE 'does not allow' END AS detail,
       ['identified as ' + f.name + ' (score ' + toString(toInteger(round(coalesce(i.score, 0.0) * 100))) + '%)' +
        CASE WHEN signatureText = '' THEN '' ELSE ' by ' + signatureText END] +
       CASE WHEN denied THEN ['the policy denies ' + deniedText] ELSE [] END +
       CASE WHEN notAllowed THEN ['the policy allows only ' + allowedText] ELSE [] END AS evidence
ORDER BY hubId, name, subject
