/**
 * A 64-bit FNV-1a hash of a string (its UTF-16 code units), as 16 hex digits: deterministic everywhere,
 * no crypto dependency. The 64-bit state is kept as two 32-bit halves; the prime is 2^40 + 0x1b3, so a
 * step is the low half times 0x1b3 (its low 32 bits from `Math.imul`, its carry from the 16-bit halves)
 * plus the low half shifted into the high one: integer operations only. BigInt arithmetic gives the
 * same digits at ten times the cost; a test holds them equal.
 *
 * @example
 * hash64('abc'); // 'e71fa2190541574b'
 */
export function hash64(text: string): string {
  const h = newHash();
  feed(h, text);
  return hexOf(h);
}

/**
 * FNV-1a 64 state: [low 32 bits, high 32 bits] (offset basis 0xcbf29ce484222325), each as a signed 32-bit
 * integer: the steps are then 32-bit integer operations throughout (kept unsigned, every step would
 * turn values from 2^31 up into doubles and back).
 */
type Hash = [number, number];

const newHash = (): Hash => [0x84222325 | 0, 0xcbf29ce4 | 0];

/** The FNV prime's low part (the prime is 2^40 + PRIME_LOW). */
const PRIME_LOW = 0x1b3;

/** Feeds the UTF-16 code units of `text` into the hash. */
function feed(h: Hash, text: string): void {
  let lo = h[0];
  let hi = h[1];
  for (let i = 0; i < text.length; i++) {
    lo ^= text.charCodeAt(i);
    // h *= 2^40 + 0x1b3 (mod 2^64). lo * 0x1b3 (lo read as unsigned) is below 2^41: its carry into the
    // high half is ((lo >>> 16) * 0x1b3 + ((lo & 0xffff) * 0x1b3 >>> 16)) >>> 16, every term below 2^26.
    const carry = ((lo >>> 16) * PRIME_LOW + (((lo & 0xffff) * PRIME_LOW) >>> 16)) >>> 16;
    hi = (Math.imul(hi, PRIME_LOW) + carry + (lo << 8)) | 0;
    lo = Math.imul(lo, PRIME_LOW);
  }
  h[0] = lo;
  h[1] = hi;
}

const hexOf = (h: Hash): string => hex8(h[1]) + hex8(h[0]);

/**
 * Feeds the code units of `text` into the hash when JSON.stringify writes them as they are (nothing to
 * escape) and says so; leaves the hash as it was and says not otherwise.
 */
function feedPlain(h: Hash, text: string): boolean {
  let lo = h[0];
  let hi = h[1];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return false;
    lo ^= c;
    const carry = ((lo >>> 16) * PRIME_LOW + (((lo & 0xffff) * PRIME_LOW) >>> 16)) >>> 16;
    hi = (Math.imul(hi, PRIME_LOW) + carry + (lo << 8)) | 0;
    lo = Math.imul(lo, PRIME_LOW);
  }
  h[0] = lo;
  h[1] = hi;
  return true;
}

/** Feeds `text` as JSON.stringify writes it, quotes included: in one pass when it has nothing to escape. */
function feedJsonString(h: Hash, text: string): void {
  const lo = h[0];
  const hi = h[1];
  feed(h, '"');
  if (feedPlain(h, text)) feed(h, '"');
  else {
    h[0] = lo;
    h[1] = hi;
    feed(h, JSON.stringify(text));
  }
}

const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

/**
 * Feeds a scope as `feedJsonString` feeds its text `service@zone,service@zone,...`, pair by pair
 * without building the text (which it does only when a part needs escaping).
 */
function feedScope(h: Hash, scope: ActionIdentity['scope']): void {
  if (scope === undefined) {
    feed(h, '""');
    return;
  }
  const lo = h[0];
  const hi = h[1];
  feed(h, '"');
  let plain = true;
  for (let i = 0; i < scope.length && plain; i++) {
    if (i > 0) feed(h, ',');
    plain = feedPlain(h, scope[i]!.service);
    if (plain) feed(h, '@');
    plain = plain && feedPlain(h, scope[i]!.zone);
  }
  if (plain) feed(h, '"');
  else {
    h[0] = lo;
    h[1] = hi;
    feedJsonString(h, scope.map((p) => `${p.service}@${p.zone}`).join(','));
  }
}

/** The content an action id is derived from. */
export interface ActionIdentity {
  readonly subscriberId: string;
  readonly capId: string | null;
  readonly ruleId: string;
  readonly window: string;
  readonly kind: string;
  readonly scope?: readonly { service: string; zone: string }[] | undefined;
  /** Distinguishes a second block in the same window (after an unblock) from the first. */
  readonly causeEventId: string;
  readonly template?: string | undefined;
}

/**
 * The id of an action, derived from its content (subscriber, cap, rule, window, kind, scope and the
 * causing event), so a replay produces the same ids and a consumer can deduplicate on them.
 *
 * @example
 * actionId({ subscriberId: 's1', capId: 'roaming-data', ruleId: 'block-100', window: '2026-11-01', kind: 'block', causeEventId: 'e9' });
 */
export function actionId(identity: ActionIdentity): string {
  // The hash of JSON.stringify([subscriberId, capId, ruleId, window, kind, scope, causeEventId,
  // template]), fed part by part without building the array or the JSON text.
  const h = newHash();
  feed(h, '[');
  feedJsonString(h, identity.subscriberId);
  feed(h, ',');
  feedJsonString(h, identity.capId ?? '');
  feed(h, ',');
  feedJsonString(h, identity.ruleId);
  feed(h, ',');
  feedJsonString(h, identity.window);
  feed(h, ',');
  feedJsonString(h, identity.kind);
  feed(h, ',');
  feedScope(h, identity.scope);
  feed(h, ',');
  feedJsonString(h, identity.causeEventId);
  feed(h, ',');
  feedJsonString(h, identity.template ?? '');
  feed(h, ']');
  return idText(h);
}

/** `act_` and the 16 hex digits of the hash, as one flat string (concatenation would build a rope). */
function idText(h: Hash): string {
  const hi = h[1];
  const lo = h[0];
  const x = (v: number, shift: number): number => HEX_CODES[(v >>> shift) & 15]!;
  return String.fromCharCode(
    0x61,
    0x63,
    0x74,
    0x5f,
    x(hi, 28),
    x(hi, 24),
    x(hi, 20),
    x(hi, 16),
    x(hi, 12),
    x(hi, 8),
    x(hi, 4),
    x(hi, 0),
    x(lo, 28),
    x(lo, 24),
    x(lo, 20),
    x(lo, 16),
    x(lo, 12),
    x(lo, 8),
    x(lo, 4),
    x(lo, 0),
  );
}

/** The character codes of the hex digits. */
const HEX_CODES: readonly number[] = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
