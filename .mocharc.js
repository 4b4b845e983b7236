// The test glob lives in package.json's "test" script, not here: a `spec` here would be added to
// any file named on the command line, so `npx mocha build/test/x.test.js` would run the whole suite.
'use strict';

module.exports = {
  timeout: 60000,
  exit: false,
  reporter: 'spec',
  // On CI a skipped test is a failure: a test that cannot run there covers nothing.
  forbidPending: Boolean(process.env.CI),
};
