// ESLint flat config: typescript-eslint's recommended rules for the TypeScript (src/, test/, bench/),
// ESLint's for the scripts and the dashboard, eslint-config-prettier last so that layout is
// Prettier's alone (`npm run lint` runs both; `npm run format` rewrites).
//
// No type-aware rules: on this code they found nothing the compiler and the tests do not, and
// they more than double the run time (16 s -> 44 s, 0.4 -> 1.3 GB on 2 cores).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import stylistic from '@stylistic/eslint-plugin';

export default tseslint.config(
  {
    ignores: ['dist/', 'coverage/', 'bench/results/', 'test-output/', 'clients/', '**/node_modules/'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `_`-prefixed names are kept on purpose: a rest pattern that drops a key, a callback's unused
      // argument.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      'no-unused-vars': 'off',
      // Control characters are what the emulator's validators and the fuzzers look for.
      'no-control-regex': 'off',
    },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    rules: {
      'no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/no-unused-vars': 'off',
    },
  },
  {
    // Tests read vendors' JSON answers and assert their shape: `any` is what they assert on.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['ui/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.browser } },
  },
  prettier,
  {
    // After eslint-config-prettier, which turns line length off: Prettier breaks code at 120 but
    // leaves alone what it cannot break (strings, template literals, regular expressions, URLs,
    // comments after code); comments on their own lines it does not wrap either, so they count.
    plugins: { '@stylistic': stylistic },
    rules: {
      '@stylistic/max-len': [
        'error',
        {
          code: 120,
          ignoreStrings: true,
          ignoreTemplateLiterals: true,
          ignoreRegExpLiterals: true,
          ignoreUrls: true,
          ignoreTrailingComments: true,
        },
      ],
    },
  },
);
