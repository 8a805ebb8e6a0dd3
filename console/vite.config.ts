// The console is served by the API under /console/ (api/console.py), so every asset URL carries that base.
import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import AutoImport from 'unplugin-auto-import/vite'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'

export default defineConfig({
  base: '/console/',
  plugins: [
    vue(),
    // On-demand Element Plus: only the components and their styles a page uses end up in its chunk
    // (the whole library is ~300 KB gzipped; the first load aims under 600 KB gzipped, JS + CSS).
    AutoImport({ resolvers: [ElementPlusResolver()], dts: 'src/auto-imports.d.ts' }),
    Components({ resolvers: [ElementPlusResolver()], dts: 'src/components.d.ts' }),
  ],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    manifest: true, // scripts/first-load-size.mjs reads it
    // Two pages: the console (index.html) and the wall dashboard (dashboard.html, served by the API at /dashboard).
    rollupOptions: {
      input: {
        console: fileURLToPath(new URL('./index.html', import.meta.url)),
        dashboard: fileURLToPath(new URL('./dashboard.html', import.meta.url)),
      },
    },
    chunkSizeWarningLimit: 600,
  },
  server: {
    // `npm run dev` against a running `make run` API.
    proxy: { '/v1': 'http://127.0.0.1:8000' },
  },
})
