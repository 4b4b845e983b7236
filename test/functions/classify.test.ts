// The Classify workload: the CNN's outputs are deterministic, so known pictures must get known
// predictions, also when 8 jobs share the model at once, and with the paper's Inception v3.
import { strict as assert } from 'node:assert';
import { runLocal } from '../../dispatcher/local-run';
import { errorOf, functionFile, valueOf, workloadRequire } from './helpers';

// jimp is a dependency of the workloads, installed beside them.
const { Jimp } = workloadRequire('jimp') as typeof import('jimp');

const CLASSIFY = functionFile('classify');

interface ClassifyOutput {
  model: string;
  width: number;
  height: number;
  predictions: Array<{ className: string; probability: number }>;
}

type Expected = Array<[string, number]>;

/** MobileNetV2 on the synthetic 224×224 pictures of seeds 0 to 7 (top 5, most likely first). */
const MOBILENET_BY_SEED: Expected[] = [
  [
    ['Drawing', 0.63123],
    ['Neutral', 0.345346],
    ['Hentai', 0.014337],
    ['Porn', 0.006305],
    ['Sexy', 0.002782],
  ],
  [
    ['Neutral', 0.907809],
    ['Drawing', 0.071837],
    ['Porn', 0.010887],
    ['Sexy', 0.005005],
    ['Hentai', 0.004463],
  ],
  [
    ['Drawing', 0.586105],
    ['Neutral', 0.388808],
    ['Hentai', 0.0155],
    ['Porn', 0.006662],
    ['Sexy', 0.002926],
  ],
  [
    ['Neutral', 0.780158],
    ['Drawing', 0.206243],
    ['Hentai', 0.006482],
    ['Porn', 0.003743],
    ['Sexy', 0.003374],
  ],
  [
    ['Neutral', 0.832427],
    ['Drawing', 0.158214],
    ['Hentai', 0.00381],
    ['Sexy', 0.002953],
    ['Porn', 0.002596],
  ],
  [
    ['Neutral', 0.939249],
    ['Drawing', 0.044316],
    ['Porn', 0.008596],
    ['Sexy', 0.005267],
    ['Hentai', 0.002571],
  ],
  [
    ['Drawing', 0.926358],
    ['Neutral', 0.059433],
    ['Hentai', 0.010388],
    ['Porn', 0.003134],
    ['Sexy', 0.000688],
  ],
  [
    ['Drawing', 0.534626],
    ['Neutral', 0.445867],
    ['Hentai', 0.011772],
    ['Porn', 0.004922],
    ['Sexy', 0.002814],
  ],
];

/**
 * Same classes in the same order, probabilities equal to 1e-4: the wasm kernels give the same
 * floats on every x86 or ARM machine, the slack only covers a future kernel's rounding.
 */
function assertPredictions(output: ClassifyOutput, expected: Expected, label: string): void {
  assert.deepEqual(
    output.predictions.map((p) => p.className),
    expected.map(([name]) => name),
    `${label}: classes`,
  );
  output.predictions.forEach((p, i) => {
    assert.ok(Math.abs(p.probability - expected[i]![1]) < 1e-4, `${label}: ${p.className} ${p.probability} vs ${expected[i]![1]}`);
  });
}

/** A 96×64 PNG: red grows to the right, green downwards, blue fixed at 128. */
async function gradientPng(): Promise<string> {
  const image = new Jimp({ width: 96, height: 64, color: 0xffffffff });
  for (let y = 0; y < 64; y++) {
    for (let x = 0; x < 96; x++) {
      image.setPixelColor(((((x * 2) & 255) << 24) | (((y * 4) & 255) << 16) | (0x80 << 8) | 0xff) >>> 0, x, y);
    }
  }
  return (await image.getBuffer('image/png')).toString('base64');
}

describe('functions/classify', function () {
  // The first job of each run also loads the model into a new runtime.
  this.timeout(120_000);

  it('gives each of 8 concurrent jobs the known predictions for its own picture', async () => {
    const inputs = MOBILENET_BY_SEED.map((_, seed) => ({ seed }));
    const outcomes = await runLocal(CLASSIFY, inputs, { concurrency: 8 });
    outcomes.forEach((outcome, seed) => {
      const output = valueOf<ClassifyOutput>(outcome);
      assert.equal(output.model, 'MobileNetV2');
      assert.deepEqual([output.width, output.height], [224, 224]);
      assertPredictions(output, MOBILENET_BY_SEED[seed]!, `seed ${seed}`);
    });
  });

  it('classifies a PNG given as base64 and returns the topk most likely classes', async () => {
    const [top3, top5] = await runLocal(CLASSIFY, [{ imageBase64: await gradientPng(), topk: 3 }, { imageBase64: await gradientPng() }], { concurrency: 2 });
    const output = valueOf<ClassifyOutput>(top3);
    assert.deepEqual([output.width, output.height], [96, 64]);
    assertPredictions(
      output,
      [
        ['Drawing', 0.909831],
        ['Neutral', 0.069285],
        ['Hentai', 0.017222],
      ],
      'gradient PNG',
    );
    const all = valueOf<ClassifyOutput>(top5).predictions;
    assert.equal(all.length, 5);
    const total = all.reduce((sum, p) => sum + p.probability, 0);
    assert.ok(Math.abs(total - 1) < 1e-4, `the five probabilities sum to ${total}`);
  });

  it('runs the paper model, Inception v3, on request', async () => {
    const [outcome] = await runLocal(CLASSIFY, [{ model: 'InceptionV3', seed: 1, topk: 2 }]);
    const output = valueOf<ClassifyOutput>(outcome);
    assert.equal(output.model, 'InceptionV3');
    assertPredictions(
      output,
      [
        ['Neutral', 0.895031],
        ['Drawing', 0.080461],
      ],
      'InceptionV3 seed 1',
    );
  });

  it('fails bad input with a clear, non-retryable error', async () => {
    const inputs: unknown[] = [
      { model: 'ResNet' },
      { topk: 0 },
      { topk: 6 },
      { seed: 1.5 },
      { imageBase64: '' },
      { imageBase64: Buffer.from('hello').toString('base64') },
      'cat.png',
    ];
    const outcomes = await runLocal(CLASSIFY, inputs, { concurrency: inputs.length });
    const errors = outcomes.map((o) => errorOf(o));
    const messages = errors.map((e) => e.message);
    assert.deepEqual(messages.slice(0, 5), [
      'classify: input.model must be one of MobileNetV2, InceptionV3, got "ResNet"',
      'classify: input.topk must be an integer from 1 to 5, got 0',
      'classify: input.topk must be an integer from 1 to 5, got 6',
      'classify: input.seed must be an integer, got 1.5',
      'classify: input.imageBase64 must be a non-empty base64 string of at most 8388608 characters',
    ]);
    assert.match(messages[5]!, /^classify: input.imageBase64 is not a readable PNG, JPEG, BMP, GIF or TIFF image/);
    assert.match(messages[6]!, /^classify: input must be an object/);
    for (const error of errors) assert.equal(error.name, 'UnrecoverableError');
  });
});
