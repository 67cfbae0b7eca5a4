// question: Which stored models does a user's reference name: a sha256 prefix, a hub id, a name or a path seen at ingest?
// param ref: string: what the user typed
// columns: model, name, hubId, paths
MATCH (m:Model)
WHERE m.id STARTS WITH $ref OR m.hubId = $ref OR m.name = $ref OR $ref IN coalesce(m.paths, [])
RETURN m.id AS model, m.name AS name, m.hubId AS hubId, m.paths AS paths
ORDER BY name
LIMIT 20
