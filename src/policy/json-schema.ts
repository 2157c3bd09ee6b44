import { z } from 'zod';
import { PolicySchema } from '../schema/policy.js';

/**
 * The JSON Schema (draft 2020-12) of a policy document, generated from the zod schema, with a
 * description on every field, for analysts' editors.
 *
 * @example
 * fs.writeFileSync('schema/policy.schema.json', JSON.stringify(policyJsonSchema(), null, 2));
 */
export function policyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(PolicySchema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return {
    $schema: schema['$schema'],
    title: 'spendcap policy',
    description: 'A spendcap policy: caps, json-rules-engine rules and message templates (see the README).',
    ...schema,
  };
}
