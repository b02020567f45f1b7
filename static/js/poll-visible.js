// Polls while the tab is visible: every element with data-poll-visible="<seconds>" gets the
// htmx event "poll-visible" on that interval, and once more when the tab is shown again.
// Hidden tabs send nothing. (htmx's own "every 60s [filter]" needs eval, which the CSP forbids.)
(function () {
  "use strict";
  function poll(force) {
    if (document.visibilityState !== "visible" || !window.htmx) return;
    var now = Date.now();
    document.querySelectorAll("[data-poll-visible]").forEach(function (el) {
      var every = 1000 * (parseInt(el.getAttribute("data-poll-visible"), 10) || 60);
      var last = parseInt(el.getAttribute("data-polled-at") || "0", 10) || now;
      if (!el.hasAttribute("data-polled-at")) el.setAttribute("data-polled-at", String(now));
      if (force || now - last >= every) {
        el.setAttribute("data-polled-at", String(now));
        window.htmx.trigger(el, "poll-visible");
      }
    });
  }
  document.addEventListener("visibilitychange", function () { poll(true); });
  window.setInterval(function () { poll(false); }, 5000);
})();
