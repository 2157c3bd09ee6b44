import { Command } from 'ioredis';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCommand, encodedSender } from '../../src/redis/encode';

/** The bytes ioredis itself would write for the command (its toWritable, strings sent as UTF-8). */
function ioredisBytes(name: string, args: (string | number | Buffer)[]): Buffer {
  const command = new Command(name, args);
  // ioredis turns numbers into strings, and notes Buffers, before it writes a command.
  (command as unknown as { stringifyArguments(): void }).stringifyArguments();
  const w = command.toWritable({});
  return typeof w === 'string' ? Buffer.from(w, 'utf8') : w;
}

const arg = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ maxLength: 3000 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
);

describe('encodeCommand', () => {
  it('writes the bytes ioredis would write, for any arguments: any strings (lone surrogates too), numbers and Buffers', () => {
    fc.assert(
      fc.property(
        // Not hset, hmset, mset or msetnx: ioredis rewrites their arguments (an object, a Buffer too,
        // as its field-value pairs) before encoding them.
        fc.constantFrom('evalsha', 'eval', 'xadd', 'xack'),
        fc.array(arg, { maxLength: 12 }),
        (name, args) => {
          expect(encodeCommand(name, args).equals(ioredisBytes(name, args))).toBe(true);
        },
      ),
    );
  });

  it('writes an empty string and an empty Buffer as empty bulk strings', () => {
    expect(encodeCommand('x', ['', Buffer.alloc(0), 7]).toString('latin1')).toBe(
      '*4\r\n$1\r\nx\r\n$0\r\n\r\n$0\r\n\r\n$1\r\n7\r\n',
    );
  });

  it('is sent on an ioredis connection as one command of those bytes', async () => {
    const send = await encodedSender();
    expect(send).not.toBeNull();
    const written: Buffer[] = [];
    const client = {
      sendCommand(command: Command) {
        written.push(command.toWritable({}) as Buffer);
        command.resolve(Buffer.from('OK'));
        return command.promise;
      },
    };
    const bytes = encodeCommand('set', ['k', 'é']);
    await expect(send!(client as never, 'set', bytes)).resolves.toBe('OK');
    expect(written).toEqual([bytes]);
  });
});
