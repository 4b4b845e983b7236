// Fault fixture: an ordinary counted job, or with `grow` one that keeps allocating until its
// runtime's heap (a small limit of its own) is exhausted.
import type { FunctionConfig, PhotonContext } from '../../../photon-worker/types';
import { tally, type TallyInput } from '../side-channel';

export const config: FunctionConfig = { memoryMb: 48 };

export default async function (input: TallyInput & { grow?: boolean }, ctx: PhotonContext) {
  if (input.grow) {
    const hoard: number[][] = [];
    for (let i = 0; ; i++) {
      hoard.push(Array.from({ length: 100_000 }, (_, j) => i + j));
      // Yield now and then, as real code does, so the runtime's heap readings stay current.
      if (i % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return tally(input, ctx);
}
