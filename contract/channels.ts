// The pub/sub channels on which producers and `photons deploy` reach every dispatcher. Their full
// names, under the key prefix, come from contract/keys.ts.

/** Cancel requests (a CancelRequest, contract/wire.ts): every dispatcher stops the job if it runs it. */
export const CANCEL_CHANNEL = 'cancel';
/** New versions (a DeployNotice, contract/wire.ts): every dispatcher switches the function to it. */
export const DEPLOY_CHANNEL = 'deploy';

export type Channel = typeof CANCEL_CHANNEL | typeof DEPLOY_CHANNEL;
