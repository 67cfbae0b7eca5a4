// question: What does the store know about one model: identity, metadata, families, license, publisher, datasets?
// param model: model: the model (its sha256 id; the CLI resolves a path, sha256 prefix, hub id or name)
// columns: model, name, hubId, format, producer, opset, params, archHash, task, families, licenses, publishers, datasets, paths
MATCH (m:Model {id: $model})
RETURN m.id AS model, m.name AS name, m.hubId AS hubId, m.format AS format, m.producer AS producer,
       m.opset AS opset, m.params AS params, m.archHash AS archHash, m.task AS task,
       [(m)-[i:IDENTIFIED_AS]->(f:Family) | f.name] AS families,
       [(m)-[:DECLARES_LICENSE]->(l:License) | l.spdxId] AS licenses,
       [(m)-[:PUBLISHED_BY]->(p:Publisher) | p.name] AS publishers,
       [(m)-[:TRAINED_ON]->(d:Dataset) | d.name] AS datasets,
       m.paths AS paths
