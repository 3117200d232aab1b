// The merchant's hand-over scanner: decodes the person's redemption QR from the camera with jsQR (as the
// site's scan page and the task kiosk do) and submits it in the page's form, so the server judges it —
// expired, already used or another merchant's code are refused there with a reason. Without a camera the
// short code is typed into the same form.
(function () {
  "use strict";
  var root = document.getElementById("handover-scanner");
  if (!root) return;
  var video = document.getElementById("handover-video");
  var canvas = document.getElementById("handover-canvas");
  var status = document.getElementById("handover-status");
  var form = document.getElementById("handover-form");
  var input = form.querySelector("input[name=code]");
  var context = canvas.getContext("2d", { willReadFrequently: true });
  var sent = false;

  function say(message, kind) {
    status.textContent = message;
    status.className = "scanner-status alert" + (kind ? " alert-" + kind : "");
  }

  function tick() {
    if (sent) return;
    if (video.readyState >= 2 && video.videoWidth) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var code = window.jsQR(image.data, canvas.width, canvas.height, { inversionAttempts: "attemptBoth" });
      if (code && code.data) {
        sent = true;
        say(root.dataset.msgFound, "success");
        input.value = code.data;
        if (navigator.vibrate) navigator.vibrate(80);
        form.submit();
        return;
      }
    }
    window.requestAnimationFrame(tick);
  }

  function start() {
    if (!window.jsQR || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
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

  if (window.jsQR) start();
  else window.addEventListener("load", start);
})();
