// question: Record on declared DERIVED_FROM edges what the weights say about them: the relation the weights suggest (or unrelated / not-comparable), the distance, whether that agrees, and the evidence.
// param rows: list: maps {child, parent, relation, distance, agrees, evidence}
// columns: checked
UNWIND $rows AS r
MATCH (c:Model {id: r.child})-[d:DERIVED_FROM {source: 'declared'}]->(p:Model {id: r.parent})
SET d.weightsRelation = r.relation, d.weightsDistance = r.distance, d.weightsAgree = r.agrees,
    d.weightsEvidence = r.evidence
RETURN count(d) AS checked
