import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The editor bundles the TypeScript sources of @sluice/protocol and @sluice/expression (the
// `sluice-source` export condition), so it builds without their dist/. `npm run dev -w @sluice/editor`
// proxies the API and socket.io to a server on :8080.
export default defineConfig({
  plugins: [react()],
  resolve: { conditions: ['sluice-source', 'browser', 'module', 'import', 'default'] },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 4096, sourcemap: true },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/socket.io': { target: 'ws://127.0.0.1:8080', ws: true },
    },
  },
});
