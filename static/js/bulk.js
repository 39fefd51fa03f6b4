/* The list's bulk action bar (templates/tickets/_bulk_bar.html, issue 13).
 *
 * Without this file the bar is a plain form that is always shown. With it, the bar appears once
 * a row is ticked and says how many are; "all on this page" ticks every row (and is unticked as
 * soon as one row is), and rows re-rendered by live updates keep their tick. The keyboard
 * shortcut x (static/js/shortcuts.js) ticks the focused row through the same checkbox.
 */
(function () {
  "use strict";

  var form = document.getElementById("bulk-form");
  if (!form) return;
  var rows = document.getElementById("ticket-rows");
  var all = document.getElementById("bulk-all");
  var count = document.getElementById("bulk-count");
  var selected = {};

  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll("input.bulk-select"));
  }

  function refresh() {
    var list = boxes();
    var ticked = list.filter(function (box) { return box.checked; });
    selected = {};
    ticked.forEach(function (box) { selected[box.value] = true; });
    var n = ticked.length;
    form.hidden = n === 0;
    document.body.classList.toggle("bulk-selecting", n > 0);
    if (count) {
      count.textContent = n === 0 ? form.dataset.none : n === 1 ? form.dataset.one : form.dataset.many.replace("{count}", n);
    }
    if (all) {
      all.checked = n > 0 && n === list.length;
      all.indeterminate = n > 0 && n < list.length;
    }
    list.forEach(function (box) {
      var row = box.closest("tr");
      if (row) row.classList.toggle("is-selected", box.checked);
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target === all) {
      boxes().forEach(function (box) { box.checked = all.checked; });
      refresh();
    } else if (target.classList && target.classList.contains("bulk-select")) {
      refresh();
    }
  });

  // A live update replaces a row: give the new one back its tick.
  if (rows && window.MutationObserver) {
    new MutationObserver(function () {
      boxes().forEach(function (box) { if (selected[box.value]) box.checked = true; });
      refresh();
    }).observe(rows, { childList: true, subtree: true });
  }

  refresh();
})();
