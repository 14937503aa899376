/* Live pages: keeps a page current over its websocket (htmx ws extension).
 *
 * The socket element (rendered by {% live_socket %}) carries the page's cursor:
 * the id of the last event the page shows. On every (re)connect the page sends
 * it and gets what it missed, then every new change as it commits. Each
 * operation is idempotent (swap by DOM id; insert only if absent), so a replay
 * never duplicates a row. The element is also the status indicator:
 * data-live-state = connecting | live | reconnecting | offline.
 * Protocol: apps/live/consumers.py. */
(function () {
  "use strict";

  var SEL = "[data-live-cursor]";
  var PING_EVERY = 25000;  // heartbeat; also lets the server repair lost broadcasts
  var PONG_WITHIN = 10000;  // no answer by then: the connection is dead, reconnect
  var RETRY_CODES = [1006, 1011, 1012, 1013];  // the extension reconnects on these itself
  var PERMANENT_CODES = [4404];  // the page is gone or not ours to see
  var SEEN_MAX = 5000;
  var KEEP_CLASSES = ["selected", "current"];
  var LABELS = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…", offline: "Offline" };

  var unloading = false;
  window.addEventListener("pagehide", function () { unloading = true; });

  // Reconnect soon after a restart, back off when the server stays away (max ~10 s).
  if (window.htmx) {
    htmx.config.wsReconnectDelay = function (retry) {
      return Math.min(10000, 300 * Math.pow(2, retry)) * (0.5 + Math.random() / 2);
    };
    var created = null;
    htmx.createWebSocket = function (url) {
      created = new WebSocket(url, []);
      created.binaryType = htmx.config.wsBinaryType;
      return created;
    };
  }

  function live(elt) {
    if (!elt._live) {
      elt._live = { socket: null, wrapper: null, seen: new Set(), seenOrder: [], failures: 0,
                    pingTimer: null, pongTimer: null, retryTimer: null, pending: 0, opened: false };
    }
    return elt._live;
  }

  function cursor(elt) { return parseInt(elt.getAttribute("data-live-cursor"), 10) || 0; }

  function setState(elt, state) {
    elt.setAttribute("data-live-state", state);
    var label = elt.querySelector(".live-label");
    if (label) label.textContent = LABELS[state];
    elt.title = state === "live" ? "Changes appear as they happen" :
      state === "offline" ? "Not receiving changes: reload the page" : "Reconnecting to receive changes";
  }

  function send(elt, message) {
    var l = live(elt);
    if (l.wrapper) l.wrapper.send(JSON.stringify(message));
  }

  // --- connection lifecycle --------------------------------------------------------

  document.addEventListener("htmx:wsConnecting", function (e) {
    var elt = e.target;
    if (!elt.matches || !elt.matches(SEL)) return;
    live(elt).socket = created;
    if (elt.getAttribute("data-live-state") !== "offline") {
      setState(elt, live(elt).failures ? "reconnecting" : "connecting");
    }
  });

  document.addEventListener("htmx:wsOpen", function (e) {
    var elt = e.target;
    if (!elt.matches || !elt.matches(SEL)) return;
    var l = live(elt);
    l.wrapper = e.detail.socketWrapper;
    // The first connection asks only for what changed after the cursor the page was
    // rendered with: re-rendering every row would replace rows under the user's
    // clicks. A reconnect also refreshes the rows shown, in case broadcasts were lost
    // while away (rows that come back unchanged are left alone: see replace()).
    var resume = { type: "resume", last: cursor(elt) };
    if (l.opened) resume.patches = shownPatches();
    l.opened = true;
    send(elt, resume);
    startHeartbeat(elt);
  });

  document.addEventListener("htmx:wsClose", function (e) {
    var elt = e.target;
    if (!elt.matches || !elt.matches(SEL)) return;
    var l = live(elt);
    var socket = e.detail.event && e.detail.event.target;
    if (socket && l.socket && socket !== l.socket) return;  // an old socket we replaced
    stopHeartbeat(elt);
    var code = e.detail.event ? e.detail.event.code : 1006;
    if (unloading || !document.body.contains(elt)) return;
    l.failures += 1;
    if (PERMANENT_CODES.indexOf(code) >= 0) { setState(elt, "offline"); return; }
    setState(elt, l.failures > 3 || navigator.onLine === false ? "offline" : "reconnecting");
    if (RETRY_CODES.indexOf(code) < 0) scheduleReconnect(elt);
  });

  function scheduleReconnect(elt) {
    var l = live(elt);
    clearTimeout(l.retryTimer);
    var delay = htmx.config.wsReconnectDelay(Math.min(l.failures, 6));
    l.retryTimer = setTimeout(function () { reconnect(elt); }, delay);
  }

  function reconnect(elt) {
    var l = live(elt);
    if (!l.wrapper || !document.body.contains(elt)) return;
    clearTimeout(l.retryTimer);
    stopHeartbeat(elt);
    if (l.socket) {  // leave it quietly: its close must not trigger another reconnect
      l.socket.onclose = null;
      l.socket.onerror = null;
      try { l.socket.close(); } catch (err) { /* already closed */ }
    }
    setState(elt, "reconnecting");
    l.wrapper.reconnect();
  }

  function startHeartbeat(elt) {
    var l = live(elt);
    stopHeartbeat(elt);
    l.pingTimer = setInterval(function () { ping(elt); }, PING_EVERY);
  }

  function stopHeartbeat(elt) {
    var l = live(elt);
    clearInterval(l.pingTimer);
    clearTimeout(l.pongTimer);
    l.pongTimer = null;
  }

  function ping(elt) {
    var l = live(elt);
    if (l.pongTimer) return;
    send(elt, { type: "ping", last: cursor(elt) });
    l.pongTimer = setTimeout(function () { l.pongTimer = null; reconnect(elt); }, PONG_WITHIN);
  }

  function allSockets(fn) { document.querySelectorAll(SEL).forEach(fn); }

  window.addEventListener("online", function () {
    allSockets(function (elt) { if (elt.getAttribute("data-live-state") !== "live") reconnect(elt); });
  });
  document.addEventListener("visibilitychange", function () {
    // After a laptop sleep the socket may be dead without knowing it: ask.
    if (document.visibilityState === "visible") allSockets(ping);
  });

  // --- messages ------------------------------------------------------------------

  document.addEventListener("htmx:wsBeforeMessage", function (e) {
    var elt = e.target;
    if (!elt.matches || !elt.matches(SEL)) return;
    e.preventDefault();  // our messages are JSON, applied below, not htmx swaps
    var message;
    try { message = JSON.parse(e.detail.message); } catch (err) { return; }
    var l = live(elt);
    clearTimeout(l.pongTimer);
    l.pongTimer = null;
    if (message.type === "events") {
      l.failures = 0;
      applyEvents(elt, message);
      setState(elt, "live");
    } else if (message.type === "reload") {
      reloadRegions(elt, message.regions || []);
    } else if (message.type === "error" && window.console) {
      console.warn("live:", message.error);
    }
  });

  function remember(elt, id) {
    var l = live(elt);
    if (l.seen.has(id)) return false;
    l.seen.add(id);
    l.seenOrder.push(id);
    if (l.seenOrder.length > SEEN_MAX) l.seen.delete(l.seenOrder.shift());
    return true;
  }

  function applyEvents(elt, message) {
    var ids = message.events || [];
    var fresh = ids.filter(function (id) { return remember(elt, id); });
    // A live event already applied (it came in a replay too) is not applied again.
    if (!message.replay && ids.length && !fresh.length) return;
    (message.ops || []).forEach(function (op) {
      try { applyOp(op); } catch (err) { if (window.console) console.error("live op failed", op, err); }
    });
    if (message.cursor > cursor(elt)) elt.setAttribute("data-live-cursor", String(message.cursor));
    // For whoever watches (tests, other scripts): the events applied now for the first time.
    document.dispatchEvent(new CustomEvent("live:applied", { detail: { events: fresh, ops: message.ops } }));
  }

  function reloadRegions(elt, regions) {
    setState(elt, "reconnecting");
    regions.forEach(function (id) {
      if (!document.getElementById(id)) return;
      // The region holds this socket element: the fresh copy reconnects with its own cursor.
      htmx.ajax("GET", location.href, { target: "#" + id, swap: "outerHTML", select: "#" + id });
    });
  }

  // --- operations ------------------------------------------------------------------

  function parse(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  // The same markup, apart from what the page itself adds to the element (its
  // classes and title: selection, flashes, "no longer matches").
  function sameContent(old, node) {
    var a = old.cloneNode(true), b = node.cloneNode(true);
    [a, b].forEach(function (el) { ["class", "title", "data-live-pending"].forEach(function (attr) { el.removeAttribute(attr); }); });
    return a.isEqualNode(b);
  }

  function replace(old, node, op) {
    if (sameContent(old, node)) {
      // Nothing to show: the element (its checkbox, focus, place in a range) stays.
      if (op.nomatch !== undefined && !old.hasAttribute("data-live-pending")) markMatch(old, old, op.nomatch);
      return;
    }
    KEEP_CLASSES.forEach(function (cls) { if (old.classList.contains(cls)) node.classList.add(cls); });
    var oldBox = old.querySelector("input[type=checkbox]");
    var newBox = node.querySelector("input[type=checkbox]");
    if (oldBox && newBox && oldBox.name === newBox.name) newBox.checked = oldBox.checked;
    keepChoices(old, node);
    var hadFocus = old.contains(document.activeElement);
    var wasPending = old.hasAttribute("data-live-pending");
    if (wasPending) node.setAttribute("data-live-pending", old.getAttribute("data-live-pending"));
    if (op.nomatch !== undefined && !wasPending) markMatch(old, node, op.nomatch);
    old.replaceWith(node);
    if (window.htmx) htmx.process(node);
    if (hadFocus) {
      var target = node.querySelector("a, button, input") || node;
      target.focus({ preventScroll: true });
    }
  }

  // A choice the user made in a select of the old element (one the swap would reset,
  // like a series-wide action being prepared) stays made in the new one.
  function keepChoices(old, node) {
    old.querySelectorAll("select[name]:not([multiple])").forEach(function (select) {
      var initial = 0;  // the option shown before the user chose (the first, unless marked)
      Array.prototype.forEach.call(select.options, function (o, i) { if (o.defaultSelected) initial = i; });
      if (select.selectedIndex === initial) return;
      var twin = node.querySelector("select[name='" + CSS.escape(select.name) + "']:not([multiple])");
      if (twin && Array.prototype.some.call(twin.options, function (o) { return o.value === select.value; })) {
        twin.value = select.value;
      }
    });
  }

  // A row that stops matching the filters stays, marked as leaving, and stops
  // counting: the summary says how many rows match and how many are leaving.
  function markMatch(old, node, nomatch) {
    var was = old.classList.contains("live-nomatch");
    node.classList.toggle("live-nomatch", nomatch);
    if (nomatch) node.title = "No longer matches this list's filters; it leaves when the list is refreshed";
    else if (node === old) node.removeAttribute("title");
    if (nomatch === was) return;
    var delta = nomatch ? -1 : 1;
    adjustCount("total", delta);
    adjustCount("shown", delta);
    adjustCount("leaving", -delta);
  }

  function applyOp(op) {
    var node = parse(op.html || "");
    if (!node) return;
    var old = document.getElementById(op.id);
    if (op.reveal) {
      var hidden = document.getElementById(op.reveal);
      if (hidden) hidden.hidden = false;
    }
    if (old) {
      // A form the user is filling in keeps their input; it is fresh on next load.
      if (op.keep_while_editing && old.contains(document.activeElement)) return;
      replace(old, node, op);
      return;
    }
    if (op.op !== "upsert") return;  // a replace for something this page does not show
    var container = document.getElementById(op.into);
    if (!container) return;
    if (op.at === "sorted") {
      var key = String(op.key || "");
      var attr = op.sort_attr || "data-live-sort";
      node.setAttribute(attr, key);
      var before = null;
      Array.prototype.some.call(container.children, function (child) {
        var other = child.getAttribute(attr);
        if (other !== null && compareKeys(other, key) > 0) { before = child; return true; }
        return false;
      });
      container.insertBefore(node, before);
    } else if (op.at === "bottom") {
      container.appendChild(node);
    } else if (op.at === "top" && !readingBelow(container)) {
      container.insertBefore(node, container.firstElementChild);
      adjustCount("total", 1);
      adjustCount("shown", 1);
    } else {
      addPending(container, node, op.at === "top");
      adjustCount("total", 1);
    }
    if (window.htmx) htmx.process(node);
    node.classList.add("live-new");
  }

  function compareKeys(a, b) {
    var na = parseFloat(a), nb = parseFloat(b);
    if (!isNaN(na) && !isNaN(nb) && String(na) === a && String(nb) === b) return na - nb;
    return a < b ? -1 : a > b ? 1 : 0;
  }

  // Inserting above what the user reads would move it: the row waits behind a bar.
  function readingBelow(container) {
    var rect = container.getBoundingClientRect();
    return rect.top < 0 || document.querySelector("#patch-table tr.selected") !== null;
  }

  // The rows the page shows, refreshed on resume: patches (the series list: its series).
  function shownPatches() {
    var ids = [];
    if (document.querySelector("[data-live-kind='serieslist']")) {
      document.querySelectorAll("tr[id^='series-row-']").forEach(function (row) {
        var id = parseInt(row.getAttribute("data-series-id"), 10);
        if (id && ids.indexOf(id) < 0) ids.push(id);
      });
      return ids.slice(0, 1000);
    }
    document.querySelectorAll("tr[id^='patch-row-'], [data-live-patch]").forEach(function (row) {
      var id = parseInt(row.getAttribute("data-patch-id") || row.getAttribute("data-live-patch"), 10);
      if (id && ids.indexOf(id) < 0) ids.push(id);
    });
    return ids.slice(0, 1000);
  }

  function adjustCount(which, delta) {
    document.querySelectorAll("[data-live-count='" + which + "']").forEach(function (el) {
      var n = parseInt(el.textContent, 10);
      if (isNaN(n)) return;
      el.textContent = String(n + delta);
      // A counter inside a [data-live-hide-zero] note shows only while it is not zero.
      var note = el.closest("[data-live-hide-zero]");
      if (note) note.hidden = n + delta === 0;
    });
  }

  // --- the "N new patches" bar ---------------------------------------------------------

  function pendingStore(container) {
    var id = container.id + "-pending";
    var store = document.getElementById(id);
    if (!store) {
      var table = document.createElement("table");
      table.hidden = true;
      table.className = "live-pending";
      store = document.createElement("tbody");
      store.id = id;
      table.appendChild(store);
      var bar = document.createElement("div");
      bar.className = "live-new-bar";
      bar.id = container.id + "-bar";
      bar.hidden = true;
      bar.innerHTML = '<button type="button" class="live-new-button"></button>';
      bar.querySelector("button").addEventListener("click", function () { showPending(container); });
      var anchor = container.closest("table") || container;
      anchor.parentNode.insertBefore(bar, anchor);
      anchor.parentNode.insertBefore(table, anchor);
    }
    return store;
  }

  function addPending(container, node, placeable) {
    var store = pendingStore(container);
    node.setAttribute("data-live-pending", placeable ? "top" : "elsewhere");
    store.insertBefore(node, store.firstElementChild);
    updateBar(container);
  }

  function updateBar(container) {
    var store = pendingStore(container);
    var bar = document.getElementById(container.id + "-bar");
    var n = store.children.length;
    bar.hidden = n === 0;
    // The container may name what it holds (data-live-one / data-live-many).
    var one = container.getAttribute("data-live-one") || "new patch";
    var many = container.getAttribute("data-live-many") || "new patches";
    bar.querySelector("button").textContent =
      n === 1 ? "1 " + one + " — show it" : n + " " + many + " — show them";
  }

  function showPending(container) {
    var store = pendingStore(container);
    var rows = Array.prototype.slice.call(store.children);
    var elsewhere = rows.some(function (r) { return r.getAttribute("data-live-pending") !== "top"; });
    if (elsewhere) {
      // Their place is not in this view (other sort or page): show the list afresh.
      var sock = document.querySelector(SEL);
      rows.forEach(function (r) { r.remove(); });
      updateBar(container);
      if (sock) reloadRegions(sock, [sock.getAttribute("data-live-region")]);
      return;
    }
    rows.reverse().forEach(function (row) {
      row.removeAttribute("data-live-pending");
      container.insertBefore(row, container.firstElementChild);
      adjustCount("shown", 1);
    });
    updateBar(container);
    container.scrollIntoView({ block: "start" });
  }
})();
