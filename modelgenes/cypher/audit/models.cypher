// question: How many models does the audit cover?
// columns: models
MATCH (m:Model)
RETURN count(m) AS models
