// The in-page QR scanner behind the "扫码" tab. It decodes frames from the camera (or a photo) with jsQR
// and opens the link only when it belongs to this site: QR codes carry signed URLs of ours, and a code
// from elsewhere must not turn this page into an open redirect.
(function () {
  "use strict";
  var root = document.getElementById("scanner");
  if (!root) return;
  var video = document.getElementById("scanner-video");
  var canvas = document.getElementById("scanner-canvas");
  var status = document.getElementById("scanner-status");
  var fileInput = document.getElementById("scanner-file");
  var context = canvas.getContext("2d", { willReadFrequently: true });
  var allowed = (root.dataset.allowedOrigins || "").split(" ").filter(Boolean).concat([window.location.origin]);
  var done = false;

  function say(message, kind) {
    status.textContent = message;
    status.className = "scanner-status alert" + (kind ? " alert-" + kind : "");
  }

  function handle(text) {
    var url;
    try {
      url = new URL(text, window.location.href);
    } catch (error) {
      say(root.dataset.msgForeign, "error");
      return false;
    }
    if (allowed.indexOf(url.origin) === -1) {
      say(root.dataset.msgForeign, "error");
      return false;
    }
    done = true;
    say(root.dataset.msgOpening, "success");
    window.dispatchEvent(new CustomEvent("gongzhi:scanned", { detail: { url: url.href } }));
    window.location.assign(url.href);
    return true;
  }

  function decode(source, width, height) {
    canvas.width = width;
    canvas.height = height;
    context.drawImage(source, 0, 0, width, height);
    var image = context.getImageData(0, 0, width, height);
    var code = window.jsQR(image.data, width, height, { inversionAttempts: "attemptBoth" });
    return code ? code.data : null;
  }

  function tick() {
    if (done) return;
    if (video.readyState >= 2 && video.videoWidth) {
      var text = decode(video, video.videoWidth, video.videoHeight);
      if (text && handle(text)) return;
    }
    window.requestAnimationFrame(tick);
  }

  function start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      say(root.dataset.msgNocamera, "warning");
      return;
    }
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (stream) {
        video.srcObject = stream;
        return video.play();
      })
      .then(function () {
        say(root.dataset.msgLooking);
        window.requestAnimationFrame(tick);
      })
      .catch(function () {
        say(root.dataset.msgNocamera, "warning");
      });
  }

  fileInput.addEventListener("change", function () {
    var file = fileInput.files && fileInput.files[0];
    if (!file) return;
    var image = new Image();
    image.onload = function () {
      var scale = Math.min(1, 1280 / Math.max(image.width, image.height));
      var text = decode(image, Math.round(image.width * scale), Math.round(image.height * scale));
      URL.revokeObjectURL(image.src);
      if (!text) say(root.dataset.msgNone, "warning");
      else handle(text);
    };
    image.src = URL.createObjectURL(file);
  });

  if (window.jsQR) start();
  else window.addEventListener("load", start);
})();
