import { defineConfig } from 'vite';

// The console is served by the Go binary under /console/ (console/console.go embeds dist/).
// The build is reproducible: no timestamps, no source maps, content-hashed file names.
export default defineConfig({
  base: '/console/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    sourcemap: false,
    reportCompressedSize: false,
    // The polyfill would be inlined into index.html, which the Content-Security-Policy forbids.
    modulePreload: { polyfill: false },
  },
  // `npm run dev` talks to a server started with `go run . -demo`.
  server: { proxy: { '/query': 'http://127.0.0.1:8080' } },
});
