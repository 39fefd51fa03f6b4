// Tag suggestions (issue 13): turns every text input with data-tag-suggest="<url>" into an ARIA
// combobox. Without JavaScript the input is plain text ("comma-separated" on the ticket page, one
// tag in the list's filter) and works the same.
//
// With data-tag-multiple the input holds a comma-separated list and suggestions complete the tag
// being typed (after the last comma); otherwise they complete the whole value. The input keeps
// the focus (aria-activedescendant): Up and Down open and move through the list, Enter picks,
// Escape closes. Only names come back from the server (the workspace's tags, staff only).
(function () {
  "use strict";

  var counter = 0;

  function enhance(input) {
    var url = input.getAttribute("data-tag-suggest");
    if (!url) return;
    var multiple = input.getAttribute("data-tag-multiple") === "true";
    var id = "tag-suggest-" + ++counter;
    var wrap = document.createElement("div");
    wrap.className = "tag-combobox";
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    var listbox = document.createElement("ul");
    listbox.id = id + "-list";
    listbox.className = "tag-listbox";
    listbox.setAttribute("role", "listbox");
    listbox.setAttribute("aria-label", input.getAttribute("data-tag-list-label") || "Tag suggestions");
    listbox.hidden = true;
    wrap.appendChild(listbox);
    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    wrap.appendChild(status);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listbox.id);
    input.setAttribute("autocomplete", "off");

    var names = [];
    var active = -1;
    var asked = 0;
    var timer = null;

    function parts() {
      if (!multiple) return { head: "", token: input.value };
      var cut = input.value.lastIndexOf(",");
      return { head: input.value.slice(0, cut + 1), token: input.value.slice(cut + 1) };
    }

    function chosen() {
      if (!multiple) return [];
      return input.value
        .split(",")
        .slice(0, -1)
        .map(function (name) {
          return name.trim().toLowerCase();
        });
    }

    function close() {
      listbox.hidden = true;
      listbox.textContent = "";
      names = [];
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function setActive(index) {
      var options = listbox.querySelectorAll("[role='option']");
      active = index;
      options.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
        option.classList.toggle("is-active", i === index);
      });
      if (options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      }
    }

    function show(results) {
      close();
      var taken = chosen();
      results = results.filter(function (name) {
        return taken.indexOf(name) < 0;
      });
      if (!results.length) {
        status.textContent = "";
        return;
      }
      names = results;
      results.forEach(function (name, index) {
        var option = document.createElement("li");
        option.id = id + "-option-" + index;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.className = "tag-option";
        option.textContent = name;
        // mousedown, not click: the input keeps the focus.
        option.addEventListener("mousedown", function (event) {
          event.preventDefault();
          pick(index);
        });
        listbox.appendChild(option);
      });
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
      status.textContent = (input.getAttribute("data-tag-found") || "{n} suggestions. Up and down to choose, Enter to pick.").replace(
        "{n}",
        String(results.length)
      );
    }

    function lookup() {
      var query = parts().token.trim();
      var mine = ++asked;
      fetch(url + "?q=" + encodeURIComponent(query), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.ok ? response.json() : { results: [] };
        })
        .then(function (data) {
          if (mine === asked && document.activeElement === input) show(data.results || []);
        })
        .catch(close);
    }

    function pick(index) {
      var name = names[index];
      if (name === undefined) return;
      var head = parts().head;
      input.value = multiple ? (head ? head.replace(/\s*$/, " ") : "") + name + ", " : name;
      close();
      status.textContent = (input.getAttribute("data-tag-picked") || "{name} added.").replace("{name}", name);
      input.focus();
      var end = input.value.length;
      input.setSelectionRange(end, end);
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(lookup, 120);
    });
    input.addEventListener("blur", close);
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && listbox.hidden) {
        event.preventDefault();
        lookup();
        return;
      }
      if (listbox.hidden || !names.length) return;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        setActive((active + 1) % names.length);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        setActive((active - 1 + names.length) % names.length);
      } else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        pick(active);
      } else if (event.key === "Escape") {
        event.preventDefault();
        close();
      }
    });
  }

  function start() {
    document.querySelectorAll("input[data-tag-suggest]").forEach(enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
