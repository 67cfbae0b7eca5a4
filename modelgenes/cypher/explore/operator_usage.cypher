// question: Which operators do the stored models use, in how many models and how often in all?
// param limit: integer = 20: at most this many operators
// columns: operator, models, occurrences
MATCH (m:Model)-[u:USES_OP]->(o:Operator)
RETURN o.name AS operator, count(m) AS models, toInteger(sum(u.count)) AS occurrences
ORDER BY models DESC, occurrences DESC, operator
LIMIT $limit
