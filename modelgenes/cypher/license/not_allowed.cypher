// question: Which models declare a license the policy does not allow: its category is not among the allowed ones (a model declaring no license has category "none"), or the license is denied by id (license-not-allowed)?
// param licenses: map: {license id: {category, rank, keep}}, from LicenseRules.categories_param
// param allowedCategories: list[string]: the license categories the policy allows; empty allows every category
// param deniedLicenses: list[string]: license ids the policy denies, as stored (SPDX id or hub id)
// param noLicense: string = none: the category of a model that declares no license
// columns: model, name, hubId, subject, detail, evidence
MATCH (m:Model)
OPTIONAL MATCH (m)-[:DECLARES_LICENSE]->(l:License)
WITH m, l, CASE WHEN l IS NULL THEN $noLicense ELSE coalesce($licenses[l.spdxId].category, 'unknown') END AS category
WITH m, l, category, l IS NOT NULL AND l.spdxId IN $deniedLicenses AS denied,
     size($allowedCategories) > 0 AND NOT category IN $allowedCategories AS notAllowed
WHERE denied OR notAllowed
WITH m, l, category, denied, notAllowed, coalesce(m.hubId, m.name) AS who,
     CASE WHEN l IS NULL THEN 'no license' ELSE l.spdxId END AS license
RETURN m.id AS model, m.name AS name, m.hubId AS hubId, license AS subject,
       who + CASE WHEN l IS NULL THEN ' declares no license' ELSE ' declares ' + license + ' (' + category + ')' END +
       ', which the policy ' + CASE WHEN denied THEN 'denies' ELSE 'does not allow' END AS detail,
       [who + CASE WHEN l IS NULL THEN ' declares no license (category ' + category + ')' ELSE ' declares ' + license + ' (category ' + category + ')' END] +
       CASE WHEN denied THEN ['the policy denies ' + license] ELSE [] END +
       CASE WHEN notAllowed THEN ['the policy allows only license categories ' + reduce(s = '', x IN $allowedCategories | s + CASE WHEN s = '' THEN '' ELSE ', ' END + x)] ELSE [] END AS evidence
ORDER BY hubId, name
