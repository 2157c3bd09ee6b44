const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;

/**
 * A 64-bit FNV-1a hash of a string, as 16 hex digits: deterministic everywhere, no crypto dependency.
 *
 * @example
 * hash64('abc'); // 'e71fa2190541574b'
 */
export function hash64(text: string): string {
  let h = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * FNV_PRIME) & MASK;
  }
  return h.toString(16).padStart(16, '0');
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
