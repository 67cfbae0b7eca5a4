// question: Delete every node and relationship (the schema stays).
// columns: deleted
MATCH (n)
DETACH DELETE n
RETURN count(*) AS deleted
