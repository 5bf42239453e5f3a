import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    // The default output, then what was skipped and why.
    reporters: ["default", "./test/skip-report.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
