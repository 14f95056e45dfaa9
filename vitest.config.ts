import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // End-to-end tests start real servers on 127.0.0.1 and a real discord.js client; they need room.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: keep workers few so e2e timing (Discord's 3 s window) is not starved.
    maxWorkers: 2,
  },
});
