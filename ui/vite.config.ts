import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The desktop shell loads the built files from ui/dist (tauri.conf.json `frontendDist`).
export default defineConfig({
  plugins: [react()],
  clearScreen: false,
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
  test: { environment: "jsdom", globals: true },
});
