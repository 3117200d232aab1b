// Dining points and classes (services_catalog, part "dining"): the roster's print button. The page
// prints without it too (the browser's own menu); the button only saves looking for it on a phone.
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
