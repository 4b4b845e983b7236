// What top-level await costs per photon: creates module instances of two twin modules, one with a
// top-level await and one without (test/fixtures/modules/bench-*.ts), and prints the time per
// instance, one at a time and 1,000 in flight at once. `node dist/bench/top-level-await.js`.
import * as path from 'node:path';
import { bundleFunction } from '../photon-worker/bundle';
import { FunctionCode, PhotonConsole, type ModuleInstance } from '../photon-worker/photon';

const MODULES = path.resolve(__dirname, '../../test/fixtures/modules');
const ROUNDS = 5;
const PER_ROUND = 20_000;
const IN_FLIGHT = 1_000;

const noLogger = () => {
  throw new Error('unused');
};

async function micros(code: FunctionCode, inFlight: number): Promise<number> {
  const load = (): ModuleInstance | Promise<ModuleInstance> => code.load(code.globalView(), new PhotonConsole(noLogger) as unknown as Console);
  const started = process.hrtime.bigint();
  for (let done = 0; done < PER_ROUND; done += inFlight) {
    const batch: (ModuleInstance | Promise<ModuleInstance>)[] = [];
    for (let i = 0; i < inFlight; i++) batch.push(load());
    // eslint-disable-next-line @typescript-eslint/await-thenable -- code.async: every load returned a promise
    if (code.async) await Promise.all(batch);
  }
  return Number(process.hrtime.bigint() - started) / 1000 / PER_ROUND;
}

async function main(): Promise<void> {
  const rows: string[] = [];
  for (const name of ['bench-plain', 'bench-tla']) {
    const bundle = await bundleFunction(path.join(MODULES, `${name}.ts`));
    const code = new FunctionCode(bundle.name, bundle.file, bundle.code);
    await micros(code, 1); // warm-up: compiled and optimised before measuring
    for (const inFlight of [1, IN_FLIGHT]) {
      const readings: number[] = [];
      for (let round = 0; round < ROUNDS; round++) readings.push(await micros(code, inFlight));
      readings.sort((a, b) => a - b);
      rows.push(
        `${name.padEnd(12)} async=${String(code.async).padEnd(5)} in flight ${String(inFlight).padStart(4)}: ${readings[ROUNDS >> 1]!.toFixed(2)} µs per instance (median of ${ROUNDS} rounds of ${PER_ROUND})`,
      );
    }
  }
  console.log(rows.join('\n'));
}

void main();
