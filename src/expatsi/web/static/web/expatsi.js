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
    // Lists with bulk actions: a "select every row on this page" box (hidden without script).
    document.querySelectorAll("input[data-select-all]").forEach(function (all) {
      var form = all.getAttribute("data-select-all");
      var boxes = document.querySelectorAll("input[type=checkbox][name=ids][form='" + form + "']");
      all.hidden = false;
      all.addEventListener("change", function () {
        boxes.forEach(function (b) { b.checked = all.checked; });
      });
    });
  });
})();
