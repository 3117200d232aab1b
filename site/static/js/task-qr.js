// A QR code that renews itself without reloading the page: the task's rotating check-in code on the
// organiser's phone, and a volunteer's personal code. The server sends {svg, refresh_in}; when the
// network is gone the last code stays on screen and the page says so (it soon expires on the server).
(function () {
  "use strict";
  var panel = document.querySelector("[data-qr-refresh]");
  if (!panel) return;
  var stage = panel.querySelector("[data-qr-svg]");
  var status = panel.querySelector("[data-qr-status]");
  var url = panel.getAttribute("data-qr-refresh");
  var timer = null;
  var wakeLock = null;

  function say(message, kind) {
    status.textContent = message;
    status.className = "qr-status" + (kind ? " alert alert-" + kind : "");
    panel.classList.toggle("is-offline", kind === "warning" || kind === "error");
  }

  function schedule(seconds) {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, Math.max(1, seconds) * 1000);
  }

  function refresh() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 401) {
          say(panel.getAttribute("data-msg-signed-out"), "error");
          return null;
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        if (!data) return;
        stage.innerHTML = data.svg;
        if (data.url) stage.setAttribute("data-url", data.url);
        say(panel.getAttribute("data-msg-live"));
        schedule(data.refresh_in || 25);
      })
      .catch(function () {
        say(panel.getAttribute("data-msg-offline"), "warning");
        schedule(5);
      });
  }

  // Keep the screen on while the code is shown (where the browser allows it).
  function keepAwake() {
    if (!("wakeLock" in navigator) || document.visibilityState !== "visible") return;
    navigator.wakeLock.request("screen").then(function (lock) { wakeLock = lock; }).catch(function () {});
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      keepAwake();
      refresh(); // a phone that slept missed renewals
    }
  });
  window.addEventListener("online", refresh);
  window.addEventListener("offline", function () { say(panel.getAttribute("data-msg-offline"), "warning"); });

  keepAwake();
  schedule(parseFloat(panel.getAttribute("data-refresh-in")) || 25);
})();
