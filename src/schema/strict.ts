import { z } from 'zod';

/** Marks a zod message that carries the keys an object allows (read back by `issuesFromZod`). */
export const ALLOWED_KEYS_MARK = 'spendcap:allowed-keys:';

/**
 * `z.strictObject` whose unknown-key issue remembers which keys are allowed in that very object, so a
 * did-you-mean suggests only a key that is valid where the misspelt one stands.
 *
 * @example
 * const Cap = strictObject({ id: z.string(), limit: z.number() });
 */
export function strictObject<T extends z.core.$ZodLooseShape>(shape: T): z.ZodObject<T, z.core.$strict> {
  const allowed = ALLOWED_KEYS_MARK + JSON.stringify(Object.keys(shape));
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? allowed : undefined),
  });
}
