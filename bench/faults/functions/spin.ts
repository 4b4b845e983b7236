// Fault fixture: an ordinary counted job, or with `block` one that never yields its event loop
// again; only the dispatcher's watchdog can end it.
import type { PhotonContext } from '../../../photon-worker/types';
import { tally, type TallyInput } from '../side-channel';

export default async function (input: TallyInput & { block?: boolean }, ctx: PhotonContext) {
  if (input.block) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    for (;;);
  }
  return tally(input, ctx);
}
