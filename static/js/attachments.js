// Attachment inputs (tickets/attachments.py MultipleFileInput): warn before sending a file the
// server would refuse (too large, a program, too many files). The server checks again.
(function () {
  "use strict";

  function extensionOf(name) {
    var cleaned = name.replace(/[\s.]+$/, "");
    var dot = cleaned.lastIndexOf(".");
    return dot > 0 ? cleaned.slice(dot + 1).toLowerCase() : "";
  }

  function formatSize(bytes) {
    if (bytes < 1024) return bytes + " bytes";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
    return (bytes / (1024 * 1024)).toFixed(1) + " MB";
  }

  function problems(input) {
    var maxBytes = parseInt(input.dataset.maxBytes, 10);
    var maxFiles = parseInt(input.dataset.maxFiles, 10);
    var blocked = (input.dataset.blocked || "").split(" ");
    var found = [];
    var text = window.helpdeskText;
    if (input.files.length > maxFiles) found.push(text("attachments.too_many", "Attach at most {max} files at a time.", { max: maxFiles }));
    Array.prototype.forEach.call(input.files, function (file) {
      var ext = extensionOf(file.name);
      if (file.size > maxBytes) {
        found.push(text("attachments.too_large", "“{name}” is too large ({size}). Each file can be at most {limit}.", { name: file.name, size: formatSize(file.size), limit: input.dataset.maxLabel }));
      } else if (file.size === 0) {
        found.push(text("attachments.empty", "“{name}” is empty, so it was not attached.", { name: file.name }));
      } else if (ext && blocked.indexOf(ext) !== -1) {
        found.push(text("attachments.blocked", "“{name}” was not attached: .{ext} files can run programs on a computer and are not accepted.", { name: file.name, ext: ext }));
      }
    });
    return found;
  }

  function check(input) {
    var box = input.parentNode.querySelector(".attachments-client-errors");
    if (!box) {
      box = document.createElement("div");
      box.className = "attachments-client-errors";
      box.setAttribute("role", "alert");
      input.insertAdjacentElement("afterend", box);
    }
    box.textContent = "";
    var found = problems(input);
    found.forEach(function (text) {
      var p = document.createElement("p");
      p.className = "error";
      p.textContent = text;
      box.appendChild(p);
    });
    input.setCustomValidity(found.length ? found[0] : "");
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input instanceof HTMLInputElement && input.type === "file" && "attachments" in input.dataset) {
      check(input);
    }
  });
})();
