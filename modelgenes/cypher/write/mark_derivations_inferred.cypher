// question: Mark models whose derivation inference has run (with the inference version), so a batch run again after a crash picks up the ones it missed.
// param ids: list[string]: sha256 ids
// param version: string: the inference version
// columns: marked
UNWIND $ids AS id
MATCH (m:Model {id: id})
SET m.derivationsInferred = $version
RETURN count(m) AS marked
