/* Live updates of the ticket page and the ticket list over a websocket.
 *
 * The websocket contract is defined once, in Python (tickets/live_contract.py), and handed over
 * by the element the page marks for live updates:
 *   data-live-route   which page behaviour below applies (a key of PAGES)
 *   data-live-url     the socket path on this host
 *   data-live-frames  {"<frame name>": "<type on the wire>"}: the handlers below are keyed by
 *                     frame name (MESSAGE, ROW_REMOVED...) and dispatch on the types read here
 *   data-live-close   {"<close code>": "<action name>"}: what a close by the server means
 *                     (a key of CLOSE_ACTIONS); codes not listed reconnect
 * So this file knows no frame type or close code of its own. The frames carry fragments rendered
 * for the signed-in member, the same ones the page renders. It reconnects with backoff and, after
 * a reconnect, re-reads the page once to pick up what was missed while offline. No inline
 * script, no build step.
 */
(function () {
  "use strict";

  var SECOND_MS = 1000;
  var BACKOFF_SECONDS = [1, 2, 4, 8, 15, 30];
  var JITTER_MS = 500;
  var GIVE_UP_AFTER = 10; // consecutive failed attempts without a single open connection
  var FLASH_MS = 2500;
  var text = window.helpdeskText;
  var LABELS = {
    connecting: text("live.connecting", "Connecting…"),
    live: text("live.live", "Live"),
    reconnecting: text("live.reconnecting", "Reconnecting…"),
    offline: text("live.offline", "Offline: reload the page to see new activity"),
    ended: text("live.ended", "Live updates stopped")
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

  function readJson(target, name) {
    try {
      var value = JSON.parse(target.getAttribute(name) || "{}");
      return value && typeof value === "object" ? value : {};
    } catch (error) {
      return {};
    }
  }

  /* The contract the page hands over: the socket path, the handler of each wire type, the
   * action name of each close code. */
  function readContract(target, handlers) {
    var frames = readJson(target, "data-live-frames");
    var byType = Object.create(null);
    Object.keys(frames).forEach(function (name) {
      if (Object.prototype.hasOwnProperty.call(handlers, name)) {
        byType[frames[name]] = handlers[name];
      }
    });
    return {
      url: target.getAttribute("data-live-url"),
      handlerOf: byType,
      closeActions: readJson(target, "data-live-close"),
      sends: readJson(target, "data-live-sends"),
      presence: readJson(target, "data-live-presence")
    };
  }

  /* Opens the page's socket; returns {contract, send(name, fields)}. ``send`` writes a frame of
   * the data-live-sends kind ``name`` when the socket is open and drops it otherwise; onOpen
   * runs after every (re)connect. */
  function connect(target, handlers, resync, onOpen) {
    var contract = readContract(target, handlers);
    var indicator = indicatorFor(target);
    var failures = 0;
    var everOpened = false;
    var socket = null;

    /* Keyed by the action names of data-live-close; a code without an action reconnects. */
    var CLOSE_ACTIONS = {
      END: function () {
        setState(indicator, "ended");
      },
      RETRY: function () {
        failures += 1;
        if (failures > GIVE_UP_AFTER) {
          setState(indicator, "offline");
          return;
        }
        setState(indicator, "reconnecting");
        var delay = BACKOFF_SECONDS[Math.min(failures - 1, BACKOFF_SECONDS.length - 1)] * SECOND_MS;
        window.setTimeout(open, delay + Math.floor(Math.random() * JITTER_MS));
      }
    };

    function open() {
      setState(indicator, everOpened ? "reconnecting" : "connecting");
      socket = new WebSocket(socketUrl(contract.url));
      socket.onopen = function () {
        var wasReconnect = everOpened;
        failures = 0;
        everOpened = true;
        setState(indicator, "live");
        if (wasReconnect && resync) {
          resync();
        }
        if (onOpen) {
          onOpen();
        }
      };
      socket.onmessage = function (event) {
        var data;
        try {
          data = JSON.parse(event.data);
        } catch (error) {
          return;
        }
        var handle = data && contract.handlerOf[data.type];
        if (handle) {
          handle(data);
        }
      };
      socket.onclose = function (event) {
        socket = null;
        var action = CLOSE_ACTIONS[contract.closeActions[String(event.code)]] || CLOSE_ACTIONS.RETRY;
        action();
      };
    }

    window.addEventListener("pagehide", function () {
      if (socket) {
        socket.close();
      }
    });
    open();

    return {
      contract: contract,
      send: function (name, fields) {
        var type = contract.sends[name];
        if (!type || !socket || socket.readyState !== WebSocket.OPEN) {
          return false;
        }
        socket.send(JSON.stringify(Object.assign({ type: type }, fields)));
        return true;
      }
    };
  }

  /* Presence (tickets/presence.py): the sentences of data-presence-labels, "%(name)s" filled in. */
  function presenceText(labels, states, person) {
    var name = Object.keys(states).filter(function (key) {
      return states[key] === person.state;
    })[0];
    return (labels[name] || "%(name)s").replace("%(name)s", person.name);
  }

  function presenceList(labels, states, people) {
    var list = document.createElement("ul");
    list.className = "presence-list";
    people.forEach(function (person) {
      var item = document.createElement("li");
      item.className = "presence-person";
      item.setAttribute("data-state", person.state);
      item.textContent = presenceText(labels, states, person);
      list.appendChild(item);
    });
    return list;
  }

  /* The ticket page's side of presence: says what this person does (viewing, typing a reply or
   * a note: never the text) and shows the others. Only where the page has the region (staff). */
  function ticketPresence(region) {
    var live = null;
    var states = {};
    var labels = region ? readJson(region, "data-presence-labels") : {};
    var current = null;
    var lastSent = 0;
    var idleTimer = null;

    function say(state) {
      current = state;
      lastSent = Date.now();
      live.send("PRESENCE", { state: state });
    }

    function start(connection) {
      live = connection;
      var config = live.contract.presence;
      states = config.states || {};
      current = states.VIEWING;
      var form = document.querySelector(".reply-form");
      var box = form && form.querySelector("textarea");
      if (!region || !box) {
        return;
      }
      function typingState() {
        var mode = form.elements.namedItem("compose_mode");
        return mode && mode.value === "note" ? states.TYPING_NOTE : states.TYPING_REPLY;
      }
      function markMode() {
        form.setAttribute("data-compose", typingState() === states.TYPING_NOTE ? "note" : "reply");
      }
      box.addEventListener("input", function () {
        var state = typingState();
        if (state !== current || Date.now() - lastSent >= config.typing_refresh * SECOND_MS) {
          say(state);
        }
        window.clearTimeout(idleTimer);
        idleTimer = window.setTimeout(function () {
          say(states.VIEWING);
        }, config.typing_idle * SECOND_MS);
      });
      form.addEventListener("change", function (event) {
        if (event.target && event.target.name === "compose_mode") {
          markMode();
          if (current !== states.VIEWING) {
            say(typingState());
          }
        }
      });
      form.addEventListener("submit", function () {
        window.clearTimeout(idleTimer);
        say(states.VIEWING);
      });
      markMode();
      window.setInterval(function () {
        say(current);
      }, config.heartbeat * SECOND_MS);
    }

    return {
      start: start,
      onOpen: function () {
        // A new socket starts from nothing: the server only sends who is there now.
        if (region) {
          region.replaceChildren();
        }
        if (region && live && current && current !== states.VIEWING) {
          say(current);
        }
      },
      show: function (people) {
        if (region) {
          region.replaceChildren.apply(region, people.length ? [presenceList(labels, states, people)] : []);
        }
      }
    };
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

    /* The staff properties form posts the values it showed ("seen_*") and their version, so
     * the server applies only what the person changed. When someone else changes the ticket the
     * form takes the new values and version, unless the person already changed a select: then
     * their choices stay, and a notice says the ticket changed (saving merges or asks again). */
    var propertiesForm = document.getElementById("properties-form");
    // A form shown again after a refusal holds choices the person has not saved yet.
    var propertiesTouched = Boolean(propertiesForm && propertiesForm.getAttribute("data-unsaved"));
    if (propertiesForm) {
      propertiesForm.addEventListener("change", function (event) {
        if (event.target && event.target.tagName === "SELECT") {
          propertiesTouched = true;
        }
      });
    }

    function ensureOption(select, value, label) {
      var found = Array.prototype.some.call(select.options, function (option) {
        return option.value === value;
      });
      if (!found && value) {
        var option = document.createElement("option");
        option.value = value;
        option.textContent = label || value;
        select.appendChild(option);
      }
    }

    function refreshProperties(data) {
      var values = data.properties;
      var version = propertiesForm && propertiesForm.elements.namedItem("version");
      if (!values || !version || Number(values.version) <= Number(version.value)) {
        return;
      }
      if (propertiesTouched) {
        if (!data.changed_by_me) {
          var notice = document.getElementById("properties-notice");
          if (notice) {
            notice.textContent = text(
              "live.changed",
              "{name} changed this ticket; your unsaved choices are kept.",
              { name: data.changed_by || text("live.someone", "Someone") }
            );
            notice.hidden = false;
            flash(notice);
          }
        }
        return;
      }
      var labels = { queue: data.queue_label, assignee: data.assignee_label };
      ["status", "priority", "queue", "assignee"].forEach(function (name) {
        var select = propertiesForm.elements.namedItem(name);
        var seen = propertiesForm.elements.namedItem("seen_" + name);
        if (select) {
          ensureOption(select, values[name], labels[name]);
          select.value = values[name];
        }
        if (seen) {
          seen.value = values[name];
        }
      });
      version.value = String(values.version);
    }

    var presence = ticketPresence(document.getElementById("ticket-presence"));

    var handlers = {
      PRESENCE: function (data) {
        presence.show(data.people || []);
      },
      MESSAGE: function (data) {
        var node = fragment(data.html);
        if (node) {
          flash(placeMessage(node, data.id));
        }
      },
      TICKET: function (data) {
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
        refreshProperties(data);
      }
    };

    function resync() {
      fetchPage(function (doc) {
        var fresh = doc.getElementById(list.id);
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

    presence.start(connect(list, handlers, resync, presence.onOpen));
  }

  /* The ticket list: rows appear and move to the top as tickets change. */
  function ticketList(body) {
    // A filtered or later page, or a narrower view than "All tickets", only updates the rows it
    // shows; the first page of every ticket takes new ones (the server says which, see
    // ticket_list.html's data-takes-new-rows).
    var takesNewRows = body.dataset.takesNewRows
      ? body.dataset.takesNewRows === "true"
      : !window.location.search;
    // A view ("My open", "Pending"...) keeps to its tickets live: a row joins when it matches the
    // view's preset and leaves when it stops matching (data-view-* here, data-* on the rows).
    var viewStatus = body.dataset.viewStatus || "";
    var viewAssignee = body.dataset.viewAssignee || "";
    var DONE = ["solved", "closed"];

    function inView(row) {
      var status = row.dataset.status || "";
      if (viewStatus === "open_any" && DONE.indexOf(status) !== -1) return false;
      if (viewStatus === "done" && DONE.indexOf(status) === -1) return false;
      if (viewStatus && viewStatus !== "open_any" && viewStatus !== "done" && status !== viewStatus) return false;
      return !viewAssignee || row.dataset.assignee === viewAssignee;
    }

    // Presence markers (staff lists only): the people on each row's ticket, by ticket number.
    var presenceRegion = document.getElementById("list-presence");
    var presenceLabels = presenceRegion ? readJson(presenceRegion, "data-presence-labels") : {};
    var presenceStates = {};
    var presenceByNumber = {};
    var live = null;

    function markRow(number) {
      var row = document.getElementById("ticket-row-" + number);
      var cell = row && row.querySelector(".col-subject");
      if (!cell) {
        return "";
      }
      var marker = cell.querySelector(".presence-marker");
      var people = presenceByNumber[number] || [];
      if (!people.length) {
        if (marker) {
          marker.remove();
        }
        return "";
      }
      if (!marker) {
        marker = document.createElement("span");
        marker.className = "presence-marker";
        cell.appendChild(marker);
      }
      var text = people
        .map(function (person) {
          return presenceText(presenceLabels, presenceStates, person);
        })
        .join("; ");
      // The most telling state styles the marker; the words say everyone's.
      var rank = [presenceStates.VIEWING, presenceStates.TYPING_REPLY, presenceStates.TYPING_NOTE];
      var top = people.reduce(function (best, person) {
        return rank.indexOf(person.state) > rank.indexOf(best) ? person.state : best;
      }, presenceStates.VIEWING);
      marker.setAttribute("data-state", top);
      marker.textContent = text;
      return text;
    }

    function watch(numbers) {
      if (presenceRegion && live && numbers.length) {
        live.send("WATCH", { numbers: numbers });
      }
    }

    function shownNumbers() {
      return Array.prototype.map.call(body.querySelectorAll("tr[data-number]"), function (row) {
        return Number(row.getAttribute("data-number"));
      });
    }

    var handlers = {
      ROW_PRESENCE: function (data) {
        if (!presenceRegion) {
          return;
        }
        var before = presenceByNumber[data.id] || [];
        presenceByNumber[data.id] = data.people || [];
        var text = markRow(data.id);
        if (text && JSON.stringify(before) !== JSON.stringify(presenceByNumber[data.id])) {
          presenceRegion.textContent = (presenceLabels.ROW || "#%(number)s: %(people)s")
            .replace("%(number)s", data.id)
            .replace("%(people)s", text);
        }
      },
      ROW: function (data) {
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
          if (!inView(node)) {
            showEmptyIfNoRows();
            return;
          }
        } else if (!takesNewRows || !inView(node)) {
          return;
        }
        body.insertBefore(node, body.firstElementChild);
        if (presenceByNumber[data.id]) {
          markRow(data.id);
        } else if (!existing) {
          watch([data.id]);
        }
        document.querySelectorAll("[data-live-empty]").forEach(function (empty) {
          empty.hidden = true;
        });
        var table = body.closest("table");
        if (table) {
          table.hidden = false;
        }
        flash(node);
      },
      ROW_REMOVED: function (data) {
        var existing = document.getElementById("ticket-row-" + data.id);
        if (existing) {
          existing.remove();
          showEmptyIfNoRows();
        }
      }
    };

    /* The last row left (moved to a queue this member does not work): the page says the list is
     * empty rather than showing bare column headings. A page with a pager has more rows elsewhere,
     * so it keeps its table. */
    function showEmptyIfNoRows() {
      if (body.querySelector("tr") || document.querySelector(".pager")) {
        return;
      }
      var table = body.closest("table");
      if (table) {
        table.hidden = true;
      }
      document.querySelectorAll("[data-live-empty]").forEach(function (empty) {
        empty.hidden = false;
      });
    }

    function resync() {
      fetchPage(function (doc) {
        var fresh = doc.getElementById(body.id);
        if (fresh) {
          body.replaceChildren.apply(
            body,
            Array.prototype.map.call(fresh.children, function (row) {
              return document.importNode(row, true);
            })
          );
          Object.keys(presenceByNumber).forEach(markRow);
        }
      });
    }

    live = connect(body, handlers, resync, function () {
      // A new socket starts from nothing: forget what the last one said, then ask again.
      var marked = Object.keys(presenceByNumber);
      presenceByNumber = {};
      marked.forEach(markRow);
      watch(shownNumbers());
    });
    presenceStates = live.contract.presence.states || {};
  }

  /* Keyed by the route names of data-live-route. */
  var PAGES = {
    ticket: ticketPage,
    ticket_list: ticketList
  };

  function start() {
    document.querySelectorAll("[data-live-route]").forEach(function (target) {
      var page = PAGES[target.getAttribute("data-live-route")];
      if (page && target.id) {
        page(target);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
