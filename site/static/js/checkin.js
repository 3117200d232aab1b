// The page a task's QR opens: one tap checks in or out. When the task checks location, and the person
// agreed (the ticked box), the browser's position is read once and sent with the form; the server keeps
// only whether it matched and the distance. Without a position the check-in still goes through.
(function () {
  "use strict";
  var form = document.getElementById("checkin-form");
  if (!form) return;
  var button = form.querySelector("button[type=submit]");
  var status = form.querySelector("[data-geo-status]");
  var sending = false;

  function send() {
    sending = true;
    button.disabled = true;
    form.submit();
  }

  form.addEventListener("submit", function (event) {
    if (sending) {
      event.preventDefault(); // a double tap: the first submission is on its way
      return;
    }
    var consent = form.querySelector("input[name=share_location]");
    if (!form.hasAttribute("data-geofence") || !consent || !consent.checked || !navigator.geolocation) {
      sending = true;
      button.disabled = true;
      return;
    }
    event.preventDefault();
    button.disabled = true;
    status.textContent = form.getAttribute("data-msg-locating");
    navigator.geolocation.getCurrentPosition(
      function (position) {
        form.querySelector("input[name=lat]").value = position.coords.latitude.toFixed(6);
        form.querySelector("input[name=lng]").value = position.coords.longitude.toFixed(6);
        send();
      },
      function () {
        status.textContent = form.getAttribute("data-msg-nolocation");
        consent.checked = false;
        window.setTimeout(send, 1200);
      },
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 }
    );
  });
})();
