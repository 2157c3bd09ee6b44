import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { policyJsonSchema } from '../../src/index';

/** Every property of every object in the schema, with its JSON pointer. */
function properties(
  node: unknown,
  pointer = '#',
  out: { pointer: string; schema: Record<string, unknown> }[] = [],
) {
  if (Array.isArray(node)) node.forEach((child, i) => properties(child, `${pointer}/${i}`, out));
  else if (node !== null && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    const props = record['properties'];
    if (props !== null && typeof props === 'object') {
      for (const [key, schema] of Object.entries(props))
        out.push({ pointer: `${pointer}/properties/${key}`, schema: schema as Record<string, unknown> });
    }
    for (const [key, child] of Object.entries(record)) properties(child, `${pointer}/${key}`, out);
  }
  return out;
}

describe('policy JSON Schema', () => {
  const schema = policyJsonSchema();

  it('describes every field, so an analyst sees what it means in the editor', () => {
    const missing = properties(schema)
      .filter(({ schema: s }) => typeof s['description'] !== 'string' && typeof s['$ref'] !== 'string')
      .map((p) => p.pointer);
    expect(missing).toEqual([]);
  });

  it('refuses unknown keys, as loadPolicy does', () => {
    expect(schema['additionalProperties']).toBe(false);
  });

  it('is what schema/policy.schema.json holds (npm run schema regenerates it)', () => {
    const committed = JSON.parse(
      readFileSync(new URL('../../schema/policy.schema.json', import.meta.url), 'utf8'),
    );
    expect(committed).toEqual(JSON.parse(JSON.stringify(schema)));
  });
});
