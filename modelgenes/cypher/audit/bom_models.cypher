// question: What does an ML-BOM need to know about models: identity, metadata, identified families, licenses, publishers, datasets? For the given ids, or for every model.
// param ids: list[string]: sha256 ids of the models (ignored when all is true)
// param all: boolean = false: every stored model
// columns: model, name, hubId, format, producer, opset, params, sizeBytes, archHash, task, quantised, families, licenses, publishers, datasets, architectures, modelType, libraryName, baseModels, baseModelRelation
MATCH (m:Model)
WHERE $all OR m.id IN $ids
OPTIONAL MATCH (m)-[i:IDENTIFIED_AS]->(f:Family)
WITH m, i, f
ORDER BY i.score DESC, f.name
WITH m, collect(CASE WHEN f IS NULL THEN null ELSE {name: f.name, displayName: coalesce(f.displayName, f.name), modality: f.modality, score: i.score} END) AS families
RETURN m.id AS model, m.name AS name, m.hubId AS hubId, m.format AS format, m.producer AS producer,
       m.opset AS opset, m.params AS params, m.sizeBytes AS sizeBytes, m.archHash AS archHash, m.task AS task,
       m.quantised AS quantised, families,
       [(m)-[:DECLARES_LICENSE]->(l:License) | l.spdxId] AS licenses,
       [(m)-[:PUBLISHED_BY]->(p:Publisher) | p.name] AS publishers,
       [(m)-[:TRAINED_ON]->(d:Dataset) | d.name] AS datasets,
       m.architectures AS architectures, m.modelType AS modelType, m.libraryName AS libraryName,
       m.baseModels AS baseModels, m.baseModelRelation AS baseModelRelation
ORDER BY coalesce(hubId, name), model
