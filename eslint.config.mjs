// The TypeScript linter (npm run lint, in .ci/run): typescript-eslint's recommended rules, without
// type information, on the facade (lib/) and the tests (__test__/).
import tseslint from 'typescript-eslint'

export default [
  { ignores: ['dist/**', 'node_modules/**', 'target/**', '__test__/fixtures/build/**', '.emulated/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      // `_` names what is bound only to be dropped (`using _ = …`, `for (const _ of …)`).
      '@typescript-eslint/no-unused-vars': ['error', { varsIgnorePattern: '^_', argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['__test__/**'],
    rules: {
      // Tests read JSON written by child processes, whose shape is what they assert.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // Type tests: values declared for their types only.
    files: ['__test__/types/**'],
    rules: { '@typescript-eslint/no-unused-vars': 'off' },
  },
  {
    // Plain CommonJS programs that the tests run under node.
    files: ['__test__/fixtures/**/*.js', '__test__/fixtures/**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
]
