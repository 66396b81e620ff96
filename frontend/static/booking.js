/* Progressive enhancement for the citizen pages; every page works without this file.
 *
 * - a live filter for the list of services,
 * - a countdown for the held time, a warning a minute before it ends and a button that
 *   extends it once through the JSON API (WCAG 2.2.1),
 * - the proof of work (ALTCHA) for the booking form, solved while the citizen reads.
 * Texts come translated from data attributes on the page; "{name}" marks a value. */
(function () {
  "use strict";

  function fill(message, values) {
    return message.replace(/\{(\w+)\}/g, function (_, key) { return String(values[key]); });
  }

  /* Services: hide what does not match, keep what is ticked, say how many are shown. */
  function serviceFilter(input) {
    var list = document.getElementById(input.getAttribute("data-filter-list"));
    var status = document.getElementById(input.getAttribute("data-filter-status"));
    if (!list || !status) { return; }
    var items = Array.prototype.slice.call(list.querySelectorAll("[data-filter-text]"));
    var timer = null;
    input.addEventListener("input", function () {
      var query = input.value.trim().toLowerCase();
      var shown = 0;
      items.forEach(function (item) {
        var box = item.querySelector("input");
        var match = !query || item.getAttribute("data-filter-text").indexOf(query) !== -1 ||
          (box && box.checked);
        item.hidden = !match;
        if (match) { shown += 1; }
      });
      // Announced once typing pauses, not on every key.
      clearTimeout(timer);
      timer = setTimeout(function () {
        status.textContent = query ? fill(input.getAttribute("data-filter-message"),
          { shown: shown, total: items.length }) : "";
      }, 400);
    });
  }

  /* The held time: countdown, warning, one extension. */
  function holdTimer(box) {
    var countdown = box.querySelector("[data-countdown]");
    var warning = box.querySelector("[data-warning]");
    var until = box.querySelector("[data-until]");
    var deadline = Date.now() + Number(box.getAttribute("data-seconds")) * 1000;
    var extended = box.getAttribute("data-extended") === "true";
    var warned = false;
    var ended = false;
    var clock = new Intl.DateTimeFormat(box.getAttribute("data-lang"), {
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
      timeZone: box.getAttribute("data-zone"),
    });

    function noMoreExtending() {
      extended = true;
      document.querySelectorAll("[data-extend], .hold__extend-hint").forEach(function (el) {
        el.hidden = true;
      });
    }

    function extend(button) {
      button.setAttribute("aria-busy", "true");
      button.disabled = true;
      fetch("/api/v1/holds/" + box.getAttribute("data-hold") + "/extend", {
        method: "POST", headers: { "Accept": "application/json" }, credentials: "same-origin",
      }).then(function (answer) {
        if (!answer.ok) { throw new Error("not extended"); }
        return answer.json();
      }).then(function (hold) {
        deadline = Date.now() + Number(box.getAttribute("data-extend-seconds")) * 1000;
        until.textContent = fill(box.getAttribute("data-message-until"),
          { time: clock.format(new Date(hold.expires_at)) });
        warned = false;
        warning.hidden = true;
        warning.textContent = "";
        noMoreExtending();
        // Tell screen readers the new time without moving focus away from the form.
        until.setAttribute("role", "status");
      }).catch(function () {
        button.disabled = false;
        button.removeAttribute("aria-busy");
      });
    }

    function warn(message, offerExtension) {
      warning.textContent = "";
      var text = document.createElement("p");
      text.textContent = message;
      warning.appendChild(text);
      if (offerExtension) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "button button--secondary";
        button.textContent = box.getAttribute("data-message-button");
        button.addEventListener("click", function () { extend(button); });
        warning.appendChild(button);
      }
      warning.hidden = false;
    }

    function tick() {
      var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      var minutes = Math.floor(left / 60);
      var seconds = String(left % 60).padStart(2, "0");
      countdown.textContent = fill(box.getAttribute("data-message-left"),
        { time: minutes + ":" + seconds });
      countdown.hidden = false;
      if (left === 0 && !ended) {
        ended = true;
        noMoreExtending();
        warn(box.getAttribute("data-message-expired"), false);
      } else if (left <= 60 && left > 0 && !warned) {
        warned = true;
        warn(box.getAttribute("data-message-warning"), !extended);
      }
    }

    // Extending in place keeps what was typed; the form's own button is for no-script use.
    document.querySelectorAll("[data-extend]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        extend(button);
      });
    });
    tick();
    setInterval(tick, 1000);
  }

  /* ALTCHA: SHA-256(salt + n) == challenge for some n up to maxNumber. */
  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
  }

  async function solve(challenge) {
    var encoder = new TextEncoder();
    for (var n = 0; n <= challenge.maxNumber; n += 1) {
      var digest = await crypto.subtle.digest("SHA-256", encoder.encode(challenge.salt + n));
      if (hex(digest) === challenge.challenge) {
        return btoa(JSON.stringify({
          algorithm: challenge.algorithm, challenge: challenge.challenge, number: n,
          salt: challenge.salt, signature: challenge.signature,
        }));
      }
    }
    return "";
  }

  function proofOfWork(form) {
    var field = form.querySelector("[data-proof-solution]");
    var done = false;
    var waiting = null;
    var work = (window.crypto && crypto.subtle ? fetch(form.getAttribute("data-proof"), {
      headers: { "Accept": "application/json" },
    }).then(function (answer) { return answer.json(); }).then(solve) : Promise.resolve(""))
      .catch(function () { return ""; })
      .then(function (solution) {
        // Without a solution the server still books, under a stricter limit.
        field.value = solution;
        done = true;
        if (waiting) { form.requestSubmit(waiting); }
      });
    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (done || (button && button.hasAttribute("formaction"))) { return; }
      event.preventDefault();
      if (waiting) { return; }
      waiting = button;
      if (button) {
        button.setAttribute("aria-busy", "true");
        button.textContent = form.getAttribute("data-message-busy");
      }
    });
    return work;
  }

  document.querySelectorAll("[data-filter-list]").forEach(serviceFilter);
  document.querySelectorAll("[data-hold]").forEach(holdTimer);
  document.querySelectorAll("form[data-proof]").forEach(proofOfWork);
})();
