// question: Which of these sha256 ids are already stored as models?
// param ids: list[string]: sha256 ids
// columns: id
UNWIND $ids AS id
MATCH (m:Model {id: id})
RETURN m.id AS id
