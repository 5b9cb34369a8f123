import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, URL } from "node:url";
import tailwindcss from "@tailwindcss/vite";
import { tanstackRouter } from "@tanstack/router-plugin/vite";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

// Swagger UI for the server's /docs, copied from npm swagger-ui-dist into the build (swagger/), so
// /docs loads nothing from a CDN: the token sits in this origin's localStorage. public/swagger/init.js
// starts it.
function swaggerUi(): Plugin {
  const dir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  return {
    name: "dymunim-swagger-ui",
    apply: "build",
    generateBundle() {
      for (const file of ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"]) {
        this.emitFile({ type: "asset", fileName: `swagger/${file}`, source: readFileSync(join(dir, file)) });
      }
    },
  };
}

// The API the dev server proxies to (`dymunim up --port 3999`); the built app is served by it.
const api = process.env.DYMUNIM_URL ?? "http://127.0.0.1:3999";

export default defineConfig({
  base: "/",
  plugins: [
    // Must come before react(): it writes src/routeTree.gen.ts and splits each route's component.
    tanstackRouter({ target: "react", autoCodeSplitting: true }),
    react(),
    tailwindcss(),
    swaggerUi(),
  ],
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  build: {
    outDir: "../src/dymunim/web_dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 700,
  },
  server: {
    proxy: {
      "/api": { target: api, changeOrigin: true },
      "/health": { target: api, changeOrigin: true },
    },
  },
});
