// Lints Cypher statements with Neo4j's own linter (@neo4j-cypher/language-support), without a server.
//
// stdin:  {"schema": {"labels": [...], "relationshipTypes": [...], "propertyKeys": [...]?},
//          "queries": [{"name": str, "text": str, "parameters": {name: sampleValue}}]}
// stdout: a JSON list with one entry per query, in input order: a list of diagnostics
//         {"severity": "error"|"warning", "message": str, "line": int, "column": int}
//         (line and column 1-based, counted in the query text).
// Exit 2 with a message on stderr when the input is not as above.
//
// One process lints the whole batch: loading the linter (a 22 MB Scala.js semantic analyser) takes seconds.
//
// Besides the library's own lintCypherQuery, this script adds checks the library lacks (their messages
// start with "modelgenes:"): a label or relationship type outside the schema where the library does not
// look (written by CREATE or MERGE, set or removed by SET / REMOVE, named in CREATE INDEX / CONSTRAINT),
// a declared parameter the query never uses, more than one statement in one query, an empty query.
//
// The function and procedure signatures given to the linter are the built-in ones of a Neo4j 5 server,
// taken from the package's bundled sample schema (APOC and GDS left out), so unknown functions,
// wrong arity and argument types are reported.

import { createRequire } from 'node:module';

// The package's ESM build uses extension-less imports that node refuses; its CommonJS build loads.
const require = createRequire(import.meta.url);
const {
  FulltextNodePatternContext,
  FulltextRelPatternContext,
  LabelTypeContext,
  NodeLabelsIsContext,
  RelTypeContext,
  lintCypherQuery,
  parserWrapper,
  testData,
} = require('@neo4j-cypher/language-support');

const CYPHER_VERSION = 'CYPHER 5';
const SEVERITY = { 1: 'error', 2: 'warning', 3: 'warning', 4: 'warning' };
const NOT_BUILT_IN = /^(apoc|gds)\./;

function builtInSignatures() {
  const sample = testData?.mockSchema;
  if (!sample?.functions?.[CYPHER_VERSION] || !sample?.procedures?.[CYPHER_VERSION]) {
    throw new Error('this version of @neo4j-cypher/language-support has no testData.mockSchema signatures');
  }
  const functions = Object.fromEntries(
    Object.entries(sample.functions[CYPHER_VERSION]).filter(([, fn]) => fn.isBuiltIn),
  );
  const procedures = Object.fromEntries(
    Object.entries(sample.procedures[CYPHER_VERSION]).filter(([name]) => !NOT_BUILT_IN.test(name)),
  );
  return { functions: { [CYPHER_VERSION]: functions }, procedures: { [CYPHER_VERSION]: procedures } };
}

function fail(message) {
  process.stderr.write(`cypher_lint: ${message}\n`);
  process.exit(2);
}

function stringList(value, what) {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    fail(`${what} must be a list of strings`);
  }
  return value;
}

function readInput(raw) {
  let input;
  try {
    input = JSON.parse(raw);
  } catch (e) {
    fail(`stdin is not JSON: ${e.message}`);
  }
  const schema = input?.schema;
  if (typeof schema !== 'object' || schema === null) fail('missing "schema" object');
  if (!Array.isArray(input.queries)) fail('missing "queries" list');
  input.queries.forEach((query, index) => {
    if (typeof query?.name !== 'string' || typeof query?.text !== 'string') {
      fail(`query #${index} needs string "name" and "text"`);
    }
    const parameters = query.parameters ?? {};
    if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) {
      fail(`query ${query.name}: "parameters" must be an object`);
    }
  });
  return {
    labels: stringList(schema.labels, 'schema.labels'),
    relationshipTypes: stringList(schema.relationshipTypes, 'schema.relationshipTypes'),
    propertyKeys: stringList(schema.propertyKeys, 'schema.propertyKeys'),
    queries: input.queries,
  };
}

function fromLibrary(diagnostic) {
  return {
    severity: SEVERITY[diagnostic.severity] ?? 'error',
    message: diagnostic.message,
    line: diagnostic.range.start.line + 1,
    column: diagnostic.range.start.character + 1,
  };
}

function unquoted(name) {
  return name.replace(/^`|`$/g, '');
}

// Labels and relationship types the library's collector never looks at: those after SET and REMOVE
// (`SET m:Label`) and in schema commands (`CREATE INDEX ... FOR (m:Label)`) are parsed as LabelType,
// NodeLabelsIs, RelType and Fulltext*Pattern contexts, not as the LabelName / LabelOrRelType contexts
// it collects.
function uncollectedNames(context, found = []) {
  for (const child of context?.children ?? []) {
    if (child instanceof LabelTypeContext) {
      found.push({ kind: 'Label', token: child.symbolicNameString()?.start });
    } else if (child instanceof RelTypeContext) {
      found.push({ kind: 'Relationship type', token: child.symbolicNameString()?.start });
    } else if (child instanceof NodeLabelsIsContext) {
      found.push({ kind: 'Label', token: child.symbolicNameString()?.start });
    } else if (child instanceof FulltextNodePatternContext) {
      for (const name of child.symbolicNameString_list()) found.push({ kind: 'Label', token: name.start });
    } else if (child instanceof FulltextRelPatternContext) {
      for (const name of child.symbolicNameString_list()) {
        found.push({ kind: 'Relationship type', token: name.start });
      }
    }
    uncollectedNames(child, found);
  }
  return found.filter(({ token }) => token !== undefined && token !== null);
}

function schemaHas(kind, name, labels, relationshipTypes) {
  if (kind === 'Label') return labels.has(name);
  if (kind === 'Relationship type') return relationshipTypes.has(name);
  return labels.has(name) || relationshipTypes.has(name);
}

// Checks the library skips; positions from the parser are 1-based lines and 0-based columns.
function extraChecks(text, parameters, labels, relationshipTypes) {
  if (text.trim().length === 0) {
    return [{ severity: 'error', message: 'modelgenes: the query is empty', line: 1, column: 1 }];
  }
  const diagnostics = [];
  const notInSchema = (kind, name, where, line, column) => {
    if (!schemaHas(kind, unquoted(name), labels, relationshipTypes)) {
      diagnostics.push({
        severity: 'warning',
        message: `modelgenes: ${kind} ${name} ${where} is not in the schema`,
        line,
        column: column + 1,
      });
    }
  };
  const statements = parserWrapper
    .parse(text, false)
    .statementsParsing.filter((statement) => statement.command.type === 'cypher');
  const nonEmpty = statements.filter((statement) => statement.command.statement.trim().length > 0);
  if (nonEmpty.length > 1) {
    const second = nonEmpty[1].command.start;
    diagnostics.push({
      severity: 'error',
      message: `modelgenes: one query must hold one statement, this one holds ${nonEmpty.length}`,
      line: second.line,
      column: second.column + 1,
    });
  }
  const used = new Set();
  for (const statement of statements) {
    for (const parameter of statement.collectedParameters) used.add(unquoted(parameter.name));
    for (const item of statement.collectedLabelOrRelTypes) {
      // The library warns about the others, and stays silent on these since a write may add them.
      if (item.couldCreateNewLabel) {
        notInSchema(item.labelType, item.labelText, 'written by CREATE or MERGE', item.line, item.column);
      }
    }
    for (const { kind, token } of uncollectedNames(statement.ctx)) {
      notInSchema(kind, token.text, 'in SET, REMOVE or a schema command', token.line, token.column);
    }
  }
  for (const name of Object.keys(parameters)) {
    if (!used.has(name)) {
      diagnostics.push({
        severity: 'warning',
        message: `modelgenes: parameter $${name} is declared but the query does not use it`,
        line: 1,
        column: 1,
      });
    }
  }
  return diagnostics;
}

function lintAll({ labels, relationshipTypes, propertyKeys, queries }) {
  const signatures = builtInSignatures();
  const labelSet = new Set(labels);
  const relationshipTypeSet = new Set(relationshipTypes);
  return queries.map(({ text, parameters }) => {
    const declared = parameters ?? {};
    const dbSchema = {
      labels,
      relationshipTypes,
      propertyKeys,
      parameters: declared,
      defaultLanguage: CYPHER_VERSION,
      ...signatures,
    };
    const diagnostics = lintCypherQuery(text, dbSchema, false)
      .map(fromLibrary)
      .concat(extraChecks(text, declared, labelSet, relationshipTypeSet));
    return diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
  });
}

let raw = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  raw += chunk;
});
process.stdin.on('end', () => {
  const result = lintAll(readInput(raw));
  process.stdout.write(JSON.stringify(result));
});
