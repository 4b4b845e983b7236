// The Hash workload: the blob is the AES-256-CTR keystream of the seed, rebuilt here from AES-ECB
// counter blocks (an independent derivation), and its SHA-256 must match, alone and 8 at once.
import { strict as assert } from 'node:assert';
import { createCipheriv, createHash } from 'node:crypto';
import { runLocal } from '../../dispatcher/local-run';
import type { Mode } from '../../photon-worker/types';
import { errorOf, functionFile, valueOf } from './helpers';

const HASH = functionFile('hash');
const MiB = 1024 * 1024;

interface HashOutput {
  sha256: string;
  sizeBytes: number;
}

/** CTR mode by hand: block i of the keystream is AES(key, 128-bit big-endian counter i). */
function expectedSha256(seed: string, sizeBytes: number): string {
  const key = createHash('sha256').update(`photons-hash:${seed}`).digest();
  const blocks = Math.ceil(sizeBytes / 16);
  const counters = Buffer.alloc(blocks * 16);
  for (let i = 0; i < blocks; i++) counters.writeUInt32BE(i, i * 16 + 12);
  const ecb = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
  const keystream = Buffer.concat([ecb.update(counters), ecb.final()]);
  return createHash('sha256').update(keystream.subarray(0, sizeBytes)).digest('hex');
}

describe('functions/hash', () => {
  it('hashes the default 2 MiB blob of seed 0 to a known digest', async () => {
    const [outcome] = await runLocal(HASH, [{}]);
    const expected = { sha256: 'e59968a8d21d2c7d95a5fdf903c63168e46853730ecdaa91e355294a4198648d', sizeBytes: 2 * MiB };
    assert.deepEqual(valueOf<HashOutput>(outcome), expected);
    assert.equal(expectedSha256('0', 2 * MiB), expected.sha256);
  });

  it('gives every one of 8 concurrent jobs the digest of its own blob', async () => {
    const inputs = [
      { seed: 1 },
      { seed: 2 },
      { seed: 'user-a' },
      { seed: 'user-b' },
      { seed: 3, sizeBytes: 1 },
      { seed: 4, sizeBytes: 17 },
      { seed: 5, sizeBytes: 3 * MiB + 5 },
      { seed: -6 },
    ];
    const outcomes = await runLocal(HASH, inputs, { concurrency: 8 });
    inputs.forEach((input, i) => {
      const sizeBytes = input.sizeBytes ?? 2 * MiB;
      assert.deepEqual(valueOf<HashOutput>(outcomes[i]), { sha256: expectedSha256(String(input.seed), sizeBytes), sizeBytes }, `job ${i}`);
    });
  });

  for (const mode of ['shared', 'lambda'] as Mode[]) {
    it(`gives the same digests in ${mode} mode`, async () => {
      const outcomes = await runLocal(HASH, [{ seed: 7 }, { seed: 8 }], { concurrency: 2, mode });
      assert.equal(valueOf<HashOutput>(outcomes[0]).sha256, expectedSha256('7', 2 * MiB));
      assert.equal(valueOf<HashOutput>(outcomes[1]).sha256, expectedSha256('8', 2 * MiB));
    });
  }

  it('fails bad input with a clear, non-retryable error', async () => {
    const inputs = [
      { sizeBytes: 0 },
      { sizeBytes: -1 },
      { sizeBytes: 1.5 },
      { sizeBytes: '2MB' },
      { sizeBytes: 64 * MiB + 1 },
      { seed: { a: 1 } },
      { seed: 0.5 },
      42,
    ];
    const outcomes = await runLocal(HASH, inputs, { concurrency: inputs.length });
    const messages = outcomes.map((o) => errorOf(o).message);
    assert.deepEqual(messages, [
      'hash: input.sizeBytes must be a positive integer up to 67108864, got 0',
      'hash: input.sizeBytes must be a positive integer up to 67108864, got -1',
      'hash: input.sizeBytes must be a positive integer up to 67108864, got 1.5',
      'hash: input.sizeBytes must be a positive integer up to 67108864, got "2MB"',
      'hash: input.sizeBytes must be a positive integer up to 67108864, got 67108865',
      'hash: input.seed must be a string or an integer, got {"a":1}',
      'hash: input.seed must be a string or an integer, got 0.5',
      'hash: input must be an object like { "seed": 1, "sizeBytes": 2097152 } (or empty)',
    ]);
    for (const outcome of outcomes) assert.equal(errorOf(outcome).name, 'UnrecoverableError');
  });
});
