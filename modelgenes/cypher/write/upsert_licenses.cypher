// question: Store the license rules of modelgenes/genealogy/licenses.yaml on License nodes: category, its restrictiveness rank, what a derivative must keep, the licenses share-alike accepts, and the publisher the license names with its hub organisations.
// param rows: list: maps {id, category, rank, keep, sameLicense, publisher, publisherOrgs, known}, built by LicenseRules.license_rows
// columns: written
UNWIND $rows AS r
MERGE (l:License {spdxId: r.id})
SET l.category = r.category, l.categoryRank = r.rank, l.keep = r.keep, l.sameLicense = r.sameLicense,
    l.publisher = r.publisher, l.publisherOrgs = r.publisherOrgs, l.known = r.known
RETURN count(l) AS written
