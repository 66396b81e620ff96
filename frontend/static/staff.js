// The desk page, live: refresh the queue when the server says it changed (Server-Sent
// Events), and keyboard shortcuts for the frequent actions. Without this file the page
// works the same, with a reload after each action.
(function () {
  "use strict";

  var live = document.getElementById("live");
  if (!live) { return; }

  // -- keyboard shortcuts: N, R, S, C click the button that shows the key -------------------
  function typing(target) {
    if (!target || !target.closest) { return false; }
    return Boolean(target.closest("input, select, textarea, [contenteditable]"));
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat || typing(event.target)) {
      return;
    }
    var key = event.key ? event.key.toLowerCase() : "";
    var button = document.querySelector('button[data-shortcut="' + key + '"]');
    if (button && /^[a-z]$/.test(key)) {
      event.preventDefault();
      button.click();
    }
  });

  // -- live refresh ------------------------------------------------------------------------
  var refreshing = false;
  var again = false;

  // Which control had the focus, to give it back after the region is replaced.
  function focusKey() {
    var active = document.activeElement;
    if (!active || !live.contains(active)) { return null; }
    var form = active.closest("form");
    return { id: active.id, action: form ? form.getAttribute("action") : null };
  }

  function restoreFocus(kept) {
    if (!kept) { return; }
    var target = kept.id ? document.getElementById(kept.id) : null;
    if (!target && kept.action) {
      var form = live.querySelector('form[action="' + kept.action + '"]');
      target = form ? form.querySelector("button, select") : null;
    }
    (target || document.getElementById("current-title") || live).focus({ preventScroll: true });
  }

  function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    // The page as it is without the one-off message of the last action.
    var address = window.location.pathname + window.location.search
      .replace(/([?&])(done|code)=[^&]*/g, "$1").replace(/[?&]+$/, "");
    fetch(address, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (response.redirected) {
          // Signed out, or the desk was taken over: go where the server sends us.
          window.location.assign(response.url);
          throw new Error("left the desk page");
        }
        if (!response.ok) { throw new Error("not the desk page"); }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live");
        if (!fresh) { return; }
        var kept = focusKey();
        live.innerHTML = fresh.innerHTML;
        live.setAttribute("data-mark", fresh.getAttribute("data-mark") || "");
        restoreFocus(kept);
      })
      .catch(function () { /* the next change or the stream's reconnect tries again */ })
      .then(function () {
        refreshing = false;
        if (again) { again = false; refresh(); }
      });
  }

  var address = live.getAttribute("data-stream");
  if (address && window.EventSource) {
    var source = new EventSource(address);
    source.addEventListener("queue", function (event) {
      if (event.data !== live.getAttribute("data-mark")) { refresh(); }
    });
  }
})();
