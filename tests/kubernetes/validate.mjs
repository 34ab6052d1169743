// Validates Kubernetes manifests offline, with no cluster:
//   1. each object against the Kubernetes API's JSON schema (kubernetes-models): types,
//      required fields, enums, formats;
//   2. every key is a field of its API type (the type maps of @kubernetes/client-node's
//      generated models, imported one by one: none of its network code is loaded), which
//      catches the misspelt fields the schema lets through (it allows unknown properties).
// Usage: node validate.mjs FILE.yaml...    Exit 1, one line per problem, if any is invalid.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

// The generated model class named `type` (e.g. V1PodSpec), or null for scalars and the like.
const modelCache = new Map();
async function modelOf(type) {
  if (!/^[A-Z]\w*$/.test(type)) return null;  // V1PodSpec, CoreV1ResourceClaim, ...
  if (!modelCache.has(type)) {
    let model = null;
    try {
      model = (await import(`@kubernetes/client-node/dist/gen/models/${type}.js`))[type] ?? null;
    } catch {
      model = null;
    }
    modelCache.set(type, typeof model?.getAttributeTypeMap === "function" ? model : null);
  }
  return modelCache.get(type);
}

// "apps/v1" + "Deployment" -> "V1Deployment"; "autoscaling/v2" + ... -> "V2..."
function typeName(apiVersion, kind) {
  const version = apiVersion.split("/").pop();
  return version[0].toUpperCase() + version.slice(1) + kind;
}

async function checkFields(value, type, path, problems) {
  if (value === null || value === undefined) return;
  let match = /^Array<(.+)>$/.exec(type);
  if (match) {
    if (!Array.isArray(value)) return problems.push(`${path}: must be a list`);
    for (const [i, item] of value.entries()) {
      await checkFields(item, match[1], `${path}[${i}]`, problems);
    }
    return;
  }
  match = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (match) {
    for (const [key, item] of Object.entries(value)) {
      await checkFields(item, match[1], `${path}.${key}`, problems);
    }
    return;
  }
  const model = await modelOf(type);
  if (model === null) return;  // a scalar, IntOrString, a date
  if (typeof value !== "object" || Array.isArray(value)) {
    return problems.push(`${path}: must be an object (${type})`);
  }
  const fields = new Map(model.getAttributeTypeMap().map((f) => [f.baseName, f.type]));
  for (const [key, item] of Object.entries(value)) {
    if (!fields.has(key)) {
      problems.push(`${path}.${key}: not a field of ${type}`);
    } else {
      await checkFields(item, fields.get(key), `${path}.${key}`, problems);
    }
  }
}

async function validateObject(object, where) {
  const problems = [];
  if (typeof object?.apiVersion !== "string" || typeof object?.kind !== "string") {
    return [`${where}: no apiVersion or kind`];
  }
  const name = `${object.kind} ${object.metadata?.name ?? "(no name)"}`;
  let model;
  try {
    model = (await import(`kubernetes-models/${object.apiVersion}/${object.kind}`))[object.kind];
  } catch {
    return [`${where}: ${object.apiVersion} ${object.kind} is not a Kubernetes API type`];
  }
  try {
    new model(object).validate();
  } catch (error) {
    problems.push(`${where}: ${name}: ${error.message}`);
  }
  const type = typeName(object.apiVersion, object.kind);
  if ((await modelOf(type)) === null) {
    problems.push(`${where}: no field list for ${type}`);
  } else {
    await checkFields(object, type, `${where}: ${name}`, problems);
  }
  return problems;
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node validate.mjs FILE.yaml...");
  process.exit(2);
}
let problems = [];
let objects = 0;
for (const file of files) {
  const documents = parseAllDocuments(readFileSync(file, "utf8"));
  for (const [index, document] of documents.entries()) {
    const where = `${file}#${index + 1}`;
    if (document.errors.length > 0) {
      problems.push(`${where}: YAML: ${document.errors[0].message}`);
      continue;
    }
    const object = document.toJS();
    if (object === null) continue;
    objects++;
    problems = problems.concat(await validateObject(object, where));
  }
}
for (const problem of problems) console.log(problem);
console.log(`${objects} objects in ${files.length} files: ${problems.length} problems`);
process.exit(problems.length === 0 ? 0 : 1);
