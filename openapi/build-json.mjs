// Converts openapi/openapi.yaml (the contract, edited by hand) into JSON for GET
// /openapi.json. The build runs it (CMakeLists.txt) and embeds the result in the binary
// (cmake/embed_assets.cmake), so the served document is always the YAML of the checkout.
//   node openapi/build-json.mjs OUT.json
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));

/** The JSON text of openapi.yaml (2-space indent, trailing newline). */
export function openapiJson() {
  return JSON.stringify(parse(readFileSync(join(here, 'openapi.yaml'), 'utf8')), null, 2) + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node openapi/build-json.mjs OUT.json');
    process.exit(2);
  }
  writeFileSync(out, openapiJson());
}
