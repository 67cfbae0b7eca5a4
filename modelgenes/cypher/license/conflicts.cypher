// question: Which derivatives declare a license that drops a restriction an ancestor's license passes on (license-conflict)? One row per (model, ancestor), with the chain of DERIVED_FROM edges between them that rests least on inferred edges (weights, structure), the shortest such.
// param conflicts: map: {"ancestorLicense|modelLicense": {any: [obligations dropped], formatOnly: [obligations dropped when every edge only copies]}}, from LicenseRules.conflicts_param
// param licenses: map: {license id: {category, rank, keep}}, from LicenseRules.categories_param
// param relations: list[string]: the DERIVED_FROM relations that pass obligations on (licenses.yaml lineage.relations)
// param formatOnly: list[string]: the relations that copy without adapting (licenses.yaml lineage.format_only)
// param minConfidence: float = 0.6: the least confidence an edge needs to count
// columns: model, name, hubId, subject, detail, evidence
MATCH (c:Model)-[:DECLARES_LICENSE]->(cl:License)
MATCH p = (c)-[:DERIVED_FROM*1..8]->(a:Model)
WHERE a.id <> c.id
  AND all(r IN relationships(p) WHERE r.relation IN $relations AND coalesce(r.confidence, 0.0) >= $minConfidence)
MATCH (a)-[:DECLARES_LICENSE]->(al:License)
WITH c, cl, a, al, p, $conflicts[al.spdxId + '|' + cl.spdxId] AS rule
WHERE rule IS NOT NULL
WITH c, cl, a, al, p,
     CASE WHEN all(r IN relationships(p) WHERE r.relation IN $formatOnly) THEN rule.formatOnly ELSE rule.any END AS dropped
WHERE size(dropped) > 0
WITH c, cl, a, al, dropped, length(p) AS hops,
     size([r IN relationships(p) WHERE r.source = 'declared']) AS declaredEdges,
     [i IN range(0, length(p) - 1) |
        coalesce(nodes(p)[i].hubId, nodes(p)[i].name) + ' --' + relationships(p)[i].relation + ' (' +
        coalesce(relationships(p)[i].source, 'unknown source') + ', ' +
        toString(toInteger(round(coalesce(relationships(p)[i].confidence, 0.0) * 100))) + '%)--> ' +
        coalesce(nodes(p)[i + 1].hubId, nodes(p)[i + 1].name)] AS chain
WITH c, cl, a, al, dropped, hops, declaredEdges, chain,
     reduce(s = '', x IN chain | s + x + ' ') AS chainText
ORDER BY hops - declaredEdges, hops, chainText
WITH c, cl, a, al, collect(chain)[0] AS chain, collect(dropped)[0] AS dropped
WITH c, cl, a, al, chain, dropped, coalesce(c.hubId, c.name) AS who, coalesce(a.hubId, a.name) AS ancestor,
     reduce(s = '', o IN dropped | s + CASE WHEN s = '' THEN '' ELSE ', ' END + o) AS droppedText
RETURN c.id AS model, c.name AS name, c.hubId AS hubId, ancestor AS subject,
       who + ' declares ' + cl.spdxId + ' but derives from ' + ancestor + ' (' + al.spdxId + '), whose derivatives must keep: ' + droppedText AS detail,
       [who + ' declares ' + cl.spdxId + ' (' + coalesce($licenses[cl.spdxId].category, 'unknown') + ')'] + chain +
       [ancestor + ' declares ' + al.spdxId + ' (' + coalesce($licenses[al.spdxId].category, 'unknown') + '): a derivative must keep ' + droppedText] AS evidence
ORDER BY hubId, name, subject
