// question: Which of these models has derivation inference not run for yet (or run by another inference version)?
// param ids: list[string]: sha256 ids
// param version: string: the current inference version
// columns: id
UNWIND $ids AS id
MATCH (m:Model {id: id})
WHERE m.derivationsInferred IS NULL OR m.derivationsInferred <> $version
RETURN m.id AS id
