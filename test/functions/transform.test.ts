// The Video workload as a still frame: 1280×720 in, 640×480 out. The returned image is decoded here
// and its pixels must still show the source's gradients and the job's own seed colour.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { runLocal } from '../../dispatcher/local-run';
import { errorOf, functionFile, valueOf, workloadRequire } from './helpers';

// jimp is a dependency of the workloads, installed beside them.
const { Jimp } = workloadRequire('jimp') as typeof import('jimp');

const TRANSFORM = functionFile('transform');

interface TransformOutput {
  source: { width: number; height: number };
  width: number;
  height: number;
  format: string;
  bytes: number;
  sha256: string;
  imageBase64?: string;
}

/** Decodes the returned image after checking that `bytes` and `sha256` describe it. */
async function decode(output: TransformOutput) {
  assert.ok(output.imageBase64, 'returnImage was set but no image came back');
  const bytes = Buffer.from(output.imageBase64, 'base64');
  assert.equal(output.bytes, bytes.length);
  assert.equal(output.sha256, createHash('sha256').update(bytes).digest('hex'));
  return Jimp.read(bytes);
}

/**
 * The synthetic source has red = 255·x/1279, green = 255·y/719, blue = seed mod 256, plus noise
 * of -8..+7 per channel. Scaling keeps most of that noise, so the check averages 9×9 windows:
 * their mean must sit within 3 of the gradient at the same relative position.
 */
function assertGradient(image: Awaited<ReturnType<typeof decode>>, blue: number, label: string): void {
  const { width, height, data } = image.bitmap;
  for (const [fx, fy] of [
    [0.1, 0.1],
    [0.5, 0.5],
    [0.9, 0.2],
    [0.25, 0.8],
  ] as const) {
    const cx = Math.floor(fx * width);
    const cy = Math.floor(fy * height);
    const sums = [0, 0, 0];
    for (let y = cy - 4; y <= cy + 4; y++) {
      for (let x = cx - 4; x <= cx + 4; x++) {
        for (let c = 0; c < 3; c++) sums[c]! += data[(y * width + x) * 4 + c]!;
      }
    }
    const expected = [(255 * (cx + 0.5)) / width, (255 * (cy + 0.5)) / height, blue];
    sums.forEach((sum, c) => {
      const mean = sum / 81;
      assert.ok(
        Math.abs(mean - expected[c]!) <= 3,
        `${label}: around (${cx},${cy}) channel ${c} averages ${mean.toFixed(1)}, expected about ${expected[c]!.toFixed(1)}`,
      );
    });
  }
}

describe('functions/transform', () => {
  it('scales the default 1280×720 frame to a 640×480 PNG with a known digest', async () => {
    const [outcome] = await runLocal(TRANSFORM, [{ returnImage: true }]);
    const output = valueOf<TransformOutput>(outcome);
    assert.deepEqual(
      { ...output, imageBase64: undefined },
      {
        source: { width: 1280, height: 720 },
        width: 640,
        height: 480,
        format: 'png',
        bytes: 476192,
        sha256: '88026f7f5011966733f32f82e3ae84363b789104ae9d466a36b89c761d70d041',
        imageBase64: undefined,
      },
    );
    const image = await decode(output);
    assert.deepEqual([image.bitmap.width, image.bitmap.height], [640, 480]);
    // Blue 0 minus noise clamps at 0, so its mean is about 2.
    assertGradient(image, 2, 'seed 0');
  });

  it('gives each of 6 concurrent jobs a frame with its own colour', async () => {
    const seeds = [40, 80, 120, 160, 200, 240];
    const outcomes = await runLocal(
      TRANSFORM,
      seeds.map((seed) => ({ seed, returnImage: true })),
      { concurrency: seeds.length },
    );
    const digests = new Set<string>();
    for (const [i, seed] of seeds.entries()) {
      const output = valueOf<TransformOutput>(outcomes[i]);
      digests.add(output.sha256);
      assertGradient(await decode(output), seed, `seed ${seed}`);
    }
    assert.equal(digests.size, seeds.length);
  });

  it('scales a given image to the asked size and encodes JPEG on request', async () => {
    const red = new Jimp({ width: 200, height: 100, color: 0xff0000ff });
    const imageBase64 = (await red.getBuffer('image/png')).toString('base64');
    const [png, jpeg] = await runLocal(
      TRANSFORM,
      [
        { imageBase64, width: 50, height: 25, returnImage: true },
        { seed: 7, format: 'jpeg', returnImage: true },
      ],
      { concurrency: 2 },
    );
    const small = valueOf<TransformOutput>(png);
    assert.deepEqual([small.source, small.width, small.height, small.format], [{ width: 200, height: 100 }, 50, 25, 'png']);
    const image = await decode(small);
    assert.deepEqual([image.bitmap.width, image.bitmap.height], [50, 25]);
    assert.equal(image.getPixelColor(25, 12), 0xff0000ff);

    const jpegOutput = valueOf<TransformOutput>(jpeg);
    assert.equal(jpegOutput.format, 'jpeg');
    const bytes = Buffer.from(jpegOutput.imageBase64!, 'base64');
    assert.deepEqual([...bytes.subarray(0, 3)], [0xff, 0xd8, 0xff], 'a JPEG starts with FF D8 FF');
    const decoded = await decode(jpegOutput);
    assert.deepEqual([decoded.bitmap.width, decoded.bitmap.height], [640, 480]);
  });

  it('fails bad input with a clear, non-retryable error', async () => {
    const inputs: unknown[] = [
      { width: 0 },
      { height: 4097 },
      { width: '640' },
      { format: 'webp' },
      { seed: 'x' },
      { returnImage: 'yes' },
      { imageBase64: Buffer.from('not an image').toString('base64') },
      [1280, 720],
    ];
    const outcomes = await runLocal(TRANSFORM, inputs, { concurrency: inputs.length });
    const errors = outcomes.map((o) => errorOf(o));
    const messages = errors.map((e) => e.message);
    assert.deepEqual(messages.slice(0, 6), [
      'transform: input.width must be an integer from 1 to 4096, got 0',
      'transform: input.height must be an integer from 1 to 4096, got 4097',
      'transform: input.width must be an integer from 1 to 4096, got "640"',
      'transform: input.format must be "png" or "jpeg", got "webp"',
      'transform: input.seed must be an integer, got "x"',
      'transform: input.returnImage must be true or false',
    ]);
    assert.match(messages[6]!, /^transform: input.imageBase64 is not a readable PNG, JPEG, BMP, GIF or TIFF image/);
    assert.match(messages[7]!, /^transform: input must be an object/);
    for (const error of errors) assert.equal(error.name, 'UnrecoverableError');
  });
});
