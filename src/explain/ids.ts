/**
 * A 64-bit FNV-1a hash of a string (its UTF-16 code units), as 16 hex digits: deterministic everywhere,
 * no crypto dependency. The 64-bit state is kept in four 16-bit limbs, so every product stays exact in a
 * double (BigInt arithmetic gives the same digits at ten times the cost; a test holds them equal).
 *
 * @example
 * hash64('abc'); // 'e71fa2190541574b'
 */
export function hash64(text: string): string {
  // offset basis 0xcbf29ce484222325, limbs from least significant
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
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
  return hex4(h3) + hex4(h2) + hex4(h1) + hex4(h0);
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
  const scope = identity.scope?.map((p) => `${p.service}@${p.zone}`).join(',') ?? '';
  const parts = [
    identity.subscriberId,
    identity.capId ?? '',
    identity.ruleId,
    identity.window,
    identity.kind,
    scope,
    identity.causeEventId,
    identity.template ?? '',
  ];
  return `act_${hash64(JSON.stringify(parts))}`;
}
