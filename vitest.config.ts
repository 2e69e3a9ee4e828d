import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 300_000,
    pool: "forks",
    // Biome's focused-test rule mistakes our fit() for Jasmine's, so .only is refused here instead.
    allowOnly: false,
  },
});
