// question: Which models declare a task (pipeline_tag) that none of their identified families' modalities can serve, e.g. a vision graph declared text-generation (task-mismatch)?
// param tasks: map: {pipeline_tag: [modalities that can serve it]}, from modelgenes/genealogy/tasks.yaml
// param genericFamilies: list[string]: families that never make a mismatch on their own (tasks.yaml generic_families)
// columns: model, name, hubId, subject, detail, evidence
MATCH (m:Model)-[i:IDENTIFIED_AS]->(f:Family)
WHERE m.task IS NOT NULL AND NOT f.name IN $genericFamilies
WITH m, i, f
ORDER BY i.score DESC, f.name
WITH m, $tasks[toLower(m.task)] AS fits,
     collect({name: f.name, modality: coalesce(f.modality, 'unknown'), score: i.score, evidence: coalesce(i.evidence, [])}) AS families
WHERE fits IS NOT NULL AND none(f IN families WHERE f.modality IN fits)
WITH m, fits, families, coalesce(m.hubId, m.name) AS who,
     reduce(s = '', x IN fits | s + CASE WHEN s = '' THEN '' ELSE ' or ' END + x) AS fitText,
     reduce(s = '', f IN families | s + CASE WHEN s = '' THEN '' ELSE ', ' END + f.name + ' (' + f.modality + ')') AS familyText
RETURN m.id AS model, m.name AS name, m.hubId AS hubId, m.task AS subject,
       who + ' is declared ' + m.task + ' (a ' + fitText + ' task) but its graph is ' + familyText AS detail,
       ['pipeline_tag ' + m.task + ' wants a ' + fitText + ' model'] +
       [f IN families | 'identified as ' + f.name + ' (' + f.modality + ', score ' + toString(toInteger(round(coalesce(f.score, 0.0) * 100))) + '%)' +
                        CASE WHEN size(f.evidence) = 0 THEN '' ELSE ' by ' + reduce(s = '', x IN f.evidence | s + CASE WHEN s = '' THEN '' ELSE ', ' END + x) END] AS evidence
ORDER BY hubId, name
