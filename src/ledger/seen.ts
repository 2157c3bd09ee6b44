import type { SubscriberState } from '../schema/index.js';

/**
 * An index of a state's applied ids (`state.seen.ids`), kept in step with the list by the code that
 * changes it: `add` after an id is appended, `delete` for an id the list forgets. A `Set` of the ids is
 * one.
 */
export interface IdIndex {
  has(id: string): boolean;
  add(id: string): void;
  delete(id: string): void;
}

/** From how many applied ids `SeenIds` keeps a set of them (below, comparing hashes costs less). */
export const SET_FROM = 32;

/**
 * The index `run` keeps beside each state it owns. Most states hold a few applied ids: then it keeps a
 * 32-bit hash of each, in the list's order, in one array, and the repeat check compares the event's hash
 * with those, reading an applied id only when its hash is equal. (Each applied id is a string of its own
 * somewhere in memory: comparing the event's id with every one of them, as a search of the list does,
 * costs a cache miss per id.) From SET_FROM ids on, a set of the ids.
 *
 * The hashes are rebuilt from the list when it forgot ids (`delete`) or when their count differs from
 * the list's, so an index that fell out of step answers from the list rather than wrongly.
 */
export class SeenIds implements IdIndex {
  readonly #seen: SubscriberState['seen'];
  #hashes: number[] | null = null;
  #set: Set<string> | null = null;
  /** The last id `has` hashed and its hash (an `add` of the same id follows most checks). */
  #lastId: string | null = null;
  #lastHash = 0;

  constructor(seen: SubscriberState['seen']) {
    this.#seen = seen;
  }

  has(id: string): boolean {
    if (this.#set !== null) return this.#set.has(id);
    const list = this.#seen.ids;
    let hashes = this.#hashes;
    if (hashes === null || hashes.length !== list.length) {
      if (list.length >= SET_FROM) {
        this.#set = new Set(list);
        this.#hashes = null;
        return this.#set.has(id);
      }
      hashes = this.#rebuild(list);
    }
    const hash = idHash(id);
    this.#lastId = id;
    this.#lastHash = hash;
    for (let i = 0; i < hashes.length; i++) if (hashes[i] === hash && list[i] === id) return true;
    return false;
  }

  add(id: string): void {
    if (this.#set !== null) {
      this.#set.add(id);
      return;
    }
    const list = this.#seen.ids;
    const hashes = this.#hashes;
    // Out of step (or never built): the next check rebuilds from the list.
    if (hashes === null || hashes.length !== list.length - 1) {
      this.#hashes = null;
      return;
    }
    if (list.length >= SET_FROM) {
      this.#set = new Set(list);
      this.#hashes = null;
      return;
    }
    hashes.push(id === this.#lastId ? this.#lastHash : idHash(id));
  }

  delete(id: string): void {
    if (this.#set !== null) this.#set.delete(id);
    else this.#hashes = null;
  }

  #rebuild(list: readonly string[]): number[] {
    const hashes = new Array<number>(list.length);
    for (let i = 0; i < list.length; i++) hashes[i] = idHash(list[i]!);
    this.#hashes = hashes;
    return hashes;
  }
}

/**
 * A 32-bit FNV-1a hash of a string's UTF-16 code units. Equal ids have equal hashes; an equal hash only
 * sends the check on to compare the ids.
 *
 * @example
 * idHash('e1') === idHash('e1'); // true
 */
export function idHash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return h | 0;
}
