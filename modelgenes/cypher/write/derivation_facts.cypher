// question: What does derivation inference need to know about these models: identity, metadata, architecture, weight sketch, and whether inference already ran for them?
// param ids: list[string]: sha256 ids
// columns: id, name, hubId, archHash, params, quantised, opset, producer, baseModels, baseModelRelation, described, ingestedAt, createdAt, inferred, weightSketch, shapesHash, weightK, weightShapes, weightStats, weightSamples, weightSkipped
UNWIND $ids AS id
MATCH (m:Model {id: id})
RETURN m.id AS id, m.name AS name, m.hubId AS hubId, m.archHash AS archHash, m.params AS params,
       m.quantised AS quantised,
       m.opset AS opset, m.producer AS producer, m.baseModels AS baseModels,
       m.baseModelRelation AS baseModelRelation, size(coalesce(m.metadataSources, [])) > 0 AS described,
       m.ingestedAt AS ingestedAt, m.createdAt AS createdAt, m.derivationsInferred AS inferred,
       m.weightSketch AS weightSketch, m.shapesHash AS shapesHash, m.weightK AS weightK,
       m.weightShapes AS weightShapes, m.weightStats AS weightStats,
       m.weightSamples AS weightSamples, m.weightSkipped AS weightSkipped
