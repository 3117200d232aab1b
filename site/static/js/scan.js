// The in-page QR scanner behind the "扫码" tab. The camera (or a photo) is read by the site's camera
// loop (camera.js); the link opens only when it belongs to this site: QR codes carry signed URLs of
// ours, and a code from elsewhere must not turn this page into an open redirect.
(function () {
  "use strict";
  var root = document.getElementById("scanner");
  if (!root) return;
  var video = document.getElementById("scanner-video");
  var status = document.getElementById("scanner-status");
  var fileInput = document.getElementById("scanner-file");
  var allowed = (root.dataset.allowedOrigins || "").split(" ").filter(Boolean).concat([window.location.origin]);

  function say(message, kind) {
    status.textContent = message;
    status.className = "scanner-status alert" + (kind ? " alert-" + kind : "");
  }

  // True once the code is ours and is being opened (the camera then stops).
  function handle(text) {
    var url;
    try {
      url = new URL(text, window.location.href);
    } catch (error) {
      url = null;
    }
    if (!url || allowed.indexOf(url.origin) === -1) {
      say(root.dataset.msgForeign, "error");
      return false;
    }
    say(root.dataset.msgOpening, "success");
    window.dispatchEvent(new CustomEvent("gongzhi:scanned", { detail: { url: url.href } }));
    window.location.assign(url.href);
    return true;
  }

  window.GongzhiCamera.start({
    video: video,
    onCode: handle,
    onLooking: function () {
      say(root.dataset.msgLooking);
    },
    onUnavailable: function (reason) {
      say(reason === "decoder" ? root.dataset.msgNodecoder : root.dataset.msgNocamera, "warning");
    },
  });

  fileInput.addEventListener("change", function () {
    var file = fileInput.files && fileInput.files[0];
    if (!file) return;
    window.GongzhiCamera.decodeImage(file).then(
      function (text) {
        if (!text) say(root.dataset.msgNone, "warning");
        else handle(text);
      },
      function () {
        say(root.dataset.msgNodecoder, "warning");
      }
    );
  });
})();
