import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-tmpdir.ts"],
    setupFiles: ["test/yield-to-runner.ts"],
    // CDK synthesis and Pulumi mocks are memory-heavy; two workers match the 2-core CI machine.
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
