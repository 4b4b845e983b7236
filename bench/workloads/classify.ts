// Workload "Classify" (paper, Table 1): a CNN (NSFWJS MobileNetV2, or the paper's Inception v3) loaded
// once per runtime through ctx.shared; each job holds only its own image and activations.
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
// Registers the WebAssembly backend: its .wasm ships inside the npm package, and it runs the
// network about 15x faster than the pure-JS CPU backend.
import '@tensorflow/tfjs-backend-wasm';
import { UnrecoverableError } from 'bullmq';
import { Jimp } from 'jimp';
import { NSFWJS } from 'nsfwjs';
import type { FunctionConfig, PhotonContext } from '../../photon-worker/types';

// Inference is CPU-bound on the runtime's one event loop, so a few photons per runtime suffice;
// the first job of a runtime also pays the model load (about 0.5 s for MobileNetV2).
export const config: FunctionConfig = { timeoutMs: 60_000, photonsPerRuntime: 8 };

export type ModelName = 'MobileNetV2' | 'InceptionV3';

export interface ClassifyInput {
  /** A PNG, JPEG, BMP, GIF or TIFF image, base64-encoded (at most 8 MB of base64). */
  imageBase64?: string;
  /**
   * Without `imageBase64`: classify a 224×224 picture generated from this integer (coloured tiles
   * over a gradient). Default 0.
   */
  seed?: number;
  /** How many classes to return, 1 to 5, most likely first. Default 5. */
  topk?: number;
  /**
   * MobileNetV2 (default: 2.6 MB of weights, about 0.1 s a job on one core) or InceptionV3 (the
   * paper's model: 22 MB of weights, about 0.8 s a job).
   */
  model?: ModelName;
}

export interface Prediction {
  /** One of Drawing, Hentai, Neutral, Porn, Sexy (the NSFWJS classes). */
  className: string;
  /** Softmax probability, rounded to 6 decimals. */
  probability: number;
}

export interface ClassifyOutput {
  model: ModelName;
  /** The size of the picture that was classified (before the model's own resize). */
  width: number;
  height: number;
  /** The `topk` most likely classes, most likely first. */
  predictions: Prediction[];
}

interface ModelSpec {
  /** Folder under nsfwjs/dist/models. */
  folder: string;
  /** Side of the square input the network expects. */
  size: number;
}

const MODELS: Record<ModelName, ModelSpec> = {
  MobileNetV2: { folder: 'mobilenet_v2', size: 224 },
  InceptionV3: { folder: 'inception_v3', size: 299 },
};
const MAX_BASE64 = 8 * 1024 * 1024;
const MAX_PIXELS = 4096 * 4096;
const SYNTHETIC_SIDE = 224;

interface ModelJson {
  modelTopology: tf.io.ModelArtifacts['modelTopology'];
  weightsManifest: tf.io.WeightsManifestConfig;
}

async function loadWasmBackend(): Promise<string> {
  if (!(await tf.setBackend('wasm'))) {
    throw new Error('classify: the TensorFlow.js wasm backend did not initialise');
  }
  await tf.ready();
  return tf.getBackend();
}

/**
 * Loads one of the models NSFWJS ships inside its package. The files are read directly, not
 * through `nsfwjs.load()`: under CommonJS that copies each 3.5 MB base64 string character by
 * character into an object (about 7 s for MobileNetV2), where Buffer decodes it in milliseconds.
 */
async function loadModel(name: ModelName): Promise<NSFWJS> {
  const spec = MODELS[name];
  const folder = path.join(path.dirname(require.resolve('nsfwjs')), '..', 'models', spec.folder);
  const json = require(path.join(folder, 'model.min.js')) as ModelJson;
  const shards: Buffer[] = [];
  for (const group of json.weightsManifest) {
    for (const shard of group.paths) {
      shards.push(Buffer.from(require(path.join(folder, `${shard}.min.js`)) as string, 'base64'));
    }
  }
  const weights = Buffer.concat(shards);
  const handler = tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
  });
  const model = new NSFWJS(handler, { size: spec.size });
  // Also runs one warm-up prediction, so the first job does not pay for kernel set-up.
  await model.load();
  return model;
}

/** A small integer PRNG (mulberry32): the synthetic picture must be the same on every machine. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** RGB bytes of a side×side picture: a grid of random tiles blended with a diagonal gradient. */
function syntheticPicture(seed: number, side: number): Uint8Array {
  const next = mulberry32(seed);
  const cells = 2 + (next() % 7);
  const palette = Array.from({ length: cells * cells }, () => [next() & 255, next() & 255, next() & 255] as const);
  const rgb = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const tile = palette[Math.floor((y * cells) / side) * cells + Math.floor((x * cells) / side)]!;
      const gradient = Math.floor(((x + y) * 255) / (2 * (side - 1)));
      const i = (y * side + x) * 3;
      for (let c = 0; c < 3; c++) rgb[i + c] = (tile[c]! * 3 + gradient) >> 2;
    }
  }
  return rgb;
}

async function decodePicture(base64: string): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  let image;
  try {
    image = await Jimp.read(Buffer.from(base64, 'base64'));
  } catch (err) {
    throw new UnrecoverableError(`classify: input.imageBase64 is not a readable PNG, JPEG, BMP, GIF or TIFF image (${(err as Error).message})`);
  }
  const { data, width, height } = image.bitmap;
  if (width * height > MAX_PIXELS) {
    throw new UnrecoverableError(`classify: the image is ${width}×${height}; at most ${MAX_PIXELS} pixels are accepted`);
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    rgb[p * 3] = data[p * 4]!;
    rgb[p * 3 + 1] = data[p * 4 + 1]!;
    rgb[p * 3 + 2] = data[p * 4 + 2]!;
  }
  return { rgb, width, height };
}

export default async function classify(input: ClassifyInput | null | undefined, ctx: PhotonContext): Promise<ClassifyOutput> {
  if (input !== null && input !== undefined && (typeof input !== 'object' || Array.isArray(input))) {
    throw new UnrecoverableError('classify: input must be an object like { "imageBase64": "iVBORw0..." } or { "seed": 1 }');
  }
  const { imageBase64, seed = 0, topk = 5, model: modelName = 'MobileNetV2' } = input ?? {};
  if (!Object.hasOwn(MODELS, modelName)) {
    throw new UnrecoverableError(`classify: input.model must be one of ${Object.keys(MODELS).join(', ')}, got ${JSON.stringify(modelName)}`);
  }
  if (typeof topk !== 'number' || !Number.isInteger(topk) || topk < 1 || topk > 5) {
    throw new UnrecoverableError(`classify: input.topk must be an integer from 1 to 5, got ${JSON.stringify(topk)}`);
  }
  if (imageBase64 !== undefined && (typeof imageBase64 !== 'string' || imageBase64.length === 0 || imageBase64.length > MAX_BASE64)) {
    throw new UnrecoverableError(`classify: input.imageBase64 must be a non-empty base64 string of at most ${MAX_BASE64} characters`);
  }
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new UnrecoverableError(`classify: input.seed must be an integer, got ${JSON.stringify(seed)}`);
  }

  const picture =
    imageBase64 !== undefined
      ? await decodePicture(imageBase64)
      : { rgb: syntheticPicture(seed, SYNTHETIC_SIDE), width: SYNTHETIC_SIDE, height: SYNTHETIC_SIDE };

  await ctx.shared('tfjs-wasm-backend', loadWasmBackend);
  const model = await ctx.shared(`nsfwjs-${modelName}`, () => loadModel(modelName));
  ctx.signal.throwIfAborted();

  const tensor = tf.tensor3d(picture.rgb, [picture.height, picture.width, 3], 'int32');
  try {
    const predictions = await model.classify(tensor, topk);
    return {
      model: modelName,
      width: picture.width,
      height: picture.height,
      predictions: predictions.map((p) => ({ className: p.className, probability: Math.round(p.probability * 1e6) / 1e6 })),
    };
  } finally {
    tensor.dispose();
  }
}
