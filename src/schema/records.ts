/**
 * Reading and writing plain-object records under keys that come from data (event ids, dispute
 * references, subscriber ids, cap ids). A key such as `__proto__`, `constructor` or `toString` must be
 * an ordinary entry: a plain `record[key]` would read `Object.prototype` members, and assigning
 * `record['__proto__']` would replace the prototype instead of storing anything.
 */

/**
 * The own entry of `record` under `key`, or undefined.
 *
 * @example
 * getOwn({}, 'toString'); // undefined
 */
export function getOwn<V>(record: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

/**
 * Stores `value` as an own, enumerable entry, whatever the key.
 *
 * @example
 * const seen = {}; setOwn(seen, '__proto__', 1); JSON.stringify(seen); // '{"__proto__":1}'
 */
export function setOwn<V>(record: Record<string, V>, key: string, value: V): V {
  Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
  return value;
}
