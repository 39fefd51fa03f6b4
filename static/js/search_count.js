/* A search's count line: a page of a search's newest matches is shown before they are counted
 * (tickets.search, newest_subjects); the count is fetched once the page has loaded. Without
 * script the line stays empty and the list is the same. */
(function () {
  "use strict";
  var line = document.querySelector("p.search-summary[data-count-url]");
  if (!line) return;
  fetch(line.dataset.countUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(function (counted) {
      // Markup the server escaped as it escapes the page (the searched words are in it).
      if (counted && counted.html) line.innerHTML = counted.html;
    })
    .catch(function () { /* offline: the list is there, without its count */ });
})();
