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
  // Only `__proto__` is an accessor on Object.prototype; assigning any other key makes an own entry,
  // and costs a fraction of defining one.
  if (key === '__proto__')
    Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
  else record[key] = value;
  return value;
}

/**
 * An empty plain object in V8's dictionary mode, for a record whose keys are unique data (dispute
 * references). A plain `{}` would get a new hidden class for every key added, each kept alive as a
 * transition of the hidden class every `{}` in the process starts from: thousands of them over a
 * batch, about 2 KB each, slowing every later property added to any object.
 *
 * @example
 * const disputes = dictionary<DisputeRecord>(); setOwn(disputes, 'case-17', record);
 */
export function dictionary<V>(): Record<string, V> {
  const record: Record<string, unknown> = { a: 0, b: 0 };
  // Deleting a property other than the last one added moves the object to dictionary mode for good.
  delete record['a'];
  delete record['b'];
  return record as Record<string, V>;
}

/**
 * A copy of a record in dictionary mode (see `dictionary`), values copied with `copy`.
 *
 * @example
 * const states = dictionaryOf(initial, (state) => state);
 */
export function dictionaryOf<V>(
  record: Readonly<Record<string, V>>,
  copy: (value: V) => V,
): Record<string, V> {
  const out = dictionary<V>();
  for (const key of Object.keys(record)) setOwn(out, key, copy(record[key] as V));
  return out;
}

/**
 * A copy of a record keyed by data: `{}` when it is empty (the common case costs nothing), else a
 * dictionary-mode copy (see `dictionary`), values copied with `copy`.
 *
 * @example
 * const disputes = dataRecordOf(state.disputes, copyDispute);
 */
export function dataRecordOf<V>(
  record: Readonly<Record<string, V>>,
  copy: (value: V) => V,
): Record<string, V> {
  for (const _ in record) return dictionaryOf(record, copy);
  return {};
}

/**
 * The path of the first own `__proto__` key in a JSON value (as `JSON.parse` makes one), or null.
 * zod's records drop such a key without a word and an assignment of it replaces a prototype, so a
 * document that carries one is refused instead. `dataKeys(path)` says where keys are data, which may
 * be anything (a state's dispute references). Walks at most `maxDepth` levels and `maxNodes` values.
 *
 * @example
 * protoKeyPath(JSON.parse('{"zones": {"__proto__": {}}}')); // ['zones', '__proto__']
 */
export function protoKeyPath(
  value: unknown,
  dataKeys: (path: readonly (string | number)[]) => boolean = () => false,
  maxDepth = 64,
  maxNodes = 1_000_000,
): (string | number)[] | null {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  let nodes = 0;
  while (stack.length > 0 && nodes++ < maxNodes) {
    const { value: v, path } = stack.pop()!;
    if (v === null || typeof v !== 'object' || path.length > maxDepth) continue;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], path: [...path, i] });
      continue;
    }
    const keys = Object.keys(v);
    if (!dataKeys(path) && Object.prototype.hasOwnProperty.call(v, '__proto__'))
      return [...path, '__proto__'];
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      stack.push({ value: (v as Record<string, unknown>)[key], path: [...path, key] });
    }
  }
  return null;
}
