// Lint of the product, its tests, benchmarks and examples (`npm run lint`, run by `npm test`).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/', 'build/', 'node_modules/', 'bench/workloads/node_modules/', 'bench/results/', 'test/fixtures/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // One program for everything: tsconfig.test.json covers the product, tests, benchmarks and examples.
        project: ['./tsconfig.test.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      // `typeof import('pino')` types the lazy require()s below without loading the module early.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      // `const { a: _a, ...rest } = o` is how the code drops a key.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // The code marks indexed reads it knows are present with `!`, ready for noUncheckedIndexedAccess.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // async without await is deliberate: handlers and routes turn a throw into a rejection.
      '@typescript-eslint/require-await': 'off',
      // A CommonJS package: require() reads package.json, lazy-loads pino in workers and loads generated JS.
      '@typescript-eslint/no-require-imports': 'off',
      // Initial values overwritten on every path are kept for the reader; tsc checks definite assignment.
      'no-useless-assignment': 'off',
    },
  },
  {
    // Tests read JSON answers field by field (a wrong field fails the assertion) and match the CLI's ANSI colours.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      'no-control-regex': 'off',
      'no-regex-spaces': 'off',
    },
  },
  {
    // Plain JavaScript outside the TypeScript program: no type information for these.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['bin/**/*.js', 'eslint.config.mjs', '.mocharc.js'],
    languageOptions: { globals: globals.node },
  },
  {
    // The runtime's captured builtins are methods taken off their prototypes on purpose, called
    // later with an explicit receiver (uncurryThis, Reflect.apply), whatever a job does to them.
    files: ['photon-worker/primordials.ts', 'photon-worker/protect-builtins.ts', 'photon-worker/photon.ts'],
    rules: { '@typescript-eslint/unbound-method': 'off' },
  },
  {
    files: ['producer/api/monitoring/public/**/*.js'],
    languageOptions: { globals: globals.browser, sourceType: 'script' },
  },
);
