import { STATE_VERSION } from './state.js';

/**
 * A stored state brought to the current format (`STATE_VERSION`). Version 1 kept `seen` as a record of
 * event id → time; version 2 keeps the ids and their times as two lists in the order applied. A state
 * of the current version, a newer one, or anything that is not a state of a known older version is
 * returned as it is, for the schema to accept or refuse with its reasons. The input is never changed.
 *
 * @example
 * const state = SubscriberStateSchema.parse(migrateState(JSON.parse(stored)));
 */
export function migrateState(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  if (record['version'] !== 1) return value;
  const seen = record['seen'];
  const migrated: Record<string, unknown> = { ...record, version: STATE_VERSION };
  if (seen !== null && typeof seen === 'object' && !Array.isArray(seen)) {
    const ids = Object.keys(seen);
    migrated['seen'] = { ids, at: ids.map((id) => (seen as Record<string, unknown>)[id]) };
  }
  return migrated;
}
