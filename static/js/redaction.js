/* Redaction: text selected in the message's text fills the "Text to redact" box, and on the
 * ticket page a selection inside a message is carried to its Redact link (?text=...). */
(function () {
  "use strict";

  function selectionInside(node) {
    var selection = window.getSelection();
    if (!selection || selection.isCollapsed || !node) {
      return "";
    }
    var range = selection.getRangeAt(0);
    return node.contains(range.commonAncestorContainer) ? selection.toString() : "";
  }

  var source = document.getElementById("redact-source");
  var box = document.getElementById("id_text");
  if (source && box) {
    document.addEventListener("selectionchange", function () {
      var text = selectionInside(source);
      if (text.trim()) {
        box.value = text.trim();
      }
    });
  }

  /* Pressing the link may clear the selection first: remember the last one made in a message. */
  var last = { id: null, text: "" };
  document.addEventListener("selectionchange", function () {
    var selection = window.getSelection();
    if (!selection || selection.isCollapsed) {
      return;
    }
    var node = selection.getRangeAt(0).commonAncestorContainer;
    var element = node.nodeType === 1 ? node : node.parentElement;
    var body = element && element.closest ? element.closest(".message-body") : null;
    var article = body && body.closest("article.message");
    if (article) {
      last = { id: article.id, text: selection.toString().trim() };
    }
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a.message-redact") : null;
    if (!link) {
      return;
    }
    var id = "message-" + link.getAttribute("data-message-id");
    var text = last.id === id ? last.text : "";
    if (text) {
      event.preventDefault();
      window.location.href = link.href.split("?")[0] + "?text=" + encodeURIComponent(text);
    }
  });
})();
