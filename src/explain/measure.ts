import type { Action } from '../schema/actions.js';

/** One decision on a timeline: when, what kind of event, and the actions taken. */
export interface TimelineEntry {
  /** ISO 8601 time the actions took effect. */
  readonly at: string;
  readonly eventType: string;
  readonly actions: readonly Action[];
}

/** What a customer lived through, measured from decisions rather than told. */
export interface TimelineMeasures {
  /** Hours during which voice at home was blocked, up to the end of the timeline. */
  readonly domesticVoiceBlockedHours: number;
  /**
   * For each unblock, the hours from the payment, credit or dispute that preceded it to the unblock
   * (0 when it came in the same decision); empty when nothing was lifted that way.
   */
  readonly hoursFromReliefToUnblock: readonly number[];
  /** Notices (`notify`) sent before the first block or throttle; all of them when nothing was restricted. */
  readonly noticesBeforeFirstRestriction: number;
  /** Blocks, throttles and unblocks without a notice about the same scope in the same decision. */
  readonly untoldRestrictions: number;
  /** Blocks and throttles imposed. */
  readonly restrictions: number;
}

const HOUR = 3_600_000;
const RELIEF = new Set(['payment', 'adjustment', 'dispute']);
const sameScope = (a: Action, b: Action) =>
  'scope' in a && 'scope' in b && JSON.stringify(a.scope) === JSON.stringify(b.scope);

/**
 * Measures a timeline of decisions: hours of domestic voice blocked, time from relief (payment, credit,
 * dispute) to unblock, notices before the first restriction, and restrictions nobody was told about.
 * Entries are taken in time order; `until` ends the last interval (default: the last entry).
 *
 * @example
 * const measures = measureTimeline(steps.map((s) => ({ at: s.event.at, eventType: s.event.type, actions: s.decision.actions })));
 */
export function measureTimeline(entries: readonly TimelineEntry[], until?: string): TimelineMeasures {
  const ordered = [...entries].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const end =
    until !== undefined
      ? Date.parse(until)
      : Date.parse(ordered[ordered.length - 1]?.at ?? '1970-01-01T00:00:00Z');
  // Which restrictions hold voice at home, by the action id that imposed them.
  const holdingVoiceAtHome = new Set<string>();
  let blockedSince: number | null = null;
  let blockedMs = 0;
  let lastRelief: number | null = null;
  const reliefToUnblock: number[] = [];
  let noticesBefore = 0;
  let restricted = false;
  let untold = 0;
  let restrictions = 0;
  for (const entry of ordered) {
    const at = Date.parse(entry.at);
    if (RELIEF.has(entry.eventType)) lastRelief = at;
    for (const action of entry.actions) {
      if (action.kind === 'notify' && !restricted) noticesBefore++;
      if (action.kind === 'block' || action.kind === 'throttle' || action.kind === 'unblock') {
        const told = entry.actions.some((n) => n.kind === 'notify' && sameScope(n, action));
        if (!told) untold++;
      }
      if (action.kind === 'block' || action.kind === 'throttle') {
        restricted = true;
        restrictions++;
      }
      const voiceAtHome =
        'scope' in action && action.scope?.some((p) => p.service === 'voice' && p.zone === 'home');
      if (action.kind === 'block' && voiceAtHome) {
        if (holdingVoiceAtHome.size === 0) blockedSince = at;
        holdingVoiceAtHome.add(`${action.capId}|${action.ruleId}`);
      }
      if (action.kind === 'unblock') {
        if (lastRelief !== null) reliefToUnblock.push((at - lastRelief) / HOUR);
        if (action.lifts === 'block' && voiceAtHome) {
          holdingVoiceAtHome.delete(`${action.capId}|${action.ruleId}`);
          if (holdingVoiceAtHome.size === 0 && blockedSince !== null) {
            blockedMs += at - blockedSince;
            blockedSince = null;
          }
        }
      }
    }
  }
  if (blockedSince !== null) blockedMs += Math.max(0, end - blockedSince);
  return {
    domesticVoiceBlockedHours: blockedMs / HOUR,
    hoursFromReliefToUnblock: reliefToUnblock,
    noticesBeforeFirstRestriction: noticesBefore,
    untoldRestrictions: untold,
    restrictions,
  };
}
