// question: Create or update Model nodes by id (sha256), setting the given properties.
// param rows: list: maps {id: string, props: map of Model properties}
// columns: written
UNWIND $rows AS r
MERGE (m:Model {id: r.id})
SET m += r.props
RETURN count(m) AS written
