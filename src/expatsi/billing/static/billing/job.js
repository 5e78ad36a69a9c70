/* expatsi: a billing run's progress, polled once a second until it is done or failed.
   A file of its own, not an inline script: the Content-Security-Policy allows scripts from 'self' only. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("job");
    if (!box || !window.fetch) { return; }
    function finished(status) { return status === "done" || status === "failed" || status === "interrupted"; }
    function poll() {
      fetch(box.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (d) {
          document.getElementById("job-progress").value = d.percent;
          document.getElementById("job-progress").textContent = d.percent + "%";
          document.getElementById("job-percent").textContent = d.percent + "%";
          document.getElementById("job-label").textContent = d.label;
          document.getElementById("job-summary").textContent = d.summary;
          var err = document.getElementById("job-error");
          err.textContent = d.error; err.hidden = !d.error;
          var resume = document.getElementById("job-resume");  // an interrupted run can be resumed
          if (resume) { resume.hidden = !d.resumable; }
          var idle = document.getElementById("job-no-worker");  // queued with no worker to take it
          if (idle) { idle.hidden = !d.no_worker; }
          if (!finished(d.status)) { window.setTimeout(poll, 1000); }
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    }
    if (!finished(box.dataset.status)) { window.setTimeout(poll, 500); }
  });
})();
