// question: How many nodes and relationships does the store hold?
// columns: nodes, relationships
MATCH (n)
WITH count(n) AS nodes
OPTIONAL MATCH ()-[r]->()
RETURN nodes, count(r) AS relationships
