// Drafts: what a person types in a reply box (or a new ticket's description) survives a reload,
// a lost connection and a refused send. The text stays in this browser's localStorage only, under
// "helpdesk-draft:<user>:<workspace>:<ticket>:<kind>" (the form's data-draft-key); it is never sent
// anywhere but with the form itself.
//
// - Restored into the box on load when the box is empty (a form that came back with errors
//   already holds the posted text: the server's copy wins).
// - Cleared when the send succeeded. The views answer a successful POST with a redirect to a page
//   that shows a success message (Post/Redirect/Get); a refused send answers without a redirect
//   (the form again with errors, a 404 when access was lost) and an expired session redirects to
//   the sign-in page without a success message. So on submit the tab remembers which draft it sent
//   (sessionStorage, one entry), and the very next page clears that draft only if it was reached
//   through a redirect and shows a success message. Any other next page keeps it.
// - Shown where the person can no longer send it: a ticket page that answers "not available"
//   (moved to another queue, access revoked) offers the draft in a box marked data-draft-reveal.
// - Cleared, all of them, when the person signs out (a shared computer keeps nothing).
(function () {
  "use strict";

  var PREFIX = "helpdesk-draft:";
  var SENT = "helpdesk-draft-sent";
  var SAVE_DELAY_MS = 300;

  function storage(kind) {
    try {
      var store = window[kind];
      var probe = PREFIX + "probe";
      store.setItem(probe, "1");
      store.removeItem(probe);
      return store;
    } catch (error) {
      return null; // private mode or storage disabled: no drafts, the form still works
    }
  }

  var local = storage("localStorage");
  var session = storage("sessionStorage");
  if (!local) return;

  var signingOut = false;

  function clearAll() {
    signingOut = true; // a pending save (or the pagehide one) must not write the draft back
    var keys = [];
    for (var i = 0; i < local.length; i++) {
      var key = local.key(i);
      if (key && key.indexOf(PREFIX) === 0) keys.push(key);
    }
    keys.forEach(function (key) { local.removeItem(key); });
  }

  function reachedThroughRedirect() {
    var entries = performance.getEntriesByType ? performance.getEntriesByType("navigation") : [];
    if (entries.length) return entries[0].redirectCount > 0;
    return performance.navigation ? performance.navigation.redirectCount > 0 : false;
  }

  // The page after a send: was it a success?
  function settleSentDraft() {
    if (!session) return;
    var sent = session.getItem(SENT);
    if (!sent) return;
    session.removeItem(SENT);
    if (reachedThroughRedirect() && document.querySelector(".flash-success")) local.removeItem(sent);
  }

  function note(box, text, onDiscard) {
    var p = document.createElement("p");
    p.className = "help draft-note";
    p.setAttribute("role", "status");
    p.textContent = text + " ";
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "link-button";
    discard.textContent = window.helpdeskText("drafts.discard", "Discard draft");
    discard.addEventListener("click", function () {
      onDiscard();
      p.remove();
      box.focus();
    });
    p.appendChild(discard);
    box.insertAdjacentElement("afterend", p);
  }

  function watch(form) {
    var key = PREFIX + form.getAttribute("data-draft-key");
    var box = form.querySelector("textarea[name='" + (form.getAttribute("data-draft-field") || "body") + "']");
    if (!box) return;
    var saved = local.getItem(key);
    if (saved && !box.value.trim()) {
      box.value = saved;
      // A box that only matters when it has a draft (a ticket page that is no longer reachable).
      var reveal = form.closest("[data-draft-reveal]");
      if (reveal) reveal.hidden = false;
      note(box, window.helpdeskText("drafts.restored", "Your unsent text was restored."), function () {
        local.removeItem(key);
        box.value = "";
      });
    }
    var timer = null;
    function save() {
      timer = null;
      if (signingOut) return;
      if (box.value.trim()) local.setItem(key, box.value);
      else local.removeItem(key);
    }
    box.addEventListener("input", function () {
      if (timer) clearTimeout(timer);
      timer = setTimeout(save, SAVE_DELAY_MS);
    });
    // A reload or a closed tab before the delay ran still keeps the last keystrokes.
    window.addEventListener("pagehide", function () { if (timer) { clearTimeout(timer); save(); } });
    form.addEventListener("submit", function () {
      if (timer) { clearTimeout(timer); save(); }
      if (session && box.value.trim()) session.setItem(SENT, key);
    });
  }

  function start() {
    settleSentDraft();
    document.querySelectorAll("form[data-draft-key]").forEach(watch);
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (form instanceof HTMLFormElement && /\/logout\/$/.test(new URL(form.action, location.href).pathname)) clearAll();
    }, true);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
