// question: Which stored models have these weight-shape hashes (derivation candidates, found through the shapesHash index), with a short weight probe and their present weights parent?
// param keys: list[string]: shapes hashes
// param limit: integer = 5000: at most this many models per hash
// columns: key, id, params, probe, parents
UNWIND $keys AS k
MATCH (c:Model {shapesHash: k})
OPTIONAL MATCH (c)-[d:DERIVED_FROM {source: 'weights'}]->(p:Model)
WITH k, c, [x IN collect([p.id, d.distance]) WHERE x[0] IS NOT NULL] AS parents
WITH k, collect({id: c.id, params: c.params, probe: c.weightProbe, parents: parents})[..$limit] AS found
UNWIND found AS row
RETURN k AS key, row.id AS id, row.params AS params, row.probe AS probe, row.parents AS parents
