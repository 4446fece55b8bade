// Runs before the app: a message if it never starts, and the service worker (app/pwa/sw.js) that
// keeps Attune working offline. A file, not an inline script: the Content-Security-Policy allows
// only this origin's scripts.
"use strict";

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
  var hadController = !!navigator.serviceWorker.controller;
  navigator.serviceWorker.addEventListener("controllerchange", function () {
    // The first install only takes control; a taken update reloads into the new version.
    if (hadController) location.reload();
    hadController = true;
  });
  navigator.serviceWorker
    .register("/sw.js")
    .then(function (reg) {
      document.documentElement.dataset.offline = "registered";
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
}
