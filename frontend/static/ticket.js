// The ticket page, live: ask for the page again every few seconds and replace the status
// part when it changed (it is an aria-live region, so screen readers announce the news).
// Without this file the page refreshes itself (a <noscript> meta refresh).
(function () {
  "use strict";

  var status = document.getElementById("ticket-status");
  if (!status || status.getAttribute("data-final")) { return; }
  var seconds = Number(status.getAttribute("data-poll")) || 5;
  var timer = null;

  function check() {
    fetch(window.location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("no ticket page"); }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var region = fresh.getElementById("ticket-status");
        if (!region) { return; }
        if (region.innerHTML !== status.innerHTML) { status.innerHTML = region.innerHTML; }
        if (region.getAttribute("data-final")) {
          // The visit is over: the rest of the page (call-ahead form) no longer applies.
          var main = fresh.getElementById("main");
          if (main) { document.getElementById("main").innerHTML = main.innerHTML; }
          window.clearInterval(timer);
        }
      })
      .catch(function () { /* a lost connection: the next round tries again */ });
  }

  timer = window.setInterval(check, seconds * 1000);
})();
