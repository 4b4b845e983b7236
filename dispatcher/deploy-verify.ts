// What a dispatcher checks before it runs a bundle read from Redis: its code hashes to the version
// it is stored as, it names the function it is deployed as (a valid name), and, with a deploy key,
// the deployer signed it. Anyone who can write to Redis could otherwise run code on every dispatcher.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ErrorCodes, PhotonsError } from '../errors';
import { FUNCTION_NAME, type FunctionBundle } from '../photon-worker/bundle';

/** A bundle as `photons deploy` stores it: with a signature when a deploy key is set. */
export interface StoredBundle extends FunctionBundle {
  signature?: string;
}

/** HMAC-SHA256 over the version and the name: the code is covered through its hash. */
export function signBundle(key: string, hash: string, name: string): string {
  return createHmac('sha256', key).update(`${hash}\n${name}`).digest('hex');
}

/** The bundle stored under `hash` for function `fn`, checked; a PhotonsError DEPLOY_REJECTED if it may not run. */
export function verifyBundle(stored: string, fn: string, hash: string, key: string): FunctionBundle {
  const reject = (why: string, todo: string): PhotonsError =>
    new PhotonsError(ErrorCodes.DEPLOY_REJECTED, `The deployed version ${hash.slice(0, 12)} of "${fn}" is refused: ${why}. ${todo}`);
  const redeploy = 'Deploy the function again with `photons deploy`.';
  let bundle: Partial<StoredBundle>;
  try {
    bundle = JSON.parse(stored) as Partial<StoredBundle>;
  } catch {
    throw reject('its stored bundle is not JSON', redeploy);
  }
  const { name, code, sourceMap, file, signature } = bundle;
  if (typeof name !== 'string' || typeof code !== 'string' || typeof sourceMap !== 'string' || typeof file !== 'string') {
    throw reject('its stored bundle lacks its name, code, source map or file', redeploy);
  }
  if (!FUNCTION_NAME.test(fn) || name !== fn) {
    throw reject(
      `it is named "${name}"; a function name is letters, digits, '-' and '_', starting with a letter (at most 64), and must match the name deployed`,
      'Rename the file and deploy it with `photons deploy`.',
    );
  }
  const actual = createHash('sha256').update(code).digest('hex');
  if (actual !== hash || bundle.hash !== hash) {
    throw reject(`its code hashes to ${actual.slice(0, 12)}, not to the version it is stored as (it was altered in Redis)`, redeploy);
  }
  if (key) {
    const expected = Buffer.from(signBundle(key, hash, name), 'hex');
    const given = typeof signature === 'string' && /^[0-9a-f]{64}$/.test(signature) ? Buffer.from(signature, 'hex') : undefined;
    if (!given || !timingSafeEqual(given, expected)) {
      throw reject(
        given ? 'its signature does not match the deploy key' : 'it is not signed, and this dispatcher has a deploy key',
        'Deploy it with `photons deploy` and the same deploy.key (PHOTONS_DEPLOY_KEY) as the dispatchers.',
      );
    }
  }
  return { name, file, code, sourceMap, hash };
}
