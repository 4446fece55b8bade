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
// - Install starts only after the page's own downloads (public/boot.js waits for the app's
//   "attune-loaded"), and revalidates each file (cache: no-cache), so a file the page has just
//   downloaded comes from the HTTP cache instead of a second time; a copy that fails its check is
//   downloaded afresh once (no-store). Free-shelf audio (LAZY) is kept only once played.
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

/// GETs `url`, revalidated with the server (`mode` "no-cache": a file the page has just
/// downloaded comes from the HTTP cache as a 304, not a second time; "no-store" skips every
/// cache); the answer may take 3 x STALL_MS, then the body is read here chunk by chunk, each
/// within STALL_MS.
async function fetchOk(url, mode = "no-cache") {
  const abort = new AbortController();
  let response;
  try {
    const answer = fetch(url, { cache: mode, signal: abort.signal });
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

// Manifest files the offline copy keeps only once the page has used them (free-shelf audio is
// played by few; "Keep for offline" on the shelf fetches it all).
const LAZY = /^free\/.+\.ogg$/;

/// Whether `body` has the size and sha256 the manifest `entry` gives.
async function matches(body, entry) {
  return (await mismatch(body, entry)) === "";
}

/// Why `response` is not the file the manifest `entry` describes, or "" when it is.
async function check(response, entry) {
  return mismatch(await response.clone().arrayBuffer(), entry);
}

/// Why `body` is not the file the manifest `entry` describes, or "".
async function mismatch(body, entry) {
  if (body.byteLength !== entry.bytes) return "it is " + body.byteLength + " bytes, the manifest says " + entry.bytes;
  if ((await sha256Hex(body)) !== entry.sha256) return "its contents do not match the manifest (sha256)";
  return "";
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
  const older = (await caches.keys()).filter((k) => k.startsWith("attune-") && k !== CACHE);
  const checked = listed.map(([name, entry]) => async () => {
    const url = "/public/" + name;
    if (LAZY.test(name)) {
      // Kept when played: an older build's verified copy carries over if it is unchanged.
      for (const key of older) {
        const kept = await (await caches.open(key)).match(url);
        if (kept && (await matches(await kept.clone().arrayBuffer(), entry))) return cache.put(url, kept);
      }
      return;
    }
    // The HTTP cache's copy first; a copy that fails its check is downloaded afresh.
    let response = await fetchOk(url);
    let problem = await check(response, entry);
    if (problem) {
      response = await fetchOk(url, "no-store");
      problem = await check(response, entry);
    }
    if (problem) throw new Failed(url, problem);
    await cache.put(url, response);
  });
  // Every download runs to its end, so that every file at fault is named.
  const tasks = [...plain, ...checked];
  let done = 0;
  const counted = tasks.map((task) => async () => {
    try {
      return await task();
    } finally {
      done += 1;
      channel.postMessage({ kind: "progress", done, total: tasks.length });
    }
  });
  const failed = (await settleAll(counted))
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
      // The app is one page: its navigations are "/"; other pages (scale.html) are their own.
      const key = request.mode === "navigate" && !url.pathname.endsWith(".html") ? "/" : url.pathname;
      const hit = await cache.match(key);
      if (hit) return hit;
      const response = await fetch(request);
      const name = key.replace(/^\/public\//, "");
      if (response.ok && LAZY.test(name)) await keep(cache, key, name, response.clone());
      return response;
    })()
  );
});

/// Keeps a lazily fetched file for offline use once it matches this build's manifest (a file
/// that does not is only passed on: the page names the fault).
async function keep(cache, key, name, response) {
  try {
    const manifest = await (await cache.match("/public/manifest.json"))?.json();
    const entry = manifest && manifest.files && manifest.files[name];
    if (entry && (await matches(await response.clone().arrayBuffer(), entry))) await cache.put(key, response);
  } catch (e) {
    console.warn("Attune could not keep " + key + " for offline use: " + e);
  }
}
