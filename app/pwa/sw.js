// Attune's service worker: the site and its assets work offline after the first visit, and a new
// version replaces the old one only whole.
//
// - Install downloads everything of one build into a cache of its own, named by the build id that
//   scripts/post_build.sh stamps below (a hash of index.html and public/manifest.json, so any new
//   code or asset makes a new worker). Every file public/manifest.json lists is checked against its
//   size and sha256; one failed, corrupt or stalled download (nothing received for STALL_MS)
//   fails the install and deletes the partial cache, and the version in use stays as it was.
//   Every file that failed is named to the open pages on the BroadcastChannel "attune-offline"
//   (public/boot.js shows them with a Retry).
// - A new version waits until the page asks for it (the "new version" bar) or every tab is closed,
//   so an open page never mixes the files of two builds. Activation deletes older caches.
// - Fetches of this origin are answered from the cache; "Retry" after a failed download
//   (cache: no-store) goes to the network.
"use strict";
const BUILD = "__ATTUNE_BUILD__";
const CACHE = "attune-" + BUILD;
// As the app's assets::STALL_MS; the page passes a shorter one in tests (/sw.js?stall-ms=N).
const STALL_MS = Number(new URL(self.location.href).searchParams.get("stall-ms")) || 20000;
const channel = new BroadcastChannel("attune-offline");

/// A download that failed, with the reason in words.
class Failed extends Error {
  constructor(url, why) {
    super(url + ": " + why);
    this.url = url;
    this.why = why;
  }
}

/// Resolves with `promise`, or rejects (as `why`) when nothing settles it within `ms`.
function within(promise, abort, url, ms, why) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => {
      reject(new Failed(url, why + " (nothing arrived for " + ms / 1000 + " s)"));
      abort.abort();
    }, ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/// GETs `url` past every cache; the answer may take 3 x STALL_MS (it can wait behind the page's
/// own downloads), then the body is read here chunk by chunk, each within STALL_MS.
async function fetchOk(url) {
  const abort = new AbortController();
  let response;
  try {
    // Its own URL (the server ignores the query): Chromium holds a request back while another
    // for the same URL, the page's, is in flight.
    const own = url + (url.includes("?") ? "&" : "?") + "offline-copy=" + BUILD;
    const answer = fetch(own, { cache: "no-store", signal: abort.signal });
    response = await within(answer, abort, url, 3 * STALL_MS, "the server did not answer");
  } catch (e) {
    throw e instanceof Failed ? e : new Failed(url, "the network failed (" + e.message + ")");
  }
  if (!response.ok) {
    throw new Failed(url, response.status === 404 ? "it is missing on the server (HTTP 404)" : "HTTP " + response.status);
  }
  const reader = response.body.getReader();
  const chunks = [];
  for (;;) {
    let step;
    try {
      step = await within(reader.read(), abort, url, STALL_MS, "the server stopped sending it");
    } catch (e) {
      throw e instanceof Failed ? e : new Failed(url, "the download broke off (" + e.message + ")");
    }
    if (step.done) break;
    chunks.push(step.value);
  }
  const body = await new Blob(chunks).arrayBuffer();
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}

async function sha256Hex(buffer) {
  const digest = await crypto.subtle.digest("SHA-256", buffer);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

// Downloads at a time: the browser's own queue (6 connections to a host over HTTP/1.1) would
// otherwise hold requests back past STALL_MS on a slow link, and the page's own downloads need
// connections too.
const PARALLEL = 3;

/// Runs every task (a function returning a promise), PARALLEL at a time; their settled results.
async function settleAll(tasks) {
  const results = new Array(tasks.length);
  let next = 0;
  const lane = async () => {
    while (next < tasks.length) {
      const i = next++;
      try {
        results[i] = { status: "fulfilled", value: await tasks[i]() };
      } catch (reason) {
        results[i] = { status: "rejected", reason };
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, lane));
  return results;
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
  const plain = [...urls].map((url) => async () => cache.put(url, await fetchOk(url)));
  const checked = listed.map(([name, entry]) => async () => {
    const url = "/public/" + name;
    const response = await fetchOk(url);
    const body = await response.clone().arrayBuffer();
    if (body.byteLength !== entry.bytes) {
      throw new Failed(url, "it is " + body.byteLength + " bytes, the manifest says " + entry.bytes);
    }
    if ((await sha256Hex(body)) !== entry.sha256) {
      throw new Failed(url, "its contents do not match the manifest (sha256)");
    }
    await cache.put(url, response);
  });
  // Every download runs to its end, so that every file at fault is named.
  const failed = (await settleAll([...plain, ...checked]))
    .filter((r) => r.status === "rejected")
    .map((r) => r.reason);
  if (failed.length > 0) throw new AggregateError(failed, failed.length + " downloads failed");
  // The manifest and the page last: a cache holding them is complete.
  await cache.put("/public/manifest.json", manifestResponse);
  await cache.put("/", index);
  channel.postMessage({ kind: "installed" });
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    precache().catch(async (e) => {
      await caches.delete(CACHE);
      const failed = e instanceof AggregateError ? e.errors : [e];
      channel.postMessage({
        kind: "install-failed",
        failures: failed.map((f) => ({ url: f.url || "", why: f.why || String(f.message || f) })),
      });
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
