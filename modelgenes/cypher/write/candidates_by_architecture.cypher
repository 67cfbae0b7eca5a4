// question: Which stored models have these architecture hashes (derivation candidates, found through the archHash index), with their present weights parent?
// param keys: list[string]: architecture hashes (archHash)
// param limit: integer = 5000: at most this many models per hash
// columns: key, id, params, probe, parents
UNWIND $keys AS k
MATCH (c:Model {archHash: k})
WITH k, collect(c)[..$limit] AS found
UNWIND found AS c
RETURN k AS key, c.id AS id, c.params AS params, c.weightProbe AS probe,
       [(c)-[d:DERIVED_FROM {source: 'weights'}]->(p:Model) | [p.id, d.distance]] AS parents
