/* Progressive enhancement for the admin pages; every page works without this file.
 *
 * - forms with data-confirm ask before they send (removing, revoking, retrying),
 * - the week editor gets "Add window" and "Remove" buttons instead of empty rows to fill,
 * - a shown device token can be copied with one click.
 * Texts come translated from data attributes on the page. */
(function () {
  "use strict";

  function confirmBeforeSending(form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  }

  /* A window's fields emptied are a removed window: the server drops empty rows. */
  function clearWindow(row) {
    Array.prototype.forEach.call(row.querySelectorAll("input:not([type=hidden])"), function (input) {
      input.value = "";
    });
  }

  function weekEditor(editor) {
    var addLabel = editor.getAttribute("data-add");
    var removeLabel = editor.getAttribute("data-remove");
    var counter = 0;
    Array.prototype.forEach.call(editor.querySelectorAll("fieldset[data-weekday]"), function (day) {
      var windows = day.querySelector(".windows");
      var rows = windows.querySelectorAll("[data-window]");
      var template = rows[rows.length - 1];
      var dayName = day.querySelector("legend").textContent;

      function withRemove(row) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "button button--secondary button--small window__remove";
        button.textContent = removeLabel;
        button.setAttribute("aria-label", removeLabel + ": " + dayName);
        button.addEventListener("click", function () {
          clearWindow(row);
          row.hidden = true;
          add.focus();
        });
        row.appendChild(button);
      }

      // The empty row stays as the template; "Add window" shows a copy.
      template.parentNode.removeChild(template);
      Array.prototype.forEach.call(windows.querySelectorAll("[data-window]"), withRemove);
      var add = document.createElement("button");
      add.type = "button";
      add.className = "button button--secondary button--small";
      add.textContent = addLabel;
      add.setAttribute("aria-label", addLabel + ": " + dayName);
      add.addEventListener("click", function () {
        counter += 1;
        var row = template.cloneNode(true);
        Array.prototype.forEach.call(row.querySelectorAll("[id]"), function (element) {
          var id = element.id + "-new" + counter;
          var label = row.querySelector("label[for='" + element.id + "']");
          if (label) { label.setAttribute("for", id); }
          element.id = id;
        });
        withRemove(row);
        windows.appendChild(row);
        var first = row.querySelector("input:not([type=hidden])");
        if (first) { first.focus(); }
      });
      day.appendChild(add);
    });
  }

  function copyButton(button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    button.hidden = false;
    button.addEventListener("click", function () {
      if (!navigator.clipboard || !target) { return; }
      navigator.clipboard.writeText(target.textContent.trim()).then(function () {
        var status = document.getElementById(button.getAttribute("data-copy-status"));
        if (status) { status.textContent = button.getAttribute("data-copied"); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm]"), confirmBeforeSending);
    Array.prototype.forEach.call(document.querySelectorAll("[data-week-editor]"), weekEditor);
    Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), copyButton);
  });
}());
