// question: Which declared DERIVED_FROM edges (from model cards or manifests) touch these models, as child or as parent?
// param ids: list[string]: sha256 ids
// columns: child, parent, relation
UNWIND $ids AS id
MATCH (m:Model {id: id})-[d:DERIVED_FROM {source: 'declared'}]-(:Model)
RETURN DISTINCT startNode(d).id AS child, endNode(d).id AS parent, d.relation AS relation
