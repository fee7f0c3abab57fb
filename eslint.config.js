import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "dist/",
      "node_modules/",
      "coverage/",
      ".griddesk/",
      "src/api/types.generated.ts",
      "src/hypervisors/kubevirt/types.generated.ts",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      eqeqeq: ["error", "smart"],
      "no-console": ["error", { allow: ["error", "warn"] }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  { files: ["src/cli/**", "hack/**", "bench/**", "test/**"], rules: { "no-console": "off" } },
  // CommonJS (the unit project's stand-in for child_process).
  { files: ["**/*.cjs"], languageOptions: { sourceType: "commonjs", globals: { module: "writable" } } },
  // The portal page runs in the browser.
  {
    files: ["web/**/*.js"],
    languageOptions: {
      sourceType: "module",
      globals: {
        document: "readonly",
        location: "readonly",
        fetch: "readonly",
        EventSource: "readonly",
        setTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
      },
    },
  },
);
