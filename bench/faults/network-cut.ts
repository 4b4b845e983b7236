import { skipped, type Scenario } from './scenario';
export const networkCutScenario: Scenario = { name: 'network-cut', mustHold: 'x', run: async () => skipped('network-cut', 'not yet') };
