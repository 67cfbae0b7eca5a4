// question: Which stored models share a model's architecture hash (found through the archHash index) but not its weight-shape hash, with a parameter count within 20 % (sketches that may still compare, e.g. one extra tensor), nearest in size first, with their present weights parent?
// param rows: list: maps {subject: the model's id, key: its archHash, shapes: its shapesHash (or ''), params: its parameter count}
// param limit: integer = 8: at most this many models per subject
// columns: subject, id, params, parents
UNWIND $rows AS r
MATCH (c:Model {archHash: r.key})
WHERE c.id <> r.subject AND coalesce(c.shapesHash, '') <> r.shapes
  AND c.params >= r.params * 0.8 AND c.params <= r.params * 1.25
WITH r, c
ORDER BY abs(c.params - r.params), c.id
WITH r, collect(c.id)[..$limit] AS found
UNWIND found AS id
MATCH (c:Model {id: id})
OPTIONAL MATCH (c)-[d:DERIVED_FROM {source: 'weights'}]->(p:Model)
RETURN r.subject AS subject, c.id AS id, c.params AS params,
       [x IN collect([p.id, d.distance]) WHERE x[0] IS NOT NULL] AS parents
