/* Keyboard shortcuts for staff on the ticket list and the ticket page (issue 13).
 *
 * ?  shows them; j / k move through the list, o (or Enter) opens; r reply, n internal note,
 * a assign to me, s status, / search. Ctrl+Enter (or Cmd+Enter) in the reply box sends it as
 * the reply or the note that r or n started.
 *
 * A shortcut never fires while the focus is in a text field, a list box or anything editable,
 * nor with Ctrl, Alt or Cmd held, so typing is never taken for a command. Single-key shortcuts
 * can be turned off in the "?" dialog (WCAG 2.1.4); the choice is kept in this browser.
 */
(function () {
  "use strict";

  var help = document.getElementById("shortcuts-help");
  if (!help) return;
  var OFF_KEY = "helpdesk:shortcuts-off";
  var status = document.getElementById("shortcuts-status");
  var toggle = document.getElementById("shortcuts-toggle");
  var rows = document.getElementById("ticket-rows");
  var replyForm = document.querySelector("form.reply-form");
  var properties = document.getElementById("properties-form");
  var current = -1;
  var intent = "reply";

  function storedOff() {
    try { return window.localStorage.getItem(OFF_KEY) === "1"; } catch (e) { return false; }
  }
  function setOff(off) {
    try {
      if (off) window.localStorage.setItem(OFF_KEY, "1"); else window.localStorage.removeItem(OFF_KEY);
    } catch (e) { /* private mode: the choice lasts for this page */ }
    disabled = off;
    toggle.checked = !off;
  }
  var disabled = storedOff();
  toggle.checked = !disabled;
  toggle.addEventListener("change", function () { setOff(!toggle.checked); });

  function say(text) {
    if (!status) return;
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text; }, 30);
  }

  function typingIn(element) {
    if (!element || element === document.body) return false;
    if (element.isContentEditable) return true;
    var tag = element.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    if (tag === "INPUT") {
      var type = (element.getAttribute("type") || "text").toLowerCase();
      return ["button", "submit", "reset", "checkbox", "radio", "file", "image"].indexOf(type) === -1;
    }
    return !!element.closest("[role=listbox], [role=combobox], dialog[open] input");
  }

  function rowList() {
    return rows ? Array.prototype.slice.call(rows.querySelectorAll("tr.ticket-row")) : [];
  }
  function moveTo(index) {
    var list = rowList();
    if (!list.length) return;
    index = Math.max(0, Math.min(list.length - 1, index));
    list.forEach(function (row) { row.classList.remove("is-current"); });
    current = index;
    var row = list[index];
    row.classList.add("is-current");
    var link = row.querySelector(".col-subject a") || row.querySelector("a");
    if (link) link.focus();
  }
  function currentIndex() {
    var list = rowList();
    var focused = document.activeElement && document.activeElement.closest("tr.ticket-row");
    var at = focused ? list.indexOf(focused) : -1;
    return at !== -1 ? at : current;
  }

  function focusReply(kind) {
    if (!replyForm) return false;
    var box = replyForm.querySelector("textarea");
    if (!box) return false;
    intent = kind;
    replyForm.dataset.intent = kind;
    box.focus();
    box.scrollIntoView({ block: "center" });
    say(kind === "note" ? help.dataset.noteIntent : help.dataset.replyIntent);
    return true;
  }

  function assignToMe() {
    if (!properties) return false;
    var select = properties.querySelector("select[name=assignee]");
    var me = properties.dataset.me;
    if (!select || !me) return false;
    var option = select.querySelector('option[value="' + me + '"]');
    if (!option) { say(help.dataset.cannotAssign); return true; }
    if (select.value === me) { say(help.dataset.alreadyAssigned); return true; }
    select.value = me;
    if (properties.requestSubmit) properties.requestSubmit(); else properties.submit();
    return true;
  }

  function focusField(selector) {
    var field = document.querySelector(selector);
    if (!field) return false;
    field.focus();
    if (field.select && field.tagName === "INPUT") field.select();
    field.scrollIntoView({ block: "center" });
    return true;
  }

  var actions = {
    "?": function () { if (help.open) help.close(); else help.showModal(); return true; },
    j: function () { if (!rows) return false; moveTo(currentIndex() + 1); return true; },
    k: function () { if (!rows) return false; moveTo(currentIndex() <= 0 ? 0 : currentIndex() - 1); return true; },
    o: function () {
      var list = rowList();
      var index = currentIndex();
      if (!list.length || index < 0) return false;
      var link = list[index].querySelector(".col-subject a") || list[index].querySelector("a");
      if (link) window.location.assign(link.href);
      return true;
    },
    // x ticks the focused row for the bulk action bar (static/js/bulk.js listens to the box).
    x: function () {
      var list = rowList();
      var index = currentIndex();
      var box = index >= 0 && list[index] ? list[index].querySelector("input.bulk-select") : null;
      if (!box) return false;
      box.click();
      return true;
    },
    r: function () { return focusReply("reply"); },
    n: function () { return replyForm && replyForm.querySelector("button[value=note]") ? focusReply("note") : false; },
    a: assignToMe,
    s: function () { return properties ? focusField("#properties-form select[name=status]") : false; },
    "/": function () { return focusField("input[name=q]"); },
  };

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "?" && help.open) return;  // the dialog's own keys (Escape) close it
    if (typingIn(event.target) || help.open) return;
    if (disabled && event.key !== "?") return;
    var action = actions[event.key];
    if (action && action()) event.preventDefault();
  });

  // Ctrl+Enter in the reply box sends it as what r or n started (reply by default).
  if (replyForm) {
    replyForm.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey) || event.target.tagName !== "TEXTAREA") return;
      var button = replyForm.querySelector('button[name=kind][value="' + (replyForm.dataset.intent || intent) + '"]') ||
        replyForm.querySelector("button[name=kind][value=reply]");
      if (!button) return;
      event.preventDefault();
      if (replyForm.requestSubmit) replyForm.requestSubmit(button); else button.click();
    });
  }
})();
