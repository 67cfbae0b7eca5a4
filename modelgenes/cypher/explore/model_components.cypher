// question: What are a model's components, in data-flow order?
// param model: model: the model (its sha256 id; the CLI resolves a path, sha256 prefix, hub id or name)
// columns: index, family, nodes, firstNode, lastNode
MATCH (:Model {id: $model})-[:HAS_COMPONENT]->(c:Component)
RETURN c.index AS index, c.family AS family, c.nodes AS nodes, c.firstNode AS firstNode, c.lastNode AS lastNode
ORDER BY index
