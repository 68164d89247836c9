// The contract's own examples match its schemas: an example a client copies from /docs is
// an answer the contract allows.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { HTTP_METHODS, schemaErrors, spec } from './harness.mjs';

/** Every JSON response example of the spec: {where, schema, example}. */
function responseExamples() {
  const found = [];
  for (const [path, item] of Object.entries(spec.paths))
    for (const [method, operation] of Object.entries(item)) {
      if (!HTTP_METHODS.includes(method)) continue;
      for (const [status, response] of Object.entries(operation.responses || {}))
        for (const [type, media] of Object.entries(response.content || {})) {
          if (!type.endsWith('json') || !media.schema) continue;
          const where = `${method.toUpperCase()} ${path} ${status} ${type}`;
          if ('example' in media) found.push({ where, schema: media.schema, example: media.example });
          for (const [name, ex] of Object.entries(media.examples || {}))
            found.push({ where: `${where} (${name})`, schema: media.schema, example: ex.value });
        }
    }
  return found;
}

test('the spec has response examples', () => {
  assert.ok(responseExamples().length > 0);
});

for (const { where, schema, example } of responseExamples()) {
  test(`example of ${where} matches its schema`, () => {
    assert.equal(schemaErrors(`example ${where}`, schema, example), '', where);
  });
}
