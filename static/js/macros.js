// Macros in the reply box (staff; tickets/macros and templates/tickets/macros/_composer.html).
//
// The page lists the person's macros in a plain <select> (the no-JavaScript way: pick, Insert, a
// form round trip). With JavaScript that select gives way to:
// 1. the "Insert macro" picker: a filter box (ARIA combobox) over a listbox; type part of a name
//    or shortcut, Up and Down to choose, Enter to insert, Escape to close;
// 2. ";shortcut" typed in the reply box, then Tab or Enter: the shortcut is replaced by the macro
//    (a personal macro wins over a shared one with the same shortcut).
// The text comes from the server, placeholders filled in for this ticket, and is put into the
// textarea as text (never as HTML). The hidden "macro" field then names the macro, whose status,
// priority and tags the server applies when the message is sent (after checking again).
(function () {
  "use strict";

  var SHORTCUT = /(^|\s);([A-Za-z0-9_-]{1,40})$/;

  function text(root, key, fallback, values) {
    var template = root.getAttribute("data-" + key) || fallback;
    Object.keys(values || {}).forEach(function (name) {
      template = template.replace("{" + name + "}", values[name]);
    });
    return template;
  }

  function start() {
    var root = document.getElementById("macro-composer");
    if (!root) return;
    var form = root.closest("form");
    var box = form && form.querySelector("textarea[name='body']");
    var hidden = document.getElementById("id_macro");
    var status = document.getElementById("macro-status");
    var chosen = document.getElementById("macro-chosen");
    var chosenText = document.getElementById("macro-chosen-text");
    var forget = document.getElementById("macro-forget");
    if (!box || !hidden || !status || !chosen) return;

    forget.hidden = false;
    forget.addEventListener("click", function () {
      hidden.value = "";
      chosen.hidden = true;
      status.textContent = forget.textContent;
      box.focus();
    });

    var select = document.getElementById("macro-pick");
    if (!select) return;
    var macros = Array.prototype.map.call(select.options, function (option) {
      return {
        id: option.value,
        name: option.getAttribute("data-name"),
        shortcut: option.getAttribute("data-shortcut"),
        kind: option.getAttribute("data-kind"),
        shared: option.getAttribute("data-scope") === "shared",
        effects: option.getAttribute("data-effects") || "",
      };
    });
    var renderUrl = root.getAttribute("data-render-url");
    var picker = document.getElementById("macro-picker");
    var openButton = document.getElementById("macro-open");
    var popup = document.getElementById("macro-popup");
    var filter = document.getElementById("macro-filter");
    var listbox = document.getElementById("macro-listbox");
    document.getElementById("macro-insert-plain").hidden = true;
    select.disabled = true; // not posted: the picker decides
    picker.hidden = false;
    document.getElementById("macro-shortcut-help").hidden = false; // ;shortcut needs this script

    // Where the caret was in the box when the focus left it: the picker inserts there.
    var caret = null;
    box.addEventListener("blur", function () {
      caret = { start: box.selectionStart, end: box.selectionEnd };
    });

    function urlFor(id) {
      return renderUrl.replace(/\/0\/$/, "/" + encodeURIComponent(id) + "/");
    }

    function chooseNoteMode() {
      var note = form.querySelector("input[name='compose_mode'][value='note']");
      if (note && !note.checked) {
        note.checked = true;
        note.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }

    function insert(macro, from, to) {
      return fetch(urlFor(macro.id), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          var value = box.value;
          from = Math.min(from, value.length);
          to = Math.min(Math.max(to, from), value.length);
          box.value = value.slice(0, from) + data.text + value.slice(to);
          var end = from + data.text.length;
          box.focus();
          box.setSelectionRange(end, end);
          // The draft (drafts.js) keeps the new text; presence (live.js) hears typing.
          box.dispatchEvent(new Event("input", { bubbles: true }));
          hidden.value = String(data.id);
          var inserted = text(root, "inserted", "Macro “{name}” inserted.", { name: data.name });
          chosenText.textContent = (inserted + " " + (data.effects || "")).trim();
          // Shown only when sending changes something: then it can be turned off.
          chosen.hidden = !data.effects;
          if (data.kind === "note") chooseNoteMode();
          status.textContent = chosenText.textContent;
        })
        .catch(function () {
          status.textContent = text(root, "failed", "The macro could not be inserted.");
        });
    }

    // ;shortcut, then Tab or Enter ------------------------------------------------------------

    function byShortcut(shortcut) {
      // Personal macros come first in the list: they win over a shared one.
      for (var i = 0; i < macros.length; i++) {
        if (macros[i].shortcut === shortcut) return macros[i];
      }
      return null;
    }

    box.addEventListener("keydown", function (event) {
      if (event.key !== "Tab" && event.key !== "Enter") return;
      if (event.shiftKey || event.ctrlKey || event.altKey || event.metaKey || event.isComposing) return;
      var mentions = document.getElementById("mention-popup");
      if (mentions && !mentions.hidden) return;
      if (box.selectionStart !== box.selectionEnd) return;
      var before = box.value.slice(0, box.selectionStart);
      var found = SHORTCUT.exec(before);
      if (!found) return;
      var macro = byShortcut(found[2].toLowerCase());
      if (!macro) return;
      event.preventDefault();
      insert(macro, before.length - found[2].length - 1, box.selectionStart);
    });

    // The picker --------------------------------------------------------------------------------

    var shown = [];
    var active = -1;

    function setActive(index) {
      active = index;
      var options = listbox.querySelectorAll("[role='option']");
      options.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
        option.classList.toggle("is-active", i === index);
      });
      if (options[index]) {
        filter.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        filter.removeAttribute("aria-activedescendant");
      }
    }

    function show() {
      var query = filter.value.trim().toLowerCase().replace(/^;/, "");
      shown = macros.filter(function (macro) {
        return !query || macro.name.toLowerCase().indexOf(query) >= 0 || macro.shortcut.indexOf(query) >= 0;
      });
      listbox.textContent = "";
      shown.forEach(function (macro, index) {
        var option = document.createElement("li");
        option.id = "macro-option-" + macro.id;
        option.setAttribute("role", "option");
        option.className = "macro-option";
        var name = document.createElement("span");
        name.className = "macro-option-name";
        name.textContent = macro.name;
        var meta = document.createElement("span");
        meta.className = "macro-option-meta";
        var tags = [";" + macro.shortcut];
        if (macro.shared) tags.push(text(root, "shared", "shared"));
        if (macro.kind === "note") tags.push(text(root, "note", "internal note"));
        meta.textContent = tags.join(" · ");
        option.appendChild(name);
        option.appendChild(meta);
        if (macro.effects) {
          var effects = document.createElement("span");
          effects.className = "macro-option-effects";
          effects.textContent = macro.effects;
          option.appendChild(effects);
        }
        // mousedown, not click: the filter keeps the focus until the pick moves it to the box.
        option.addEventListener("mousedown", function (event) {
          event.preventDefault();
          pick(index);
        });
        listbox.appendChild(option);
      });
      setActive(shown.length ? 0 : -1);
      status.textContent = shown.length
        ? text(root, "found", "{n} macros. Up and down to choose, Enter to insert.", { n: String(shown.length) })
        : text(root, "none", "No macro matches.");
    }

    function open() {
      popup.hidden = false;
      openButton.setAttribute("aria-expanded", "true");
      filter.value = "";
      show();
      filter.focus();
    }

    function close(focusButton) {
      popup.hidden = true;
      openButton.setAttribute("aria-expanded", "false");
      filter.removeAttribute("aria-activedescendant");
      if (focusButton) openButton.focus();
    }

    function pick(index) {
      var macro = shown[index];
      if (!macro) return;
      close(false);
      var at = caret || { start: box.value.length, end: box.value.length };
      insert(macro, at.start, at.end);
    }

    openButton.addEventListener("click", function () {
      if (popup.hidden) open();
      else close(true);
    });
    filter.addEventListener("input", show);
    filter.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && shown.length) {
        event.preventDefault();
        setActive((active + 1) % shown.length);
      } else if (event.key === "ArrowUp" && shown.length) {
        event.preventDefault();
        setActive((active - 1 + shown.length) % shown.length);
      } else if (event.key === "Enter") {
        // Never submits the reply form.
        event.preventDefault();
        if (active >= 0) pick(active);
      } else if (event.key === "Escape") {
        event.preventDefault();
        close(true);
      } else if (event.key === "Tab") {
        close(false);
      }
    });
    document.addEventListener("mousedown", function (event) {
      if (!popup.hidden && !picker.contains(event.target)) close(false);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
