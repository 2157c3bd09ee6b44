// How today's all-or-nothing systems behave, for the stories' comparison only. The legacy policy
// (examples/legacy-account-block.json) says what is blocked; these three habits of the old systems
// are what spendcap's engine would never do, so the replay applies them around it:
//   1. it sends nothing: no warning, no notice, no payment link, no care note;
//   2. it lifts a block a day after the money or the credit arrives (a nightly batch);
//   3. it keeps counting a disputed amount until the dispute is decided.
import { createEngine } from 'spendcap';

const DAY = 24 * 3_600_000;

/** Replays events the old way; returns timeline entries for `measureTimeline`. */
export async function replayLegacy(policy, profile, events) {
  const engine = createEngine(policy);
  let state = engine.init(profile);
  const entries = [];
  for (const event of events) {
    if (event.type === 'dispute' && event.status === 'open') {
      entries.push({ at: event.at, eventType: event.type, actions: [] });
      continue;
    }
    const decision = await engine.process(state, event);
    state = decision.state;
    const kept = decision.actions.filter(
      (a) => a.kind === 'block' || a.kind === 'throttle' || a.kind === 'unblock',
    );
    entries.push({ at: event.at, eventType: event.type, actions: kept.filter((a) => a.kind !== 'unblock') });
    const lifted = kept.filter((a) => a.kind === 'unblock');
    if (lifted.length > 0) {
      const at = new Date(Date.parse(event.at) + DAY).toISOString();
      entries.push({ at, eventType: 'nightly-batch', actions: lifted.map((a) => ({ ...a, at })) });
    }
  }
  return entries;
}
