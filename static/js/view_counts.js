/* The list views' counts stay current: when the live list changes (static/js/live.js adds,
 * updates or removes rows), the counts are fetched again, at most once a second. Saved searches
 * come without a count (data-later: a search is not run while the page is built), and so does
 * every view on a search's own page; they are fetched once the page has loaded. */
(function () {
  "use strict";
  var nav = document.querySelector("nav.list-views[data-counts-url]");
  var rows = document.getElementById("ticket-rows");
  if (!nav || !rows || !window.MutationObserver) return;
  var timer = null;
  var busy = false;

  function refresh() {
    timer = null;
    if (busy) { schedule(); return; }
    busy = true;
    fetch(nav.dataset.countsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (counts) {
        if (!counts) return;
        nav.querySelectorAll(".view-count[data-view]").forEach(function (badge) {
          var value = counts[badge.dataset.view];
          if (value === undefined) return;
          if (badge.textContent !== String(value)) badge.textContent = value;
          if (badge.hasAttribute("data-later")) {
            badge.removeAttribute("data-later");
            badge.hidden = false;
          }
        });
      })
      .catch(function () { /* offline: the counts wait for the next change */ })
      .then(function () { busy = false; });
  }

  function schedule() {
    if (timer === null) timer = window.setTimeout(refresh, 1000);
  }

  new MutationObserver(schedule).observe(rows, { childList: true, subtree: true, characterData: true });
  if (nav.querySelector(".view-count[data-later]")) refresh();
})();
