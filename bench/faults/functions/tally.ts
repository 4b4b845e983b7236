// Fault fixture: an ordinary job that counts its runs in the side channel.
import type { PhotonContext } from '../../../photon-worker/types';
import { tally, type TallyInput } from '../side-channel';

export default function (input: TallyInput, ctx: PhotonContext) {
  return tally(input, ctx);
}
