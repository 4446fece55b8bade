// If the app has not replaced the placeholder after 20 s, say so instead of spinning forever.
// (A file, not an inline script: the Content-Security-Policy allows only this origin's scripts.)
setTimeout(function () {
  var m = document.getElementById("boot-message");
  if (m) {
    m.textContent = "Attune is taking unusually long to start. Your browser may not support WebAssembly, or the download failed. Try reloading the page.";
  }
}, 20000);
