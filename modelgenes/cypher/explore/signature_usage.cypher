// question: How often does each signature match across the knowledge base?
// columns: signature, family, specificity, models, instances
MATCH (s:Signature)
OPTIONAL MATCH (s)<-[:OF]-(x:Match)<-[:HAS_MATCH]-(m:Model)
RETURN s.id AS signature, s.family AS family, s.specificity AS specificity,
       count(DISTINCT m) AS models, toInteger(sum(coalesce(x.count, 0))) AS instances
ORDER BY models DESC, signature
