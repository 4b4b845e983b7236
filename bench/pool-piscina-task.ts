// piscina's task file for `photons bench pool`: the very function the project's pool runs.
import poolWork from './functions/pool-work';

export default poolWork;
