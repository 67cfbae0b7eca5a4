// question: Which models declare a publisher-specific license (llama3.1 names Meta, gemma Google) although neither they nor any ancestor is published by that publisher, and no base model of theirs is declared from it (untraceable-license)?
// param publishers: map: {license id: [{name, orgs: [hub organisations]}]}, from LicenseRules.publishers_param
// param relations: list[string]: the DERIVED_FROM relations that count as lineage (licenses.yaml lineage.relations)
// param minConfidence: float = 0.6: the least confidence an edge needs to count
// columns: model, name, hubId, subject, detail, evidence
MATCH (m:Model)-[:DECLARES_LICENSE]->(l:License)
WITH m, l, $publishers[l.spdxId] AS pubs
WHERE pubs IS NOT NULL
UNWIND pubs AS pub
WITH m, l, pub.name AS publisher, pub.orgs AS publisherOrgs, [o IN pub.orgs + [pub.name] | toLower(o)] AS orgs
OPTIONAL MATCH p = (m)-[:DERIVED_FROM*1..8]->(a:Model)
WHERE a.id <> m.id
  AND all(r IN relationships(p) WHERE r.relation IN $relations AND coalesce(r.confidence, 0.0) >= $minConfidence)
WITH m, l, publisher, publisherOrgs, orgs, a
ORDER BY coalesce(a.hubId, a.name)
WITH m, l, publisher, publisherOrgs, orgs, collect(DISTINCT a) AS ancestors
UNWIND [m] + ancestors AS x
OPTIONAL MATCH (x)-[:PUBLISHED_BY]->(xp:Publisher)
WITH m, l, publisher, publisherOrgs, orgs, ancestors, x, collect(toLower(xp.name)) AS xPublishers
WITH m, l, publisher, publisherOrgs, orgs, ancestors,
     collect({who: coalesce(x.hubId, x.name),
              orgs: [toLower(split(coalesce(x.hubId, ''), '/')[0])] + xPublishers,
              bases: coalesce(x.baseModels, [])}) AS line
WITH m, l, publisher, publisherOrgs, orgs, ancestors, line,
     [x IN line WHERE any(o IN x.orgs WHERE o IN orgs) | x.who] AS publishedBy,
     reduce(acc = [], x IN line | acc + [b IN x.bases WHERE toLower(split(b, '/')[0]) IN orgs]) AS claimed
WHERE size(publishedBy) = 0 AND size(claimed) = 0
WITH m, l, publisher, ancestors, coalesce(m.hubId, m.name) AS who,
     reduce(s = '', o IN publisherOrgs | s + CASE WHEN s = '' THEN '' ELSE ', ' END + o) AS orgText,
     reduce(s = '', a IN ancestors | s + CASE WHEN s = '' THEN '' ELSE ', ' END + coalesce(a.hubId, a.name)) AS ancestorText,
     [(m)-[:PUBLISHED_BY]->(mp:Publisher) | mp.name] AS ownPublishers
RETURN m.id AS model, m.name AS name, m.hubId AS hubId, l.spdxId AS subject,
       who + ' declares ' + l.spdxId + ', a license of ' + publisher + ', with no lineage to a model published by ' + publisher AS detail,
       [who + ' declares ' + l.spdxId + ', which names ' + publisher + ' (publishing as ' + orgText + ')',
        who + ' is published by ' + CASE WHEN size(ownPublishers) = 0 THEN 'no known publisher' ELSE reduce(s = '', o IN ownPublishers | s + CASE WHEN s = '' THEN '' ELSE ', ' END + o) END + ', not ' + publisher,
        CASE WHEN size(ancestors) = 0 THEN 'no ancestor: no DERIVED_FROM edge to a stored model' ELSE 'no ancestor published by ' + publisher + ' among: ' + ancestorText END,
        'no base_model declared from ' + publisher] AS evidence
ORDER BY hubId, name, subject
