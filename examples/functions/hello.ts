// The quick start's function: greets a name. Copy it into functions/ (or point
// PHOTONS_FUNCTIONS_DIR at this folder) and send it jobs.
import { UnrecoverableError, type FunctionConfig, type PhotonContext } from 'photons';

export const config: FunctionConfig = { timeoutMs: 10_000, photonsPerRuntime: 64 };

export interface HelloInput {
  /** Who to greet. Default "world". */
  name?: string;
}

let calls = 0; // per job: every job sees its module freshly initialised, so this is always 1

export default async function hello(input: HelloInput | null | undefined, ctx: PhotonContext): Promise<{ greeting: string; calls: number }> {
  const name = input?.name ?? 'world';
  if (typeof name !== 'string' || name.length > 200) {
    throw new UnrecoverableError('hello: input.name must be a string of at most 200 characters, like { "name": "Ada" }');
  }
  calls++;
  ctx.log.info({ name }, 'greeting'); // also in the job's BullMQ log: queue.getJobLogs(job.id)
  return { greeting: `hello ${name}`, calls };
}
