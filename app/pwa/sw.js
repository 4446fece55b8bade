// Attune's service worker: the site and its assets work offline after the first visit, and a new
// version replaces the old one only whole.
//
// - Install downloads everything of one build into a cache of its own, named by the build id that
//   scripts/post_build.sh stamps below (a hash of index.html and public/manifest.json, so any new
//   code or asset makes a new worker). Every file public/manifest.json lists is checked against its
//   size and sha256; one failed or corrupt download fails the install and deletes the partial
//   cache, and the version in use stays as it was.
// - A new version waits until the page asks for it (the "new version" bar) or every tab is closed,
//   so an open page never mixes the files of two builds. Activation deletes older caches.
// - Fetches of this origin are answered from the cache; "Retry" after a failed download
//   (cache: no-store) goes to the network.
"use strict";
const BUILD = "__ATTUNE_BUILD__";
const CACHE = "attune-" + BUILD;

async function fetchOk(url) {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(url + ": HTTP " + response.status);
  return response;
}

async function sha256Hex(buffer) {
  const digest = await crypto.subtle.digest("SHA-256", buffer);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function precache() {
  const cache = await caches.open(CACHE);
  const index = await fetchOk("/");
  const html = await index.clone().text();
  const urls = new Set();
  for (const m of html.matchAll(/(?:href|src)=["'](\/[^"']+)["']|from '(\/[^']+)'|module_or_path: '(\/[^']+)'/g)) {
    urls.add(m[1] || m[2] || m[3]);
  }
  const manifestResponse = await fetchOk("/public/manifest.json");
  const manifest = await manifestResponse.clone().json();
  const listed = Object.entries(manifest.files || {});
  for (const [name] of listed) urls.delete("/public/" + name);
  urls.delete("/public/manifest.json");
  const plain = [...urls].map(async (url) => cache.put(url, await fetchOk(url)));
  const checked = listed.map(async ([name, entry]) => {
    const url = "/public/" + name;
    const response = await fetchOk(url);
    const body = await response.clone().arrayBuffer();
    if (body.byteLength !== entry.bytes || (await sha256Hex(body)) !== entry.sha256) {
      throw new Error(url + " does not match public/manifest.json");
    }
    await cache.put(url, response);
  });
  await Promise.all([...plain, ...checked]);
  // The manifest and the page last: a cache holding them is complete.
  await cache.put("/public/manifest.json", manifestResponse);
  await cache.put("/", index);
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    precache().catch(async (e) => {
      await caches.delete(CACHE);
      throw e;
    })
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) {
        if (key.startsWith("attune-") && key !== CACHE) await caches.delete(key);
      }
      await self.clients.claim();
    })()
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "activate-update") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.cache === "no-store" || request.cache === "reload") return;
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      const key = request.mode === "navigate" ? "/" : url.pathname;
      return (await cache.match(key)) || fetch(request);
    })()
  );
});
