/* The ticket kiosk, enhanced. The pages work alone (forms post, a meta refresh goes back to
   the start); this script adds the on-screen keypad for the booking code, keeps a barcode
   scanner's typing in the code field (a scanner types the code and presses Enter, which
   sends the form), prints a new ticket once, goes back to the start after a while (any
   touch gives more time), and clears a half-typed code when the next person walks up. */
(function () {
  "use strict";

  var IDLE_MS = 60000;

  // -- the start page: keypad and scanner ----------------------------------------------

  var code = document.getElementById("code");
  var keypad = document.getElementById("keypad");
  if (code && keypad) {
    keypad.hidden = false;
    keypad.addEventListener("click", function (event) {
      var key = event.target.closest("[data-key]");
      if (!key) return;
      var value = key.getAttribute("data-key");
      if (value === "back") code.value = code.value.slice(0, -1);
      else if (code.value.length < code.maxLength) code.value += value;
      code.focus();
    });

    // A scanner types wherever the focus is: printable keys go to the code field.
    document.addEventListener("keydown", function (event) {
      var inField = event.target instanceof HTMLInputElement;
      if (!inField && event.key.length === 1 && /[0-9A-Za-z]/.test(event.key) &&
          !event.ctrlKey && !event.metaKey && !event.altKey) {
        code.focus();
      }
    });

    var idle = null;
    var restart = function () {
      window.clearTimeout(idle);
      idle = window.setTimeout(function () { code.value = ""; }, IDLE_MS);
    };
    document.addEventListener("input", restart);
    document.addEventListener("click", restart);
  }

  // -- the ticket and problem pages: print once, then back to the start ----------------

  var result = document.querySelector("[data-return]");
  if (!result) return;

  var target = result.getAttribute("data-return");
  var seconds = Number(result.getAttribute("data-seconds")) || 20;
  var leave = null;
  var wait = function () {
    // Someone still reading gets more time with any touch or key (WCAG 2.2.1).
    window.clearTimeout(leave);
    leave = window.setTimeout(function () { window.location.replace(target); }, seconds * 1000);
  };
  wait();
  document.addEventListener("pointerdown", wait);
  document.addEventListener("keydown", wait);

  var again = document.querySelector(".kiosk-print");
  if (again && window.print) {
    again.hidden = false;
    again.addEventListener("click", function () { window.print(); });
  }
  if (result.getAttribute("data-print") === "true" && window.print) {
    // Kiosk browsers run with --kiosk-printing: this prints without a dialog. A reload of
    // the page (the address without ?print=1) does not print a second ticket.
    window.history.replaceState(null, "", window.location.pathname);
    window.setTimeout(function () { window.print(); }, 300);
  }
})();
