// Workload "Video" (paper, Table 1), as a still frame: a 1280×720 picture is scaled to 640×480 and
// re-encoded with a pure-JS image library. Each job holds megabytes of pixels of its own.
import { createHash } from 'node:crypto';
import { UnrecoverableError } from 'bullmq';
import { Jimp } from 'jimp';
import type { FunctionConfig, PhotonContext } from '../../photon-worker/types';

// CPU-bound and about 5 MB of pixels per job: few photons per runtime.
export const config: FunctionConfig = { timeoutMs: 60_000, photonsPerRuntime: 8 };

export type OutputFormat = 'png' | 'jpeg';

type Frame = InstanceType<typeof Jimp>;

export interface TransformInput {
  /** A PNG, JPEG, BMP, GIF or TIFF image, base64-encoded (at most 16 MB of base64). */
  imageBase64?: string;
  /**
   * Without `imageBase64`: the source is a 1280×720 frame generated from this integer: red grows
   * from 0 at the left edge to 255 at the right, green from 0 at the top to 255 at the bottom,
   * blue is `seed mod 256`, and every channel gets a seeded noise of -8 to +7 (clamped to 0–255)
   * so that the frame compresses like a photograph rather than a flat gradient. Default 0.
   */
  seed?: number;
  /** Output width and height in pixels, 1 to 4096. Default 640×480 (the aspect ratio is not kept). */
  width?: number;
  height?: number;
  /** Output encoding. Default png. */
  format?: OutputFormat;
  /** Also return the encoded output as base64. Default false. */
  returnImage?: boolean;
}

export interface TransformOutput {
  source: { width: number; height: number };
  width: number;
  height: number;
  format: OutputFormat;
  /** Size of the encoded output in bytes. */
  bytes: number;
  /** Lower-case hex SHA-256 of the encoded output. */
  sha256: string;
  /** The encoded output, when `returnImage` was set. */
  imageBase64?: string;
}

const SOURCE_WIDTH = 1280;
const SOURCE_HEIGHT = 720;
const MAX_SIDE = 4096;
const MAX_BASE64 = 16 * 1024 * 1024;
const JPEG_QUALITY = 80;

function syntheticFrame(seed: number): Frame {
  const frame = new Jimp({ width: SOURCE_WIDTH, height: SOURCE_HEIGHT, color: 0x000000ff });
  const data = frame.bitmap.data;
  const blue = ((seed % 256) + 256) % 256;
  // xorshift32, integer-only so the frame is identical on every machine; never seeded with 0.
  let state = (Math.imul(seed | 0, 0x9e3779b1) ^ 0x5bd1e995) >>> 0 || 1;
  const noise = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return (state & 15) - 8;
  };
  const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
  for (let y = 0; y < SOURCE_HEIGHT; y++) {
    const green = Math.round((y * 255) / (SOURCE_HEIGHT - 1));
    for (let x = 0; x < SOURCE_WIDTH; x++) {
      const i = (y * SOURCE_WIDTH + x) * 4;
      data[i] = clamp(Math.round((x * 255) / (SOURCE_WIDTH - 1)) + noise());
      data[i + 1] = clamp(green + noise());
      data[i + 2] = clamp(blue + noise());
      data[i + 3] = 255;
    }
  }
  return frame;
}

function checkSide(value: unknown, name: string, fallback: number): number {
  const side = value ?? fallback;
  if (typeof side !== 'number' || !Number.isInteger(side) || side < 1 || side > MAX_SIDE) {
    throw new UnrecoverableError(`transform: input.${name} must be an integer from 1 to ${MAX_SIDE}, got ${JSON.stringify(side)}`);
  }
  return side;
}

export default async function transform(input: TransformInput | null | undefined, ctx: PhotonContext): Promise<TransformOutput> {
  if (input !== null && input !== undefined && (typeof input !== 'object' || Array.isArray(input))) {
    throw new UnrecoverableError('transform: input must be an object like { "seed": 1 } or { "imageBase64": "iVBORw0..." }');
  }
  const { imageBase64, seed = 0, format = 'png', returnImage = false } = input ?? {};
  const width = checkSide(input?.width, 'width', 640);
  const height = checkSide(input?.height, 'height', 480);
  if (format !== 'png' && format !== 'jpeg') {
    throw new UnrecoverableError(`transform: input.format must be "png" or "jpeg", got ${JSON.stringify(format)}`);
  }
  if (typeof returnImage !== 'boolean') {
    throw new UnrecoverableError('transform: input.returnImage must be true or false');
  }
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new UnrecoverableError(`transform: input.seed must be an integer, got ${JSON.stringify(seed)}`);
  }
  if (imageBase64 !== undefined && (typeof imageBase64 !== 'string' || imageBase64.length === 0 || imageBase64.length > MAX_BASE64)) {
    throw new UnrecoverableError(`transform: input.imageBase64 must be a non-empty base64 string of at most ${MAX_BASE64} characters`);
  }

  let image: Frame;
  if (imageBase64 === undefined) {
    image = syntheticFrame(seed);
  } else {
    try {
      // Jimp.read's declared type is a wider union than the instance it returns.
      image = (await Jimp.read(Buffer.from(imageBase64, 'base64'))) as Frame;
    } catch (err) {
      throw new UnrecoverableError(`transform: input.imageBase64 is not a readable PNG, JPEG, BMP, GIF or TIFF image (${(err as Error).message})`);
    }
    if (image.bitmap.width * image.bitmap.height > MAX_SIDE * MAX_SIDE) {
      throw new UnrecoverableError(`transform: the image is ${image.bitmap.width}×${image.bitmap.height}; at most ${MAX_SIDE}×${MAX_SIDE} pixels are accepted`);
    }
  }
  const source = { width: image.bitmap.width, height: image.bitmap.height };
  ctx.signal.throwIfAborted();
  image.resize({ w: width, h: height });
  ctx.signal.throwIfAborted();
  const encoded = format === 'png' ? await image.getBuffer('image/png') : await image.getBuffer('image/jpeg', { quality: JPEG_QUALITY });
  const output: TransformOutput = {
    source,
    width: image.bitmap.width,
    height: image.bitmap.height,
    format,
    bytes: encoded.length,
    sha256: createHash('sha256').update(encoded).digest('hex'),
  };
  if (returnImage) output.imageBase64 = encoded.toString('base64');
  return output;
}
