// question: Which licenses does the store know, with their category, the publisher they name, and how many models declare each?
// columns: license, category, publisher, keep, models
MATCH (l:License)
RETURN l.spdxId AS license, l.category AS category, l.publisher AS publisher, l.keep AS keep,
       size([(m:Model)-[:DECLARES_LICENSE]->(l) | m]) AS models
ORDER BY models DESC, license
