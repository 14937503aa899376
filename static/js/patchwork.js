/* Patchwork pages: selection and keyboard triage on patch lists, copy buttons,
 * bundle reordering. Works with htmx swaps: state lives in the DOM and is
 * re-read after every swap. Pages work without this file; it only adds speed. */
(function () {
  "use strict";

  // --- small helpers ---------------------------------------------------------
  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  var toastTimer = null;
  function toast(text) {
    var el = $("#toast");
    if (!el) return;
    el.textContent = text;
    el.classList.add("show");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { el.classList.remove("show"); }, 2000);
  }

  function typingInField(event) {
    var t = event.target;
    if (!t || !t.tagName) return false;
    var tag = t.tagName.toLowerCase();
    if (tag === "input") {
      var type = (t.getAttribute("type") || "text").toLowerCase();
      return ["checkbox", "radio", "button", "submit", "reset"].indexOf(type) < 0;
    }
    return tag === "select" || tag === "textarea" || t.isContentEditable;
  }

  // --- copy buttons ----------------------------------------------------------
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } finally { document.body.removeChild(area); }
    return Promise.resolve();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    event.preventDefault();
    copyText(button.getAttribute("data-copy")).then(function () {
      toast("Copied: " + button.getAttribute("data-copy"));
    });
  });

  // --- patch list: selection ---------------------------------------------------
  var currentId = null;  // the row keyboard commands act on
  // The anchor of a shift-click range, by patch id: a live update may swap the row.
  var anchorId = null;

  function rows() { return $$("#patch-table tbody tr.patch-row"); }
  function rowBox(row) { return row.querySelector("input[name=patch_id]"); }
  function selectedIds() {
    return rows().filter(function (r) { var b = rowBox(r); return b && b.checked; })
      .map(function (r) { return r.getAttribute("data-patch-id"); });
  }

  function syncSelection() {
    var all = rows();
    var count = 0;
    all.forEach(function (row) {
      var box = rowBox(row);
      var on = !!(box && box.checked);
      row.classList.toggle("selected", on);
      if (on) count++;
      row.classList.toggle("current", row.getAttribute("data-patch-id") === currentId);
    });
    var counter = $("#selected-count");
    if (counter) counter.textContent = count + " selected";
    var selectAll = $("#select-all");
    if (selectAll) {
      selectAll.checked = all.length > 0 && count === all.length;
      selectAll.indeterminate = count > 0 && count < all.length;
    }
  }

  document.addEventListener("click", function (event) {
    var box = event.target;
    if (box.matches && box.matches("#patch-table tbody input[name=patch_id]")) {
      var row = box.closest("tr");
      var anchor = anchorId === null ? null : document.getElementById("patch-row-" + anchorId);
      if (event.shiftKey && anchor && anchor !== row) {
        var all = rows();
        var a = all.indexOf(anchor), b = all.indexOf(row);
        var lo = Math.min(a, b), hi = Math.max(a, b);
        for (var i = lo; i <= hi; i++) { var rb = rowBox(all[i]); if (rb) rb.checked = box.checked; }
      }
      anchorId = currentId = row.getAttribute("data-patch-id");
      syncSelection();
      return;
    }
    if (box.matches && box.matches("#select-all")) {
      rows().forEach(function (r) { var rb = rowBox(r); if (rb) rb.checked = box.checked; });
      syncSelection();
      return;
    }
    var clickedRow = event.target.closest && event.target.closest("#patch-table tbody tr.patch-row");
    if (clickedRow && !event.target.closest("a, input, button, select")) {
      currentId = clickedRow.getAttribute("data-patch-id");
      syncSelection();
    }
  });

  // --- patch list: keyboard triage ---------------------------------------------
  function stateKeys() {
    var el = $("#state-keys");
    if (!el) return {};
    try { return JSON.parse(el.textContent); } catch (e) { return {}; }
  }

  function currentRow() {
    if (currentId === null) return null;
    return document.getElementById("patch-row-" + currentId);
  }

  function move(delta) {
    var all = rows();
    if (!all.length) return;
    var index = all.indexOf(currentRow());
    index = index < 0 ? (delta > 0 ? 0 : all.length - 1) : Math.max(0, Math.min(all.length - 1, index + delta));
    currentId = all[index].getAttribute("data-patch-id");
    syncSelection();
    all[index].scrollIntoView({ block: "nearest" });
    var link = all[index].querySelector("td.name a");
    if (link) link.focus({ preventScroll: true });
  }

  function setState(slug) {
    var form = $("#bulk-form");
    if (!form || !window.htmx) return;
    var ids = selectedIds();
    var advance = false;
    if (!ids.length) {
      var row = currentRow();
      if (!row) { toast("Move to a patch with j/k or select some with x first"); return; }
      ids = [row.getAttribute("data-patch-id")];
      advance = true;
    }
    window.htmx.ajax("POST", form.getAttribute("action"), {
      target: "#bulk-status",
      swap: "innerHTML",
      values: { action: "update", state: slug, patch_id: ids, keep_selection: advance ? "0" : "1" }
    }).then(function () { syncSelection(); });
    if (advance) move(1);
  }

  // The footer's "? keyboard shortcuts" (only on pages that have the dialog).
  document.addEventListener("click", function (event) {
    var opener = event.target.closest && event.target.closest("[data-shortcuts-open]");
    var dialog = $("#shortcuts");
    if (opener && dialog && dialog.showModal) dialog.showModal();
  });

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typingInField(event)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    var dialog = $("#shortcuts");
    if (event.key === "?") {
      if (dialog && dialog.showModal) { event.preventDefault(); dialog.showModal(); }
      return;
    }
    if (!$("#patch-table")) return;
    var key = event.key;
    if (key === "j") { event.preventDefault(); move(1); }
    else if (key === "k") { event.preventDefault(); move(-1); }
    else if (key === "x") {
      var row = currentRow();
      var box = row && rowBox(row);
      if (box) { event.preventDefault(); box.checked = !box.checked; anchorId = currentId; syncSelection(); }
    }
    else if (key === "o" || (key === "Enter" && event.target === document.body)) {
      var r = currentRow();
      if (r) { event.preventDefault(); window.location.href = r.getAttribute("data-href"); }
    }
    else if (key === "/") {
      var search = $("#filter-q");
      if (search) { event.preventDefault(); search.focus(); }
    }
    else if (!event.shiftKey && stateKeys()[key]) {
      event.preventDefault();
      setState(stateKeys()[key]);
    }
  });

  // --- bundles: drag-and-drop and move buttons ---------------------------------
  var dragged = null;
  function bundleList() { return $("#bundle-patches[data-reorder-url]"); }

  function saveOrder() {
    var list = bundleList();
    if (!list || !window.htmx) return;
    var ids = $$("li[data-patch-id]", list).map(function (li) { return li.getAttribute("data-patch-id"); });
    window.htmx.ajax("POST", list.getAttribute("data-reorder-url"), {
      target: "#bundle-status", swap: "innerHTML",
      values: { action: "reorder", patch_id: ids }
    });
    $$("li[data-patch-id] .order", list).forEach(function (el, i) { el.textContent = String(i + 1); });
  }

  document.addEventListener("dragstart", function (event) {
    var li = event.target.closest && event.target.closest("#bundle-patches li[data-patch-id]");
    if (!li) return;
    dragged = li;
    li.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", li.getAttribute("data-patch-id"));
  });
  document.addEventListener("dragover", function (event) {
    if (!dragged) return;
    var li = event.target.closest && event.target.closest("#bundle-patches li[data-patch-id]");
    if (!li || li === dragged) return;
    event.preventDefault();
    var box = li.getBoundingClientRect();
    var after = event.clientY > box.top + box.height / 2;
    $$("#bundle-patches li").forEach(function (x) { x.classList.remove("drop-before", "drop-after"); });
    li.classList.add(after ? "drop-after" : "drop-before");
  });
  document.addEventListener("drop", function (event) {
    if (!dragged) return;
    var li = event.target.closest && event.target.closest("#bundle-patches li[data-patch-id]");
    if (!li || li === dragged) return;
    event.preventDefault();
    var after = li.classList.contains("drop-after");
    li.parentNode.insertBefore(dragged, after ? li.nextSibling : li);
    saveOrder();
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    $$("#bundle-patches li").forEach(function (x) { x.classList.remove("drop-before", "drop-after"); });
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-move]");
    if (!button || !bundleList()) return;
    event.preventDefault();
    var li = button.closest("li");
    if (button.getAttribute("data-move") === "up" && li.previousElementSibling) {
      li.parentNode.insertBefore(li, li.previousElementSibling);
    } else if (button.getAttribute("data-move") === "down" && li.nextElementSibling) {
      li.parentNode.insertBefore(li.nextElementSibling, li);
    } else {
      return;
    }
    button.focus();
    saveOrder();
  });

  // --- filters: keep shared URLs short (empty fields and defaults say nothing) ------
  document.addEventListener("htmx:configRequest", function (event) {
    if (!event.detail.elt || event.detail.elt.id !== "filters") return;
    var params = event.detail.parameters;
    var drop = [];
    var keys = params instanceof FormData ? Array.from(params.keys()) : Object.keys(params);
    keys.forEach(function (key) {
      var value = params instanceof FormData ? params.get(key) : params[key];
      if (value === "" || (key === "archive" && value === "false")) drop.push(key);
    });
    drop.forEach(function (key) {
      if (params instanceof FormData) params.delete(key); else delete params[key];
    });
  });

  // --- filters the search box sets: their menus are set aside (see filters.py) -----
  function searchOwns() {
    var note = $("#search-owns");
    var owned = note ? note.getAttribute("data-owns").split(" ") : [];
    ["state", "archive", "delegate", "submitter"].forEach(function (name) {
      var menu = $("#filter-" + name);
      if (!menu) return;
      var owns = owned.indexOf(name) >= 0;
      menu.disabled = owns;
      if (owns) menu.title = "Set by the search"; else menu.removeAttribute("title");
    });
  }

  // --- after htmx swaps ----------------------------------------------------------
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.id === "patch-list-results") { currentId = null; anchorId = null; }
    syncSelection();
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === "patch-list-results") searchOwns();
  });
  document.addEventListener("htmx:oobAfterSwap", syncSelection);
  document.addEventListener("DOMContentLoaded", syncSelection);

  window.patchwork = { toast: toast, syncSelection: syncSelection };
})();
