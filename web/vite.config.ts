import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The web UI is built into dist/web, which the server's webui module serves at `/`.
 * `npm run dev:web` proxies the APIs to a running `pave up` on the default port.
 */
const root = fileURLToPath(new URL('.', import.meta.url));
const server = process.env.PAVE_URL ?? 'http://127.0.0.1:7007';

export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 800,
  },
  server: {
    proxy: { '/api': server, '/k8s': server, '/git': server },
  },
});
