/* expatsi: small progressive enhancements; every page works without this file. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    // Move focus to an error summary or a result notice so screen readers announce it.
    var target = document.querySelector("[data-focus]");
    if (target) { target.focus(); }
    // Long-running forms (file checks, imports): say that work is under way, avoid double submits.
    document.querySelectorAll("form[data-busy]").forEach(function (form) {
      form.addEventListener("submit", function () {
        var busy = form.querySelector(".busy");
        if (busy) { busy.hidden = false; }
        form.querySelectorAll("button[type=submit]").forEach(function (b) {
          window.setTimeout(function () { b.disabled = true; }, 0);
        });
      });
    });
  });
})();
