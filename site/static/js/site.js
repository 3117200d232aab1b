// Small progressive enhancements; every page works without them.
(function () {
  "use strict";
  // Close the settings menu when tapping elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
  // A button with data-countdown="60" stays disabled for that many seconds, showing what is left
  // (used by "request a new SMS code").
  document.querySelectorAll("[data-countdown]").forEach(function (button) {
    var left = parseInt(button.getAttribute("data-countdown"), 10) || 0;
    var label = button.textContent.trim();
    var template = button.getAttribute("data-countdown-label") || "%s";
    function tick() {
      if (left <= 0) {
        button.disabled = false;
        button.removeAttribute("aria-disabled");
        button.textContent = label;
        return;
      }
      button.disabled = true;
      button.setAttribute("aria-disabled", "true");
      button.textContent = template.replace("%s", String(left));
      left -= 1;
      window.setTimeout(tick, 1000);
    }
    tick();
  });
})();
