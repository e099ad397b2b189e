import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// `npm run dev` proxies the API to a running feedline (FEEDLINE_URL, default http://127.0.0.1:8080).
export default defineConfig({
  plugins: [svelte()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: false,
    target: 'es2020',
    // One small app: a single chunk keeps the page to three requests.
    chunkSizeWarningLimit: 400,
  },
  server: {
    proxy: { '/api': process.env.FEEDLINE_URL ?? 'http://127.0.0.1:8080' },
  },
});
