import type { Redis } from 'ioredis';

/** An argument of a command, as ioredis takes them. */
export type Arg = string | number | Buffer;

/**
 * A command's bytes in the Redis protocol (RESP): `*n`, then each part as `$length` and its bytes,
 * every part written once, straight into one Buffer. Strings are UTF-8; numbers are written as
 * `String(n)` writes them, as ioredis does.
 */
export function encodeCommand(name: string, args: readonly Arg[]): Buffer {
  const n = args.length;
  const lengths = new Array<number>(n);
  const texts = new Array<string | Buffer>(n);
  let total = 32 + Buffer.byteLength(name);
  for (let i = 0; i < n; i++) {
    const a = args[i]!;
    const part = typeof a === 'number' ? String(a) : a;
    texts[i] = part;
    const length = typeof part === 'string' ? Buffer.byteLength(part) : part.length;
    lengths[i] = length;
    // '$', up to 16 digits and two CRLFs.
    total += length + 21;
  }
  const out = Buffer.allocUnsafe(total);
  let at = out.write(`*${n + 1}\r\n$${Buffer.byteLength(name)}\r\n`, 0, 'latin1');
  at += out.write(name, at, 'utf8');
  at += out.write('\r\n', at, 'latin1');
  for (let i = 0; i < n; i++) {
    const part = texts[i]!;
    const length = lengths[i]!;
    at += out.write(`$${length}\r\n`, at, 'latin1');
    if (typeof part === 'string') at += out.write(part, at, length, 'utf8');
    else at += part.copy(out, at);
    out[at++] = 13;
    out[at++] = 10;
  }
  return out.subarray(0, at);
}

/** Sends a command whose bytes are made, and returns its reply (strings, as ioredis's commands do). */
export type SendEncoded = (client: Redis, name: string, bytes: Buffer) => Promise<unknown>;

let loading: Promise<SendEncoded | null> | null = null;
let loaded: SendEncoded | null | undefined;

/**
 * How to send a command encoded by `encodeCommand` on an ioredis connection: as an ioredis `Command`
 * (its public `sendCommand`) whose `toWritable` returns those bytes. ioredis's own encoding measures
 * and copies each argument twice (into a Buffer of its own, then into one Buffer of them all); for a
 * commit of a thousand events, about a megabyte of state and action texts, that cost a worker 4-14 %
 * of its CPU in seven paired runs. ioredis is loaded at the first call, not when spendcap/redis is
 * imported (`shardOf` needs no client). Resolves to null when it cannot be loaded: the caller then
 * sends the command the usual way.
 */
export function encodedSender(): Promise<SendEncoded | null> {
  loading ??= import('ioredis').then(
    ({ Command }) => {
      class Encoded extends Command {
        constructor(
          name: string,
          private readonly bytes: Buffer,
        ) {
          super(name, [], { replyEncoding: 'utf8' });
        }
        override toWritable(): Buffer {
          return this.bytes;
        }
      }
      loaded = (client, name, bytes) => client.sendCommand(new Encoded(name, bytes)) as Promise<unknown>;
      return loaded;
    },
    () => (loaded = null),
  );
  return loading;
}

/** What `encodedSender` resolved to, or undefined before it has. */
export const loadedSender = (): SendEncoded | null | undefined => loaded;
