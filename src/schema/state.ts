import { z } from 'zod';
import { strictObject } from './strict.js';
import { SubscriberProfileSchema } from './profile.js';
import { ScopeSchema } from './actions.js';

/**
 * The version of the stored state format. `process` and `explain` read this one and migrate older ones
 * (`migrateState`); a newer one is refused.
 */
export const STATE_VERSION = 2;

const Int = z.number().int();

/** One cap's totals in one window. Amounts are integer minor units (quantities in the cap's unit). */
export const WindowTotalsSchema = strictObject({
  /** Window key: its local start date. */
  key: z.string(),
  start: Int,
  end: Int,
  /** Gross cost (or quantity) of usage and positive adjustments. */
  charged: z.number(),
  /** Credits: negative adjustments and upheld disputes (a positive number). */
  credited: Int,
  /** Amount of disputes open against this window. */
  disputed: Int,
  paid: Int,
});

/** An override on one cap. */
export const OverrideRecordSchema = strictObject({
  until: Int,
  reason: z.string(),
  eventId: z.string(),
  agentId: z.string().optional(),
});

/** A dispute as the ledger remembers it. */
export const DisputeRecordSchema = strictObject({
  amount: Int,
  status: z.enum(['open', 'upheld', 'rejected']),
  openedAt: Int,
  /** The cap windows the disputed amount was taken out of: `capId` → window key. */
  targets: z.record(z.string(), z.string()),
});

/** A restriction in force. */
export const RestrictionSchema = strictObject({
  capId: z.string(),
  ruleId: z.string(),
  kind: z.enum(['block', 'throttle']),
  scope: ScopeSchema,
  kbps: Int.optional(),
  since: Int,
  /** The id of the action that imposed it. */
  actionId: z.string(),
});

/** The applied event ids of a state: as many times as ids, and no id twice. */
export const SeenSchema = strictObject({ ids: z.array(z.string()), at: z.array(Int) }).superRefine(
  (seen, ctx) => {
    if (seen.ids.length !== seen.at.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['at'],
        message: `expected one time per id: ${seen.ids.length} ids, ${seen.at.length} times`,
      });
      return;
    }
    const ids = new Set<string>();
    seen.ids.forEach((id, i) => {
      if (ids.has(id))
        ctx.addIssue({ code: 'custom', path: ['ids', i], message: `id '${id}' appears twice` });
      ids.add(id);
    });
  },
);

/**
 * Everything spendcap remembers about one subscriber: plain JSON, versioned, safe to store anywhere.
 *
 * @example
 * const stored = JSON.stringify(state); const back = SubscriberStateSchema.parse(JSON.parse(stored));
 */
export const SubscriberStateSchema = strictObject({
  version: z.literal(STATE_VERSION),
  policy: strictObject({ id: z.string(), version: z.string() }),
  profile: SubscriberProfileSchema,
  /** The latest event time applied (epoch ms), or null before the first event. */
  clock: Int.nullable(),
  /** Where the subscriber is: the last location or usage, home at first. */
  location: strictObject({ country: z.string(), zone: z.string(), at: Int.nullable() }),
  /** Per cap: the current window's totals and the previous one's (kept for late records). */
  caps: z.record(
    z.string(),
    strictObject({ cur: WindowTotalsSchema.nullable(), prev: WindowTotalsSchema.nullable() }),
  ),
  overrides: z.record(
    z.string(),
    strictObject({ customer: OverrideRecordSchema.optional(), agent: OverrideRecordSchema.optional() }),
  ),
  disputes: z.record(z.string(), DisputeRecordSchema),
  restrictions: z.array(RestrictionSchema),
  /** Rules whose notice has fired and that still match: `capId|ruleName` (or `|ruleName`) → window key. */
  notices: z.record(z.string(), z.string()),
  /**
   * Event ids applied inside the kept horizon, in the order applied, and beside each its time (epoch
   * ms). Two lists rather than a record keyed by id: a record interns every id as a property name,
   * which costs more than the rest of the ledger over a million records.
   */
  seen: SeenSchema,
});

export type WindowTotals = z.infer<typeof WindowTotalsSchema>;
export type OverrideRecord = z.infer<typeof OverrideRecordSchema>;
export type DisputeRecord = z.infer<typeof DisputeRecordSchema>;
export type Restriction = z.infer<typeof RestrictionSchema>;
/** A subscriber's state. */
export type SubscriberState = z.infer<typeof SubscriberStateSchema>;
