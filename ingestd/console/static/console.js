// Shows times in the viewer's time zone and keeps the incident list up to date.
// Everything works without it: times stay in UTC and the list page refreshes itself.
(function () {
  "use strict";

  function localTimes(root) {
    var fmt;
    try {
      fmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
    } catch (e) {
      return;
    }
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d.getTime())) { return; }
      el.title = el.getAttribute("datetime");
      el.textContent = fmt.format(d);
      el.dataset.local = "1";
    });
  }

  function poll(body) {
    var url = body.dataset.pollUrl;
    var every = Math.max(parseFloat(body.dataset.pollSeconds) || 5, 0.5) * 1000;
    var stamp = document.getElementById("updated");
    var last = null;
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (resp) {
          if (resp.redirected && resp.url.indexOf("/console/login") >= 0) {
            window.location.reload();
            return null;
          }
          return resp.ok ? resp.text() : null;
        })
        .then(function (html) {
          if (html !== null && html !== undefined) {
            if (html !== last) {
              last = html;
              body.innerHTML = html;
              localTimes(body);
            }
            if (stamp) {
              stamp.textContent = new Date().toLocaleTimeString();
            }
          }
        })
        .catch(function () { /* offline for a moment: try again next tick */ })
        .then(function () { window.setTimeout(tick, every); });
    }
    window.setTimeout(tick, every);
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    var body = document.getElementById("incident-rows");
    if (body && body.dataset.pollUrl) { poll(body); }
  });
})();
