// question: Remove the weights-inferred DERIVED_FROM edges of these child models, before newer inferences replace them (declared edges stay).
// param ids: list[string]: sha256 ids of the children
// columns: removed
UNWIND $ids AS id
MATCH (:Model {id: id})-[d:DERIVED_FROM {source: 'weights'}]->(:Model)
DELETE d
RETURN count(*) AS removed
