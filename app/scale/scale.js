// Attune's large-catalogue page (issue 17): fetches the sharded catalogue under /catalogue/ in
// the index's fixed order (never an order or a subset chosen by the user's taste), hands each
// shard to a scan worker (app/scan), which verifies and ranks it, and shows the top 10 for the
// likes in the #likes= fragment as soon as the first (most popular) shard has arrived.
//
// Shards are dealt round-robin to WORKERS scan workers (?workers=N; by default two where the
// device has two cores or more: a scan is bound by memory bandwidth, which each core brings its
// own share of); a request goes to all of them and their lists are merged here. No
// SharedArrayBuffer: each worker owns its shards.
//
// window.attuneScale.query(likes, exact) answers one request (the benchmark's hook): the merged
// list, the workers' own milliseconds (the slowest), the page's milliseconds from asking to the
// merged answer, and with `exact` the exact f32 scan's list, milliseconds and recall@10.
// <main data-state> is loading | first | done | error.
"use strict";
const CATALOGUE = "/catalogue/";
const K = 10;
// Downloads at a time (they start in the index's order).
const PARALLEL = 3;
const WORKERS = Math.max(
  1,
  Math.min(8, Number(new URLSearchParams(location.search).get("workers")) || Math.min(2, navigator.hardwareConcurrency || 1))
);

const $ = (id) => document.getElementById(id);
const main = $("scale");
const likes = (() => {
  const m = /likes=([0-9,]+)/.exec(location.hash);
  return m ? m[1].split(",").filter(Boolean).map(Number) : [];
})();
let index = null;
let failed = 0;
let foldIn = likes.length === 0;
let shown = false;
let nextId = 1;
const waiting = new Map(); // query id -> {replies, resolve, reject, t0}
const shardDone = new Map(); // shard n -> resolve

function status(text) {
  $("scale-status").textContent = text;
}

function fail(text) {
  const li = document.createElement("li");
  li.textContent = text;
  $("scale-errors").appendChild(li);
}

/// The best `k` of several lists, best first (ties: the lower item).
function merge(lists, k) {
  return lists
    .flat()
    .sort((a, b) => b.score - a.score || a.item - b.item)
    .slice(0, k);
}

function recall(found, exact) {
  if (exact.length === 0) return 1;
  const f = new Set(found.map((h) => h.item));
  return exact.filter((h) => f.has(h.item)).length / exact.length;
}

function answer(w) {
  const replies = w.replies;
  const hits = merge(replies.map((r) => r.hits), K);
  const realOf = new Map();
  replies.forEach((r) => r.hits.forEach((h, i) => realOf.set(h.item, r.real[i])));
  const out = {
    hits,
    real: hits.map((h) => realOf.get(h.item) ?? null),
    ms: Math.max(...replies.map((r) => r.ms)),
    fold_ms: Math.max(...replies.map((r) => r.fold_ms)),
    page_ms: performance.now() - w.t0,
    items: replies.reduce((s, r) => s + r.items, 0),
    shards: replies.reduce((s, r) => s + r.shards, 0),
    workers: replies.length,
    exact: null,
  };
  if (replies.every((r) => r.exact)) {
    const exact = merge(replies.map((r) => r.exact.hits), K);
    out.exact = { ms: Math.max(...replies.map((r) => r.exact.ms)), recall: recall(hits, exact), hits: exact };
  }
  return out;
}

function query(withLikes, exact) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    waiting.set(id, { replies: [], resolve, reject, t0: performance.now() });
    for (const w of pool) w.postMessage({ kind: "query", id, likes: withLikes, k: K, exact: !!exact });
  });
}

function show(top) {
  const ol = $("scale-top");
  ol.replaceChildren(
    ...top.hits.map((h, i) => {
      const li = document.createElement("li");
      li.dataset.item = h.item;
      const real = top.real[i];
      if (real !== null && real !== undefined) {
        li.dataset.real = real;
        li.className = "real";
        li.textContent = "Item " + h.item + " (real catalogue artist " + real + ")";
      } else {
        li.textContent = "Item " + h.item + " (synthetic)";
      }
      return li;
    })
  );
  const all = index ? index.shards.length : 0;
  const left = failed > 0 ? "; " + failed + " failed their check and are left out" : "";
  status("Ranked " + top.items.toLocaleString("en") + " items from " + top.shards + " of " + all + " shards" + left + ".");
}

async function refresh() {
  if (!foldIn) return;
  const top = await query(likes, false);
  show(top);
  if (!shown) {
    shown = true;
    performance.mark("attune-scale-first-list");
    main.dataset.state = "first";
  }
}

async function download(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error("HTTP " + r.status);
  return r;
}

async function loadShard(n) {
  const file = index.shards[n].file;
  const w = pool[n % pool.length];
  const done = new Promise((resolve) => shardDone.set(n, resolve));
  try {
    const bytes = new Uint8Array(await (await download(CATALOGUE + file)).arrayBuffer());
    w.postMessage({ kind: "shard", n, bytes, error: null }, [bytes.buffer]);
  } catch (e) {
    w.postMessage({ kind: "shard", n, bytes: null, error: String(e.message || e) });
  }
  await done;
}

async function loadFoldIn() {
  try {
    const manifest = await (await download("/public/manifest.json")).text();
    const cf = new Uint8Array(await (await download("/public/cf.bin")).arrayBuffer());
    for (const w of pool) w.postMessage({ kind: "fold-in", manifest, cf: cf.slice() });
  } catch (e) {
    fail("The fold-in model (cf.bin) could not be loaded: " + (e.message || e) + ". Showing the most popular items.");
  }
}

async function start() {
  // The first shard (the most popular items) before anything else, then the fold-in model, then
  // the rest: the same requests, in the same order, for every visitor.
  await loadShard(0);
  await loadFoldIn();
  let next = 1;
  const lane = async () => {
    while (next < index.shards.length) await loadShard(next++);
  };
  await Promise.all(Array.from({ length: PARALLEL }, lane));
  if (!foldIn) likes.length = 0;
  foldIn = true;
  await refresh();
  main.dataset.state = failed === index.shards.length ? "error" : "done";
}

let ready = 0;
let indexReady = 0;
let foldReady = 0;
async function onReply(r) {
  switch (r.kind) {
    case "ready":
      if (++ready < pool.length) return;
      try {
        const text = await (await download(CATALOGUE + "index.json")).text();
        index = JSON.parse(text);
        for (const w of pool) w.postMessage({ kind: "index", text });
      } catch (e) {
        main.dataset.state = "error";
        status("The catalogue index could not be loaded: " + (e.message || e));
      }
      break;
    case "index-ready":
      if (++indexReady < pool.length) return;
      $("scale-source").textContent = r.items.toLocaleString("en") + " items in " + r.shards + " shards. " + r.source;
      start();
      break;
    case "fold-in-ready":
      if (++foldReady < pool.length) return;
      foldIn = true;
      refresh();
      break;
    case "shard-ready":
      shardDone.get(r.n)?.();
      if (r.n === 0 || r.n % 16 === 0) refresh();
      break;
    case "shard-error":
      failed += 1;
      fail(r.file + ": " + r.error + ". Ranking the shards that verified.");
      shardDone.get(r.n)?.();
      break;
    case "top": {
      const w = waiting.get(r.id);
      if (!w) return;
      w.replies.push(r);
      if (w.replies.length === pool.length) {
        waiting.delete(r.id);
        w.resolve(answer(w));
      }
      break;
    }
    case "error":
      fail(r.error);
      if (indexReady < pool.length) {
        main.dataset.state = "error";
        status("The catalogue could not be loaded.");
      }
      for (const w of waiting.values()) w.reject(new Error(r.error));
      waiting.clear();
      break;
  }
}

const pool = Array.from({ length: WORKERS }, () => {
  const w = new Worker("/attune-scan_loader.js");
  w.onmessage = (ev) => onReply(ev.data);
  w.onerror = (e) => {
    main.dataset.state = "error";
    status("A scan worker failed: " + (e.message || "it could not start"));
  };
  return w;
});

window.attuneScale = { query, likes, workers: WORKERS };
