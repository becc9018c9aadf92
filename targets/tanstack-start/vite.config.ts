// TanStack Start's Vite plugin (server routes, server functions, SSR) and React.
import { tanstackStart } from "@tanstack/react-start/plugin/vite";
import viteReact from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [tanstackStart(), viteReact()],
  // better-sqlite3 is a native module: loaded from node_modules at run time, not bundled.
  ssr: { external: ["better-sqlite3"] },
});
