// Runs before the app: a message if it never starts, and the service worker (app/pwa/sw.js) that
// keeps Attune working offline. A file, not an inline script: the Content-Security-Policy allows
// only this origin's scripts.
"use strict";
// The app checks this: a boot.js that did not run (missing, corrupt: the page loads it with its
// sha256 as integrity) is named there with a Retry.
window.attuneBoot = true;

// If the app has not replaced the placeholder after 20 s, say so instead of spinning forever.
setTimeout(function () {
  var m = document.getElementById("boot-message");
  if (m) {
    m.textContent = "Attune is taking unusually long to start. Your browser may not support WebAssembly, or the download failed. Try reloading the page.";
  }
}, 20000);

// Offline support. A downloaded new version waits until the user takes it (the bar below) or
// closes every Attune tab, so an open page never mixes two builds' files.
if ("serviceWorker" in navigator) {
  var showUpdate = function (worker) {
    if (document.getElementById("update-bar")) return;
    var bar = document.createElement("div");
    bar.id = "update-bar";
    bar.className = "update-bar";
    bar.setAttribute("role", "status");
    var text = document.createElement("span");
    text.textContent = "A new version of Attune is ready.";
    var button = document.createElement("button");
    button.type = "button";
    button.id = "update-reload";
    button.textContent = "Use it now";
    button.addEventListener("click", function () {
      worker.postMessage("activate-update");
    });
    bar.append(text, button);
    document.body.append(bar);
  };
  // The service worker names every file it could not keep for offline use (app/pwa/sw.js).
  var offlineBar = function (failures) {
    var old = document.getElementById("offline-error");
    if (old) old.remove();
    if (!failures) return;
    var bar = document.createElement("div");
    bar.id = "offline-error";
    bar.className = "update-bar offline-error";
    bar.setAttribute("role", "alert");
    var text = document.createElement("p");
    text.textContent = navigator.serviceWorker.controller
      ? "The new version of Attune could not be downloaded, so you keep this one. Not downloaded:"
      : "Attune works, but cannot be kept for offline use: " +
        (failures.length === 1 ? "a file" : failures.length + " files") +
        " could not be downloaded.";
    var list = document.createElement("ul");
    failures.forEach(function (f) {
      var item = document.createElement("li");
      item.dataset.file = f.url.replace(/^\/public\//, "");
      item.textContent = f.url + ": " + f.why;
      list.append(item);
    });
    var retry = document.createElement("button");
    retry.type = "button";
    retry.id = "offline-retry";
    retry.textContent = "Retry";
    retry.addEventListener("click", function () {
      offlineBar(null);
      register();
    });
    bar.append(text, list, retry);
    document.body.append(bar);
  };
  // The first install's progress, as a quiet line at the foot of the page.
  var offlineProgress = function (done, total) {
    var line = document.getElementById("offline-progress");
    if (done === null || done >= total) {
      if (line) line.remove();
      return;
    }
    if (!line) {
      line = document.createElement("p");
      line.id = "offline-progress";
      line.className = "offline-progress";
      line.setAttribute("role", "status");
      document.body.append(line);
    }
    line.textContent = "Keeping Attune for offline use: " + done + " of " + total + " files";
  };
  if ("BroadcastChannel" in window) {
    new BroadcastChannel("attune-offline").addEventListener("message", function (ev) {
      if (ev.data && ev.data.kind === "install-failed") {
        document.documentElement.dataset.offline = "failed";
        offlineBar(ev.data.failures || []);
      } else if (ev.data && ev.data.kind === "progress" && !navigator.serviceWorker.controller) {
        offlineProgress(ev.data.done, ev.data.total);
      } else if (ev.data && ev.data.kind === "installed") {
        offlineProgress(null);
        document.documentElement.dataset.offline = "installed";
        offlineBar(null);
      }
    });
  }
  var hadController = !!navigator.serviceWorker.controller;
  navigator.serviceWorker.addEventListener("controllerchange", function () {
    // The first install only takes control; a taken update reloads into the new version.
    if (hadController) location.reload();
    hadController = true;
  });
  // The page's ?stall-ms=N (the fault tests shorten the stall limit) goes to the worker too.
  var stall = new URLSearchParams(location.search).get("stall-ms");
  var register = function () {
    return navigator.serviceWorker.register(stall ? "/sw.js?stall-ms=" + encodeURIComponent(stall) : "/sw.js");
  };
  // A first install starts once the page's own downloads are over (the app sets <html
  // data-loaded> and fires "attune-loaded"; 60 s at the latest), so that the offline copy takes
  // those files from the HTTP cache instead of downloading them again; with a copy in control
  // (an update check) at once.
  var whenLoaded = function (go) {
    var once = function () {
      if (go) go();
      go = null;
    };
    if (navigator.serviceWorker.controller || document.documentElement.hasAttribute("data-loaded")) return once();
    window.addEventListener("attune-loaded", once, { once: true });
    setTimeout(once, 60000);
  };
  whenLoaded(function () {
    register()
      .then(function (reg) {
        if (!document.documentElement.dataset.offline) document.documentElement.dataset.offline = "registered";
        var watch = function (worker) {
          worker.addEventListener("statechange", function () {
            if (worker.state === "installed" && navigator.serviceWorker.controller) showUpdate(worker);
          });
        };
        if (reg.waiting && navigator.serviceWorker.controller) showUpdate(reg.waiting);
        if (reg.installing) watch(reg.installing);
        reg.addEventListener("updatefound", function () {
          if (reg.installing) watch(reg.installing);
        });
      })
      .catch(function (e) {
        document.documentElement.dataset.offline = "unavailable";
        console.warn("Attune works online only here: " + e);
      });
  });
}
