/**
 * A 64-bit FNV-1a hash of a string (its UTF-16 code units), as 16 hex digits: deterministic everywhere,
 * no crypto dependency. The 64-bit state is kept in four 16-bit limbs, so every product stays exact in a
 * double (BigInt arithmetic gives the same digits at ten times the cost; a test holds them equal).
 *
 * @example
 * hash64('abc'); // 'e71fa2190541574b'
 */
export function hash64(text: string): string {
  const h = newHash();
  feed(h, text);
  return hexOf(h);
}

/** FNV-1a 64 state: four 16-bit limbs, least significant first (offset basis 0xcbf29ce484222325). */
type Hash = [number, number, number, number];

const newHash = (): Hash => [0x2325, 0x8422, 0x9ce4, 0xcbf2];

/** Feeds the UTF-16 code units of `text` into the hash. */
function feed(h: Hash, text: string): void {
  let [h0, h1, h2, h3] = h;
  for (let i = 0; i < text.length; i++) {
    h0 ^= text.charCodeAt(i);
    // h *= 0x100000001b3 (= 2^40 + 0x1b3), modulo 2^64
    const t0 = h0 * 0x1b3;
    const t1 = h1 * 0x1b3;
    const t2 = h2 * 0x1b3 + (h0 << 8);
    const t3 = h3 * 0x1b3 + (h1 << 8);
    h0 = t0 & 0xffff;
    const c1 = t1 + (t0 >>> 16);
    h1 = c1 & 0xffff;
    const c2 = t2 + Math.floor(c1 / 0x10000);
    h2 = c2 & 0xffff;
    h3 = (t3 + Math.floor(c2 / 0x10000)) & 0xffff;
  }
  h[0] = h0;
  h[1] = h1;
  h[2] = h2;
  h[3] = h3;
}

const hexOf = (h: Hash): string => hex4(h[3]) + hex4(h[2]) + hex4(h[1]) + hex4(h[0]);

/** Whether JSON.stringify writes `text` between its quotes as it is (nothing to escape). */
function plainJson(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return true;
}

/** Feeds `text` as JSON.stringify writes it, quotes included. */
function feedJsonString(h: Hash, text: string): void {
  if (plainJson(text)) {
    feed(h, '"');
    feed(h, text);
    feed(h, '"');
  } else feed(h, JSON.stringify(text));
}

const hex4 = (n: number): string => n.toString(16).padStart(4, '0');

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
  feedJsonString(h, identity.scope?.map((p) => `${p.service}@${p.zone}`).join(',') ?? '');
  feed(h, ',');
  feedJsonString(h, identity.causeEventId);
  feed(h, ',');
  feedJsonString(h, identity.template ?? '');
  feed(h, ']');
  return idText(h);
}

const HEX_DIGITS = '0123456789abcdef';

/** `act_` and the 16 hex digits of the hash, as one flat string (concatenation would build a rope). */
function idText(h: Hash): string {
  const codes = [0x61, 0x63, 0x74, 0x5f];
  for (let limb = 3; limb >= 0; limb--) {
    const v = h[limb]!;
    codes.push(
      HEX_DIGITS.charCodeAt((v >>> 12) & 15),
      HEX_DIGITS.charCodeAt((v >>> 8) & 15),
      HEX_DIGITS.charCodeAt((v >>> 4) & 15),
      HEX_DIGITS.charCodeAt(v & 15),
    );
  }
  return String.fromCharCode(...codes);
}
