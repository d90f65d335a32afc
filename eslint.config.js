// ESLint (npm run lint, with knip: see knip.jsonc). Prettier owns the style; these rules are about
// behaviour and size only:
// - no floating or misused promises (type-aware: a promise is awaited, returned, or marked `void`
//   where fire-and-forget is meant);
// - no unused variables (a name starting with `_` may stay unused);
// - function length: a warning past 80 lines (blank and comment lines not counted) everywhere but
//   the tests, and an error past 120 lines (every line counted) in src/ and the dashboard.
import { defineConfig, globalIgnores } from 'eslint/config';
import { builtinRules } from 'eslint/use-at-your-own-risk';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// ESLint takes one severity per rule, so the hard limit is the same core rule under a second name.
const maxLinesPerFunction = builtinRules.get('max-lines-per-function');

export default defineConfig([
  globalIgnores([
    '.wrangler/',
    'dist/',
    'public/vendor/',
    'python/',
    'migrations/',
    'bench/.out/',
    'worker-configuration.d.ts',
    // Type-checked in test/e2e/openapi-client.test.ts against the client it generates first.
    'test/e2e/fixtures/openapi-client.ts',
  ]),
  {
    files: ['**/*.{ts,mts,js,mjs}'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: {
        // The Worker, the CLI, the tests and the Node scripts; the dashboard (DOM types).
        project: ['./tsconfig.eslint.json', './tsconfig.dashboard.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: {
      '@typescript-eslint': tseslint.plugin,
      stride: { rules: { 'max-lines-per-function': maxLinesPerFunction } },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      'max-lines-per-function': ['warn', { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    files: ['src/**', 'public/*.js'],
    rules: { 'stride/max-lines-per-function': ['error', { max: 120 }] },
  },
  { files: ['test/**'], rules: { 'max-lines-per-function': 'off' } },
  // Plain JavaScript has no type check: catch misspelt globals.
  { files: ['**/*.{js,mjs}'], rules: { 'no-undef': 'error' } },
  {
    // The dashboard; echarts is the global of public/vendor/echarts.min.js.
    files: ['public/*.js'],
    languageOptions: { globals: { ...globals.browser, echarts: 'readonly' } },
  },
  {
    files: ['scripts/**', 'bench/**', 'bin/**', 'test/**', '*.config.*'],
    languageOptions: { globals: globals.node },
  },
]);
