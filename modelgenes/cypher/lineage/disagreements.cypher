// question: Where do lineage sources disagree: a declared base that is not stored, a declared edge the weights contradict, or weights that name another parent than the card? Each row gives both claims and their sources.
// columns: kind, model, name, hubId, claim, claimSource, otherClaim, otherSource, evidence
MATCH (c:Model)
WHERE c.baseModels IS NOT NULL
UNWIND c.baseModels AS base
OPTIONAL MATCH (p:Model {hubId: base})
WITH c, base, p
WHERE p IS NULL
OPTIONAL MATCH (c)-[w:DERIVED_FROM {source: 'weights'}]->(q:Model)
RETURN 'declared-base-missing' AS kind, c.id AS model, c.name AS name, c.hubId AS hubId,
       coalesce(c.baseModelRelation, 'finetune') + ' of ' + base AS claim, 'declared' AS claimSource,
       CASE WHEN q IS NULL THEN 'no stored model has hub id ' + base
            ELSE 'no stored model has hub id ' + base + '; the weights say ' + w.relation + ' of ' + q.name END AS otherClaim,
       CASE WHEN q IS NULL THEN 'knowledge base' ELSE 'knowledge base, weights' END AS otherSource,
       CASE WHEN q IS NULL THEN [] ELSE w.evidence END AS evidence
UNION ALL
MATCH (c:Model)-[d:DERIVED_FROM {source: 'declared'}]->(p:Model)
WHERE d.weightsAgree = false
RETURN 'weights-contradict-declared' AS kind, c.id AS model, c.name AS name, c.hubId AS hubId,
       d.relation + ' of ' + p.name AS claim, 'declared' AS claimSource,
       CASE WHEN d.weightsRelation = 'unrelated'
            THEN 'not derived from ' + p.name + ': unrelated weights (distance ' + toString(d.weightsDistance) + ')'
            ELSE d.weightsRelation + ' of ' + p.name + ' (distance ' + toString(d.weightsDistance) + ')' END AS otherClaim,
       'weights' AS otherSource, [d.weightsEvidence] AS evidence
UNION ALL
MATCH (c:Model)-[w:DERIVED_FROM {source: 'weights'}]->(q:Model)
MATCH (c)-[d:DERIVED_FROM {source: 'declared'}]->(p:Model)
WITH c, w, q, collect(p.id) AS declaredIds, collect(d.relation + ' of ' + p.name) AS declared
WHERE NOT q.id IN declaredIds
RETURN 'weights-name-another-parent' AS kind, c.id AS model, c.name AS name, c.hubId AS hubId,
       reduce(s = '', x IN declared | s + CASE WHEN s = '' THEN '' ELSE '; ' END + x) AS claim,
       'declared' AS claimSource, w.relation + ' of ' + q.name AS otherClaim, 'weights' AS otherSource,
       w.evidence AS evidence
