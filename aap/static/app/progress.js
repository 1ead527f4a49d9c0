// Follows a job run by the worker process (bulk conventions): polls its JSON status and updates the bar.
(function () {
  "use strict";
  var box = document.querySelector("[data-job-status-url]");
  if (!box) { return; }
  var url = box.getAttribute("data-job-status-url");
  var bar = box.querySelector("[data-job-progress]");
  var label = box.querySelector("[data-job-label]");
  var count = box.querySelector("[data-job-count]");
  var error = box.querySelector("[data-job-error]");
  var download = box.querySelector("[data-job-download]");

  function show(job) {
    bar.value = job.percent;
    bar.textContent = job.percent + " %";
    label.textContent = job.status_label;
    count.textContent = job.done + " / " + job.total;
    if (job.error) {
      error.textContent = job.error;
      error.classList.remove("fr-hidden");
    }
    if (job.download_url) {
      download.querySelector("a").href = job.download_url;
      download.classList.remove("fr-hidden");
    }
    return job.status === "queued" || job.status === "running";
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (job) {
        if (job && show(job)) { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  poll();
})();
