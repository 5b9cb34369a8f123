import { fileURLToPath, URL } from "node:url";
import { defineConfig } from "vitest/config";

// Pure-logic tests only: no router plugin, no DOM, so the suite starts fast.
export default defineConfig({
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
