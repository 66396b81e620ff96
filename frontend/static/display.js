/* The display board, live. The page works alone (it reloads every 30 s without script);
   this script follows the board's stream of calls instead: each call is announced to
   screen readers, chimes if someone switched the chime on, and the board is fetched again
   and swapped in (one template draws it), with the new number highlighted. The browser's
   EventSource reconnects with Last-Event-ID by itself; when it gives up (the server
   refused or was gone), this script starts a new one after a growing pause. A device
   signed out or revoked meanwhile is sent to the sign-in page by reloading. */
(function () {
  "use strict";

  var root = document.getElementById("display");
  if (!root || !window.EventSource || !window.fetch || !window.DOMParser) return;

  var HIGHLIGHT_MS = 15000;
  var REFRESH_MS = 60000;
  var lastId = root.getAttribute("data-last-event") || "0";
  var announcer = document.getElementById("announcer");
  var lostNote = document.getElementById("connection");
  var clock = document.getElementById("clock");
  var called = {}; // code -> when it was called here, for the highlight
  var source = null;
  var pause = 1000;
  var fetching = false;
  var again = false;
  var offset = 0; // server clock minus this screen's clock
  var chime = null;

  // -- the board -----------------------------------------------------------------------

  function highlight(board) {
    var now = Date.now();
    var rows = board.querySelectorAll("tr[data-code]");
    for (var i = 0; i < rows.length; i++) {
      var at = called[rows[i].getAttribute("data-code")];
      if (at && now - at < HIGHLIGHT_MS) rows[i].classList.add("is-new");
    }
  }

  function setOffset(board) {
    var server = Number(board.getAttribute("data-now"));
    if (server) offset = server * 1000 - Date.now();
  }

  function signedOut(status) {
    if (status === 401 || status === 403) {
      window.location.reload();
      return true;
    }
    return false;
  }

  function refresh() {
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) {
        if (signedOut(answer.status) || !answer.ok) return null;
        return answer.text();
      })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("board");
        var board = document.getElementById("board");
        if (!fresh || !board) return;
        highlight(fresh);
        setOffset(fresh);
        board.replaceWith(document.importNode(fresh, true));
      })
      .catch(function () {
        again = true; // offline: try once more shortly
      })
      .then(function () {
        fetching = false;
        if (again) {
          again = false;
          window.setTimeout(refresh, 2000);
        }
      });
  }

  // Take the highlight away once its time is over.
  window.setInterval(function () {
    var now = Date.now();
    var rows = document.querySelectorAll("tr.is-new");
    for (var i = 0; i < rows.length; i++) {
      var at = called[rows[i].getAttribute("data-code")];
      if (!at || now - at >= HIGHLIGHT_MS) rows[i].classList.remove("is-new");
    }
  }, 1000);
  window.setInterval(refresh, REFRESH_MS);

  // -- the clock -----------------------------------------------------------------------

  var timeFormat = new Intl.DateTimeFormat(root.getAttribute("data-lang") || "de", {
    hour: "2-digit", minute: "2-digit", hour12: false,
    timeZone: root.getAttribute("data-zone") || undefined
  });
  setOffset(document.getElementById("board"));
  function tick() {
    var now = new Date(Date.now() + offset);
    clock.textContent = timeFormat.format(now);
    clock.setAttribute("datetime", now.toISOString());
  }
  if (clock) window.setInterval(tick, 1000);

  // -- saying it and sounding it -------------------------------------------------------

  function announce(call) {
    var text = root.getAttribute("data-announce").replace("{code}", call.code).replace("{desk}", call.desk);
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 100);
  }

  function tone(context, frequency, start) {
    var oscillator = context.createOscillator();
    var gain = context.createGain();
    oscillator.type = "sine";
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.4, start + 0.03);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.9);
    oscillator.connect(gain).connect(context.destination);
    oscillator.start(start);
    oscillator.stop(start + 1);
  }

  function sound() {
    if (!chime) return;
    var now = chime.currentTime;
    tone(chime, 784, now); // G5, then C6: the usual two-note gong
    tone(chime, 1047, now + 0.45);
  }

  var chimeButton = document.getElementById("chime");
  var Audio = window.AudioContext || window.webkitAudioContext;
  if (chimeButton && Audio) {
    chimeButton.hidden = false;
    // Browsers allow sound only after a touch or key press, so it starts off.
    chimeButton.addEventListener("click", function () {
      var on = chimeButton.getAttribute("aria-pressed") !== "true";
      chimeButton.setAttribute("aria-pressed", on ? "true" : "false");
      if (on) {
        chime = chime || new Audio();
        chime.resume();
        sound();
      } else if (chime) {
        chime.close();
        chime = null;
      }
    });
  }

  var full = document.getElementById("fullscreen");
  if (full && document.documentElement.requestFullscreen) {
    full.hidden = false;
    full.addEventListener("click", function () {
      if (document.fullscreenElement) document.exitFullscreen();
      else document.documentElement.requestFullscreen();
    });
  }

  // -- the stream ----------------------------------------------------------------------

  function onCall(event) {
    if (event.lastEventId) lastId = event.lastEventId;
    var call;
    try {
      call = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    called[call.code] = Date.now();
    announce(call);
    sound();
    refresh();
  }

  function connect() {
    var url = root.getAttribute("data-stream") + "?after=" + encodeURIComponent(lastId);
    source = new EventSource(url, { withCredentials: true });
    source.addEventListener("call", onCall);
    source.addEventListener("recall", onCall);
    source.addEventListener("open", function () {
      pause = 1000;
      root.setAttribute("data-connected", "true");
      lostNote.hidden = true;
      refresh(); // counts and calls that changed while away
    });
    source.addEventListener("error", function () {
      root.setAttribute("data-connected", "false");
      // Streams end every few seconds by design; say so only when it stays away.
      window.setTimeout(function () {
        if (root.getAttribute("data-connected") !== "true") lostNote.hidden = false;
      }, 5000);
      if (source.readyState !== EventSource.CLOSED) return; // the browser retries itself
      source.close();
      // Refused rather than lost? A device signed out reloads into the sign-in page.
      fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
        .then(function (answer) { signedOut(answer.status); })
        .catch(function () {});
      window.setTimeout(connect, pause);
      pause = Math.min(pause * 2, 30000);
    });
  }

  connect();
})();
