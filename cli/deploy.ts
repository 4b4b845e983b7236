// `photons deploy <file|dir>`: bundles functions here and stores them in Redis under their content
// hash; dispatchers on every host switch to exactly that version, the old one finishing its jobs.
import { stat } from 'node:fs/promises';
import { loadConfig } from '../config';
import type { PhotonsError } from '../errors';
import { findFunctionFiles } from '../dispatcher/catalog';
import { deployBundle } from '../dispatcher/deployments';
import { connectFleet } from '../contract/redis';
import { bundleFunction } from '../photon-worker/bundle';
import { parse, usageError, type Command } from './args';

export const deployCommand: Command = {
  name: 'deploy',
  usage: 'photons deploy <function-file|folder> [--config <file.json>]',
  options: { config: { type: 'string' } },
  async run(argv) {
    const args = parse(this, argv);
    const [target, ...extra] = args.positionals;
    if (!target) throw usageError(this, 'Missing the function file or folder.');
    if (extra.length > 0) throw usageError(this, `Unexpected arguments: ${extra.join(' ')}.`);
    const config = loadConfig({}, (args.values.config as string | undefined) ?? process.env.PHOTONS_CONFIG);
    const info = await stat(target).catch(() => null);
    if (!info) throw usageError(this, `${target} does not exist.`);
    const skip = (err: PhotonsError): void => void process.stderr.write(`${err.code}: ${err.message}\n`);
    const files = info.isDirectory() ? [...(await findFunctionFiles(target, skip)).values()] : [target];
    // Every file bundles before anything is deployed: a broken folder changes nothing.
    const bundles = await Promise.all(files.map((file) => bundleFunction(file)));
    const redis = await connectFleet(config.redis);
    try {
      for (const bundle of bundles) {
        await deployBundle(redis, config.redis.prefix, bundle, config.deploy.key);
        process.stdout.write(`deployed ${bundle.name} version ${bundle.hash.slice(0, 12)} (${bundle.file})\n`);
      }
    } finally {
      redis.disconnect();
    }
    return 0;
  },
};
