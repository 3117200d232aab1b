// The merchant's hand-over scanner: the site's camera loop (camera.js) reads the person's redemption QR
// and it is submitted in the page's form, so the server judges it — expired, already used or another
// merchant's code are refused there with a reason. Without a camera the short code is typed into the
// same form.
(function () {
  "use strict";
  var root = document.getElementById("handover-scanner");
  if (!root) return;
  var status = document.getElementById("handover-status");
  var form = document.getElementById("handover-form");
  var input = form.querySelector("input[name=code]");
  // The code this page was the answer to. The person's phone is usually still in front of the camera
  // when the answer loads: sending that code again would replace "hand it over" with "already handed
  // over". Kept for this one reload only, in this tab only.
  var JUDGED = "gongzhi.handover.judged";
  var judged = null;
  try {
    judged = window.sessionStorage.getItem(JUDGED);
    window.sessionStorage.removeItem(JUDGED);
  } catch (error) {
    // Storage disabled: a repeat is then answered by the server, which refuses a second hand-over.
  }

  function say(message, kind) {
    status.textContent = message;
    status.className = "scanner-status alert" + (kind ? " alert-" + kind : "");
  }

  window.GongzhiCamera.start({
    video: document.getElementById("handover-video"),
    onCode: function (text) {
      if (text === judged) return false;
      try {
        window.sessionStorage.setItem(JUDGED, text);
      } catch (error) {
        // See above.
      }
      say(root.dataset.msgFound, "success");
      input.value = text;
      if (navigator.vibrate) navigator.vibrate(80);
      form.submit();
      return true;
    },
    onLooking: function () {
      say(root.dataset.msgLooking);
    },
    onUnavailable: function (reason) {
      say(reason === "decoder" ? root.dataset.msgNodecoder : root.dataset.msgNocamera, "warning");
    },
  });
})();
