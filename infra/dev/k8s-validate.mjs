// Validates Kubernetes manifests against the Kubernetes OpenAPI schemas, with the JSON
// schemas of the npm package kubernetes-models (pinned in package.json): every document of
// every file must be a known apiVersion/kind and pass its schema (unknown fields, wrong
// types and missing required fields are errors).
// Usage: node infra/dev/k8s-validate.mjs FILE.yaml...
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { parseAllDocuments } from "yaml";

const require = createRequire(import.meta.url);
let failed = 0, checked = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (doc.errors.length) { console.error(`${file}: ${doc.errors[0].message}`); failed++; continue; }
    const obj = doc.toJS();
    if (!obj) continue;
    const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
    const dir = group ? `${group}/${version}` : version;
    let Model;
    try {
      Model = require(`kubernetes-models/${dir}/${obj.kind}`)[obj.kind];
    } catch {
      console.error(`${file}: unknown kind ${obj.apiVersion} ${obj.kind}`); failed++; continue;
    }
    try {
      new Model(obj).validate();
      checked++;
    } catch (e) {
      console.error(`${file}: ${obj.kind} ${obj.metadata?.name}: ${e.message}`); failed++;
    }
  }
}
console.log(`k8s-validate: ${checked} objects valid, ${failed} invalid`);
process.exit(failed ? 1 : 0);
