// The inbox's small live layer on top of htmx and its websocket extension (no build step).
// The server sends the same partials the pages render, as out-of-band swaps; this file only
// decides *where* some of them go: list rows by time and filters, messages without duplicates,
// the composer only when the window changed. On reconnect the page re-fetches what it shows.
(function () {
  "use strict";

  function rowMatchesList(row, list) {
    var want = list.dataset;
    if (want.q) return false; // a search result list only updates rows it already shows
    if (want.status && want.status !== "all" && row.dataset.status !== want.status) return false;
    if (want.who === "mine" && row.dataset.assignee !== want.me) return false;
    if (want.who === "unassigned" && row.dataset.assignee !== "") return false;
    if (want.window && row.dataset.window !== want.window) return false;
    if (want.number && row.dataset.number !== want.number) return false;
    return true;
  }

  function placeRow(list, row) {
    var existing = document.getElementById(row.id);
    var matches = rowMatchesList(row, list);
    if (existing && list.dataset.q) {
      existing.replaceWith(row);
      return row;
    }
    if (existing) existing.remove();
    if (!matches) return null;
    // Newest activity first; a row older than everything shown belongs to a later page.
    var key = Number(row.dataset.sort);
    var rows = list.querySelectorAll(":scope > li.conv-row");
    for (var i = 0; i < rows.length; i++) {
      var other = rows[i];
      var otherKey = Number(other.dataset.sort);
      if (otherKey < key || (otherKey === key && Number(other.dataset.id) < Number(row.dataset.id))) {
        list.insertBefore(row, other);
        return row;
      }
    }
    if (list.querySelector(":scope > #list-older")) return null;
    list.appendChild(row);
    return row;
  }

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var detail = event.detail;
    var target = detail.target;
    var incoming = detail.fragment && detail.fragment.firstElementChild;
    if (!incoming) return;

    if (target.id === "conversation-rows" && incoming.classList.contains("conv-row")) {
      detail.shouldSwap = false;
      var empty = target.querySelector(":scope > li.empty");
      var placed = placeRow(target, incoming);
      if (placed) {
        if (empty) empty.remove();
        var pane = document.getElementById("thread-pane");
        if (pane && pane.dataset.conversation === placed.dataset.id) placed.classList.add("current");
        htmx.process(placed);
      }
      return;
    }

    if (target.classList.contains("message-list") && incoming.classList.contains("msg")) {
      var already = document.getElementById(incoming.id);
      if (already) {
        // The sender's own page appended it from the POST answer; take the newer rendering.
        detail.shouldSwap = false;
        already.replaceWith(incoming);
        htmx.process(incoming);
        return;
      }
      if (incoming.dataset.direction === "in" && document.visibilityState === "visible") {
        markRead();
      }
      return;
    }

    if (target.classList.contains("composer") && incoming.classList.contains("composer")) {
      // Same window state: keep the composer and whatever the agent is typing.
      if (target.dataset.window === incoming.dataset.window) {
        detail.shouldSwap = false;
        return;
      }
      var typed = target.querySelector("textarea[name=text]");
      var into = incoming.querySelector(".reply-form textarea[name=text]");
      if (typed && into && typed.value) into.value = typed.value;
    }
  });

  var readTimer = null;
  function markRead() {
    // The agent is looking at the thread the message arrived in: read it (debounced).
    var pane = document.getElementById("thread-pane");
    if (!pane || !pane.dataset.readUrl) return;
    clearTimeout(readTimer);
    readTimer = setTimeout(function () {
      htmx.ajax("POST", pane.dataset.readUrl, { swap: "none" });
    }, 800);
  }

  document.addEventListener("visibilitychange", function () {
    var pane = document.getElementById("thread-pane");
    var row = pane && document.getElementById("conv-row-" + pane.dataset.conversation);
    if (document.visibilityState === "visible" && row && row.classList.contains("unread")) markRead();
  });

  // Connection state, and a re-fetch after a reconnect instead of replaying missed events.
  var opened = false;
  document.addEventListener("htmx:wsOpen", function () {
    document.body.classList.add("live");
    document.body.classList.remove("offline");
    if (opened) htmx.trigger(document.body, "inbox:resync");
    opened = true;
  });
  document.addEventListener("htmx:wsClose", function () {
    document.body.classList.remove("live");
    document.body.classList.add("offline");
  });

  // The list highlights the open thread when threads are opened with htmx.
  document.addEventListener("htmx:afterSettle", function () {
    var pane = document.getElementById("thread-pane");
    document.querySelectorAll(".conv-row.current").forEach(function (row) {
      row.classList.remove("current");
    });
    var current = pane && document.getElementById("conv-row-" + pane.dataset.conversation);
    if (current) current.classList.add("current");
  });

  // Ctrl/Cmd+Enter sends the reply.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    var form = event.target.closest && event.target.closest("form.reply-form");
    if (form) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
})();
