import type { PolicyDocument } from '../schema/policy.js';

/** What an event generator needs to know about a policy to write valid (and deliberately invalid) events. */
export interface Domain {
  readonly doc: PolicyDocument;
  readonly currency: string;
  readonly services: readonly string[];
  readonly capIds: readonly string[];
  readonly costCapIds: readonly string[];
  readonly quantityCapIds: readonly string[];
  /** Countries of the policy's zones, in the order the policy lists them (trips go there). */
  readonly zoneCountries: readonly string[];
  /** Countries in none of the policy's zones (its `otherZone`). */
  readonly otherCountries: readonly string[];
  /** Money amounts are drawn for limits of about 20,000 minor units and multiplied by this. */
  readonly scale: number;
}

/** Countries the generator may send a subscriber to when a policy's zones do not name them. */
const WORLD = ['US', 'JP', 'CH', 'TR', 'EG', 'BR', 'AU', 'IN', 'GB', 'UA', 'CA', 'MX', 'ZA', 'KR', 'TH'];
const EUROPE = ['DE', 'FR', 'ES', 'IT', 'PL', 'AT', 'NO', 'GR'];

/**
 * The generator's view of a policy document. With `scaleToLimits`, money amounts are scaled so that
 * usage lands near the thresholds of the smallest cost cap (as they do for the shipped policies' limits).
 */
export function domainOf(doc: PolicyDocument, options: { scaleToLimits?: boolean } = {}): Domain {
  const zoneCountries = [...new Set(Object.values(doc.zones).flat())];
  const named = new Set(zoneCountries);
  const costLimits = doc.caps.filter((c) => (c.measure ?? 'cost') === 'cost').map((c) => c.limit);
  const scale =
    options.scaleToLimits === true && costLimits.length > 0
      ? Math.max(1e-3, Math.min(...costLimits) / 20_000)
      : 1;
  return {
    doc,
    currency: doc.currency,
    services: doc.services,
    capIds: doc.caps.map((c) => c.id),
    costCapIds: doc.caps.filter((c) => (c.measure ?? 'cost') === 'cost').map((c) => c.id),
    quantityCapIds: doc.caps.filter((c) => c.measure === 'quantity').map((c) => c.id),
    zoneCountries: zoneCountries.length > 0 ? zoneCountries : EUROPE,
    otherCountries: WORLD.filter((c) => !named.has(c)),
    scale,
  };
}
