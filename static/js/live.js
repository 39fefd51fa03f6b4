/* Live updates of the ticket page and the ticket list over a websocket.
 *
 * Any element with data-live-url gets a connection to that path on this host. The server sends
 * JSON frames rendered for the signed-in member (the same fragments the page renders):
 *   {type: "message", id, html}        a new message on the ticket page, appended or replaced
 *   {type: "ticket", id, status, ...}  header fields of the ticket page
 *   {type: "row", id, html}            a row of the ticket list, inserted or moved to the top
 *   {type: "row.removed", id}          a row that left this member's list
 * It reconnects with backoff and, after a reconnect, re-reads the page once to pick up what was
 * missed while offline. No inline script, no build step.
 */
(function () {
  "use strict";

  var BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];
  var GIVE_UP_AFTER = 10; // consecutive failed attempts without a single open connection
  var CLOSE_FORBIDDEN = 4403;
  var CLOSE_NOT_FOUND = 4404;
  var FLASH_MS = 2500;
  var LABELS = {
    connecting: "Connecting…",
    live: "Live",
    reconnecting: "Reconnecting…",
    offline: "Offline: reload the page to see new activity",
    ended: "Live updates stopped"
  };

  function socketUrl(path) {
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + window.location.host + path;
  }

  function fragment(html) {
    var template = document.createElement("template");
    template.innerHTML = (html || "").trim();
    return template.content.firstElementChild;
  }

  function flash(node) {
    node.classList.add("live-new");
    window.setTimeout(function () {
      node.classList.remove("live-new");
    }, FLASH_MS);
  }

  function indicatorFor(target) {
    var existing = document.getElementById("live-indicator");
    if (existing) {
      return existing;
    }
    var node = document.createElement("span");
    node.id = "live-indicator";
    var anchor = target.closest(".table-wrap") || target;
    anchor.parentNode.insertBefore(node, anchor);
    return node;
  }

  function setState(indicator, state) {
    indicator.classList.add("live-indicator");
    indicator.hidden = false;
    indicator.setAttribute("role", "status");
    indicator.setAttribute("data-state", state);
    indicator.textContent = LABELS[state];
  }

  function connect(target, handlers, resync) {
    var indicator = indicatorFor(target);
    var failures = 0;
    var everOpened = false;
    var socket = null;

    function open() {
      setState(indicator, everOpened ? "reconnecting" : "connecting");
      socket = new WebSocket(socketUrl(target.getAttribute("data-live-url")));
      socket.addEventListener("open", function () {
        var wasReconnect = everOpened;
        failures = 0;
        everOpened = true;
        setState(indicator, "live");
        if (wasReconnect && resync) {
          resync();
        }
      });
      socket.addEventListener("message", function (event) {
        var data;
        try {
          data = JSON.parse(event.data);
        } catch (error) {
          return;
        }
        var handle = handlers[data.type];
        if (handle) {
          handle(data);
        }
      });
      socket.addEventListener("close", function (event) {
        socket = null;
        if (event.code === CLOSE_FORBIDDEN || event.code === CLOSE_NOT_FOUND) {
          setState(indicator, "ended");
          return;
        }
        failures += 1;
        if (failures > GIVE_UP_AFTER) {
          setState(indicator, "offline");
          return;
        }
        setState(indicator, "reconnecting");
        var delay = BACKOFF_MS[Math.min(failures - 1, BACKOFF_MS.length - 1)];
        window.setTimeout(open, delay + Math.floor(Math.random() * 500));
      });
    }

    window.addEventListener("pagehide", function () {
      if (socket) {
        socket.close(1000);
      }
    });
    open();
  }

  function fetchPage(callback) {
    window
      .fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        return response.ok ? response.text() : null;
      })
      .then(function (text) {
        if (text) {
          callback(new DOMParser().parseFromString(text, "text/html"));
        }
      })
      .catch(function () {});
  }

  /* The ticket page: messages and header fields. */
  function ticketPage(list) {
    function placeMessage(node, id) {
      if (!node.id) {
        node.id = "message-" + id;
      }
      var existing = document.getElementById(node.id);
      if (existing) {
        existing.replaceWith(node);
      } else {
        list.appendChild(node);
      }
      var empty = list.querySelector(".empty");
      if (empty) {
        empty.remove();
      }
      return node;
    }

    function setText(id, text) {
      var node = document.getElementById(id);
      if (node && typeof text === "string") {
        node.textContent = text || node.getAttribute("data-empty-label") || "";
        return node;
      }
      return null;
    }

    var handlers = {
      message: function (data) {
        var node = fragment(data.html);
        if (node) {
          flash(placeMessage(node, data.id));
        }
      },
      ticket: function (data) {
        var status = setText("ticket-status", data.status_label);
        if (status) {
          status.className = status.className.replace(/\bstatus-[a-z]+\b/g, "").trim();
          status.classList.add("status", "status-" + data.status);
          flash(status);
        }
        var priority = setText("ticket-priority", data.priority_label);
        if (priority) {
          priority.className = priority.className.replace(/\bpriority-[a-z]+\b/g, "").trim();
          priority.classList.add("priority-" + data.priority);
        }
        setText("ticket-assignee", data.assignee_label);
        setText("ticket-queue", data.queue_label);
        setText("ticket-subject", data.subject);
      }
    };

    function resync() {
      fetchPage(function (doc) {
        var fresh = doc.getElementById("message-list");
        if (!fresh) {
          return;
        }
        Array.prototype.forEach.call(fresh.children, function (node) {
          if (node.id && !document.getElementById(node.id)) {
            placeMessage(document.importNode(node, true), "");
          }
        });
      });
    }

    connect(list, handlers, resync);
  }

  /* The ticket list: rows appear and move to the top as tickets change. */
  function ticketList(body) {
    // A filtered or later page only updates the rows it shows; the plain first page takes new ones.
    var takesNewRows = !window.location.search;

    var handlers = {
      row: function (data) {
        var node = fragment(data.html);
        if (!node) {
          return;
        }
        if (!node.id) {
          node.id = "ticket-row-" + data.id;
        }
        var existing = document.getElementById(node.id);
        if (existing) {
          existing.remove();
        } else if (!takesNewRows) {
          return;
        }
        body.insertBefore(node, body.firstElementChild);
        document.querySelectorAll("[data-live-empty]").forEach(function (empty) {
          empty.hidden = true;
        });
        var table = body.closest("table");
        if (table) {
          table.hidden = false;
        }
        flash(node);
      },
      "row.removed": function (data) {
        var existing = document.getElementById("ticket-row-" + data.id);
        if (existing) {
          existing.remove();
        }
      }
    };

    function resync() {
      fetchPage(function (doc) {
        var fresh = doc.getElementById("ticket-rows");
        if (fresh) {
          body.replaceChildren.apply(
            body,
            Array.prototype.map.call(fresh.children, function (row) {
              return document.importNode(row, true);
            })
          );
        }
      });
    }

    connect(body, handlers, resync);
  }

  function start() {
    var list = document.getElementById("message-list");
    if (list && list.hasAttribute("data-live-url")) {
      ticketPage(list);
    }
    var rows = document.getElementById("ticket-rows");
    if (rows && rows.hasAttribute("data-live-url")) {
      ticketList(rows);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
