import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const page = (name: string) => fileURLToPath(new URL(`./client/${name}`, import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL("./client", import.meta.url)),
  build: {
    outDir: fileURLToPath(new URL("./dist/client", import.meta.url)),
    emptyOutDir: true,
    // The landing page (with the arena) and the Reversi page.
    rolldownOptions: { input: { index: page("index.html"), reversi: page("reversi.html") } },
  },
  logLevel: "warn",
});
