// After a form comes back with errors, put the person where the problem is: the error summary
// (templates/form_error_summary.html) gets the focus, so a screen reader reads "There are 2
// problems" and its links, and the page scrolls to it; without a summary, the first invalid field
// (Django marks it aria-invalid="true") gets it. A link of the summary moves the focus to its field
// and keeps the field's label in view (the GOV.UK error-summary pattern).
(function () {
  "use strict";

  function focusField(field) {
    var label = field.id ? document.querySelector('label[for="' + CSS.escape(field.id) + '"]') : null;
    field.focus({ preventScroll: true });
    (label || field).scrollIntoView({ block: "center" });
  }

  function start() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.addEventListener("click", function (event) {
        var link = event.target.closest("a[href^='#']");
        if (!link) return;
        var field = document.getElementById(decodeURIComponent(link.getAttribute("href").slice(1)));
        if (!field) return;
        event.preventDefault();
        focusField(field);
      });
      summary.focus({ preventScroll: true });
      summary.scrollIntoView({ block: "start" });
      return;
    }
    var invalid = document.querySelector('[aria-invalid="true"]');
    if (invalid) focusField(invalid);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

// The texts the scripts show, in the page's language: templates/script_texts.html renders them
// (translated like any template) into a JSON block; a script asks for one by key, with the English
// text as the fallback and {name} placeholders filled in. forms.js loads first on every page.
window.helpdeskText = function (key, fallback, values) {
  var source = document.getElementById("script-texts");
  var texts = {};
  try {
    texts = source ? JSON.parse(source.textContent) : {};
  } catch (error) {
    texts = {};
  }
  var text = texts[key] || fallback;
  Object.keys(values || {}).forEach(function (name) {
    text = text.split("{" + name + "}").join(values[name]);
  });
  return text;
};
