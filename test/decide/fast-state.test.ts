import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ADOPTING_RUN, createEngine, type AdoptingRun } from '../../src/engine';
import { fastState } from '../../src/decide/fast-state';
import { SubscriberStateSchema, type SubscriberState } from '../../src/schema/state';
import { streamArb } from '../arbitraries/events';
import { SHIPPED, SHIPPED_DOMAIN } from '../arbitraries/policies';

// The fast check of stored states may only ever accept what the schema accepts, as it is; anything it
// is unsure of goes to the schema. These properties hold it to that on the states the engine makes, on
// mutated ones, and on an adopting run against an ordinary one.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Asserts the fast answer is sound: false, or the schema accepts the state and gives it back as it is. */
function sound(input: unknown): boolean {
  if (!fastState(input, SHIPPED.id)) return false;
  const parsed = SubscriberStateSchema.safeParse(input);
  expect(parsed.success, JSON.stringify(input)?.slice(0, 400)).toBe(true);
  expect(parsed.data).toStrictEqual(input);
  expect((input as SubscriberState).policy.id).toBe(SHIPPED.id);
  return true;
}

/** The final states of a generated stream, as stored (a JSON round trip). */
const storedArb = streamArb(SHIPPED_DOMAIN).map(async (stream) => {
  const result = await createEngine(SHIPPED).run(stream.events, stream.profiles);
  return Object.values(result.states).map((s) => JSON.parse(JSON.stringify(s)) as Json);
});

/** Every path into a JSON value, the root included. */
function pathsOf(value: Json, at: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(at);
  if (Array.isArray(value)) value.forEach((v, i) => pathsOf(v, [...at, i], out));
  else if (value !== null && typeof value === 'object')
    for (const key of Object.keys(value)) pathsOf(value[key]!, [...at, key], out);
  return out;
}

/** A copy of `value` with the value at `path` replaced, removed, or given a sibling key. */
function mutate(value: Json, path: (string | number)[], how: number, replacement: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(value)) as Record<string | number, unknown>;
  if (path.length === 0) return how === 0 ? replacement : copy;
  let parent: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (how === 0) parent[last] = replacement;
  else if (how === 1) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else if (!Array.isArray(parent)) {
    Object.defineProperty(parent, how === 2 ? 'extra' : '__proto__', {
      value: replacement,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else parent.push(replacement);
  return copy;
}

const replacementArb = fc.oneof(
  fc.anything(),
  fc.constant(undefined),
  fc.constant(null),
  fc.double(),
  fc.integer(),
  fc.constant(2 ** 53),
  fc.constant(1.5),
  fc.string(),
  fc.constantFrom('open', 'block', 'throttle', 'upheld'),
);

describe('fastState', () => {
  it('accepts every state the engine makes, stored and read back, and only as the schema gives it', async () => {
    await fc.assert(
      fc.asyncProperty(storedArb, async (pending) => {
        for (const state of await pending) expect(sound(state)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('is sound on states with one value replaced, removed, or a key added', async () => {
    await fc.assert(
      fc.asyncProperty(
        storedArb,
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 0, max: 3 }),
        replacementArb,
        async (pending, pick, where, how, replacement) => {
          const states = await pending;
          if (states.length === 0) return;
          const state = states[pick % states.length]!;
          const paths = pathsOf(state);
          sound(mutate(state, paths[where % paths.length]!, how, replacement));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('leaves to the schema what it refuses at the edges', () => {
    const state = JSON.parse(
      JSON.stringify(
        createEngine(SHIPPED).init({
          subscriberId: 's1',
          homeCountry: 'PL',
          timeZone: 'Europe/Warsaw',
          cycleAnchorDay: 1,
        }),
      ),
    ) as Record<string, Json>;
    expect(sound(state)).toBe(true);
    const seen = (ids: Json[], at: Json[]) => ({ ...state, seen: { ids, at } });
    const withProto = JSON.parse('{"__proto__": {"cur": null, "prev": null}}') as Json;
    for (const bad of [
      { ...state, version: 1 },
      { ...state, policy: { id: 'another', version: '1' } },
      { ...state, clock: 2 ** 53 },
      { ...state, clock: 1.5 },
      { ...state, extra: 1 },
      { ...state, caps: withProto },
      { ...state, notices: JSON.parse('{"__proto__": "x"}') as Json },
      { ...state, profile: { ...(state['profile'] as object), timeZone: 'Mars/Olympus' } },
      seen(['a', 'a'], [1, 2]),
      seen(['a'], [1, 2]),
      seen(['a', 'b'], [1, 2.5]),
      // A hole in a list (a sparse array).
      { ...state, restrictions: new Array<Json>(1) },
      Object.assign(Object.create({ inherited: 1 }) as object, state),
    ]) {
      expect(fastState(bad, SHIPPED.id), JSON.stringify(bad)).toBe(false);
    }
    expect(fastState({ ...state, clock: undefined }, SHIPPED.id)).toBe(false);
    expect(fastState(JSON.stringify(state), SHIPPED.id)).toBe(false);
  });

  it('an adopting run over stored states decides as an ordinary run over the same states', async () => {
    await fc.assert(
      fc.asyncProperty(streamArb(SHIPPED_DOMAIN), fc.nat(), async (stream, cut) => {
        const at = stream.events.length === 0 ? 0 : cut % stream.events.length;
        const first = await createEngine(SHIPPED).run(stream.events.slice(0, at), stream.profiles);
        const stored = () => JSON.parse(JSON.stringify(first.states)) as Record<string, SubscriberState>;
        const rest = stream.events.slice(at);
        const plain = await createEngine(SHIPPED).run(rest, stream.profiles, stored());
        const engine = createEngine(SHIPPED) as ReturnType<typeof createEngine> & AdoptingRun;
        const adopted = await engine[ADOPTING_RUN](rest, stream.profiles, stored());
        expect(JSON.parse(JSON.stringify(adopted.decisions))).toEqual(
          JSON.parse(JSON.stringify(plain.decisions)),
        );
        expect(JSON.parse(JSON.stringify(adopted.states))).toEqual(JSON.parse(JSON.stringify(plain.states)));
        // Every state an event reached is the run's own, to be stored.
        for (const d of adopted.decisions)
          if (d.subscriberId !== null && d.outcome !== 'rejected' && adopted.states[d.subscriberId])
            expect(adopted.made?.has(d.subscriberId)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});
