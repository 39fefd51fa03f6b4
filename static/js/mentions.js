// @mentions on the ticket page (staff only; the server renders mentions in internal notes only).
//
// 1. The reply box's autocomplete: typing "@" and part of a name asks the ticket's
//    /mentions/?q= endpoint for the staff who can see the ticket and lists them under the box. The
//    textarea keeps the focus (ARIA combobox pattern with aria-activedescendant): Up and Down move
//    through the list, Enter or Tab picks, Escape closes; a pick writes "@[Name](user:ID) ", the
//    stable reference the server renders and notifies.
// 2. The viewer's own mentions in the conversation (also in messages that arrive live) are marked
//    "mention-me", with "(you)" for screen readers.
(function () {
  "use strict";

  // "@" at the start or after a space or "(", then what was typed of a name so far.
  var TRIGGER = /(^|[\s(])@([^\s@[\]()]{0,40})$/;

  function markOwnMentions(list) {
    var me = list.getAttribute("data-viewer");
    if (!me) return;
    var you = list.getAttribute("data-you-label") || "(you)";
    list.querySelectorAll('a.mention[data-mention="' + me + '"]:not(.mention-me)').forEach(function (link) {
      link.classList.add("mention-me");
      var hidden = document.createElement("span");
      hidden.className = "visually-hidden";
      hidden.textContent = " " + you;
      link.appendChild(hidden);
    });
  }

  function watchConversation() {
    var list = document.getElementById("message-list");
    if (!list) return;
    markOwnMentions(list);
    new MutationObserver(function () {
      markOwnMentions(list);
    }).observe(list, { childList: true, subtree: true });
  }

  function autocomplete(form) {
    var url = form.getAttribute("data-mention-url");
    var box = form.querySelector("textarea[name='body']");
    var popup = document.getElementById("mention-popup");
    var listbox = document.getElementById("mention-listbox");
    var status = document.getElementById("mention-status");
    if (!url || !box || !popup || !listbox || !status) return;

    box.setAttribute("aria-autocomplete", "list");
    box.setAttribute("aria-controls", "mention-listbox");
    var described = (box.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (described.indexOf("mention-help") < 0) {
      described.push("mention-help");
      box.setAttribute("aria-describedby", described.join(" "));
    }

    var people = [];
    var active = -1;
    var trigger = null;
    var asked = 0;
    var timer = null;

    function close() {
      popup.hidden = true;
      listbox.textContent = "";
      people = [];
      active = -1;
      box.removeAttribute("aria-activedescendant");
    }

    function setActive(index) {
      var options = listbox.querySelectorAll("[role='option']");
      active = index;
      options.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
        option.classList.toggle("is-active", i === index);
      });
      if (options[index]) {
        box.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      }
    }

    function show(results) {
      close();
      if (!results.length) {
        status.textContent = listbox.getAttribute("data-none") || "Nobody who works this ticket matches.";
        return;
      }
      people = results;
      results.forEach(function (person, index) {
        var option = document.createElement("li");
        option.id = "mention-option-" + person.id;
        option.setAttribute("role", "option");
        option.className = "mention-option";
        var name = document.createElement("span");
        name.className = "mention-option-name";
        name.textContent = person.name + (person.you ? " " + (listbox.getAttribute("data-you") || "(you)") : "");
        var email = document.createElement("span");
        email.className = "mention-option-email";
        email.textContent = person.email;
        option.appendChild(name);
        option.appendChild(email);
        // mousedown, not click: the textarea keeps the focus (and its caret).
        option.addEventListener("mousedown", function (event) {
          event.preventDefault();
          pick(index);
        });
        listbox.appendChild(option);
      });
      popup.hidden = false;
      setActive(0);
      status.textContent = (listbox.getAttribute("data-found") || "Suggestions: {n}. Up and down to choose, Enter to pick.").replace(
        "{n}",
        String(results.length)
      );
    }

    function currentTrigger() {
      if (box.selectionStart !== box.selectionEnd) return null;
      var before = box.value.slice(0, box.selectionStart);
      var found = TRIGGER.exec(before);
      return found ? { start: before.length - found[2].length - 1, query: found[2] } : null;
    }

    function lookup() {
      trigger = currentTrigger();
      if (!trigger) {
        close();
        return;
      }
      var mine = ++asked;
      fetch(url + "?q=" + encodeURIComponent(trigger.query), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.ok ? response.json() : { results: [] };
        })
        .then(function (data) {
          if (mine === asked && trigger) show(data.results || []);
        })
        .catch(close);
    }

    function pick(index) {
      var person = people[index];
      if (!person || !trigger) return;
      var reference = "@[" + person.name + "](user:" + person.id + ") ";
      var end = box.selectionStart;
      box.value = box.value.slice(0, trigger.start) + reference + box.value.slice(end);
      var caret = trigger.start + reference.length;
      box.setSelectionRange(caret, caret);
      trigger = null;
      close();
      status.textContent = (listbox.getAttribute("data-picked") || "{name} will be mentioned.").replace("{name}", person.name);
      box.focus();
      // The draft (drafts.js) keeps the new text.
      box.dispatchEvent(new Event("input", { bubbles: true }));
    }

    box.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(lookup, 150);
    });
    box.addEventListener("click", lookup);
    box.addEventListener("blur", close);
    box.addEventListener("keydown", function (event) {
      if (popup.hidden || !people.length) return;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        setActive((active + 1) % people.length);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        setActive((active - 1 + people.length) % people.length);
      } else if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        pick(active < 0 ? 0 : active);
      } else if (event.key === "Escape") {
        event.preventDefault();
        trigger = null;
        close();
      }
    });
  }

  function start() {
    watchConversation();
    var form = document.querySelector("form[data-mention-url]");
    if (form) autocomplete(form);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
