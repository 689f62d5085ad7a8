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
    if (want.window === "closing" || want.order === "closing") {
      // Open windows only; "closing" also means ending within the hour.
      if (row.dataset.window !== "open" || !row.dataset.expires) return false;
      if (want.window === "closing" && Date.parse(row.dataset.expires) - Date.now() > 3600000) return false;
    } else if (want.window && row.dataset.window !== want.window) return false;
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
    var rows = list.querySelectorAll(":scope > li.conv-row");
    var i, other;
    if (list.dataset.order === "closing") {
      // Soonest expiry first (the server's "closes soonest" order).
      var ends = Date.parse(row.dataset.expires);
      for (i = 0; i < rows.length; i++) {
        other = rows[i];
        var otherEnds = Date.parse(other.dataset.expires);
        if (otherEnds > ends || (otherEnds === ends && Number(other.dataset.id) > Number(row.dataset.id))) {
          list.insertBefore(row, other);
          return row;
        }
      }
    } else {
      // Newest activity first; a row older than everything shown belongs to a later page.
      var key = Number(row.dataset.sort);
      for (i = 0; i < rows.length; i++) {
        other = rows[i];
        var otherKey = Number(other.dataset.sort);
        if (otherKey < key || (otherKey === key && Number(other.dataset.id) < Number(row.dataset.id))) {
          list.insertBefore(row, other);
          return row;
        }
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

  // The socket sends the open thread's bubbles, header and composer only to a page that says it
  // shows that thread ("watch"), with the newest message it has, so none is missed in between.
  var socket = null;
  var watched;
  function watchOpenThread(force) {
    var pane = document.getElementById("thread-pane");
    var id = pane && pane.dataset.conversation ? parseInt(pane.dataset.conversation, 10) : null;
    if (!socket || (id === watched && !force)) return;
    watched = id;
    var newest = 0;
    if (pane) {
      pane.querySelectorAll("li.msg[id^='msg-']").forEach(function (li) {
        var pk = parseInt(li.id.slice(4), 10);
        if (pk > newest) newest = pk;
      });
    }
    socket.send(JSON.stringify({ watch: id, after: newest }), pane || document.body);
  }

  // Connection state, and a re-fetch after a reconnect instead of replaying missed events.
  var opened = false;
  document.addEventListener("htmx:wsOpen", function (event) {
    document.body.classList.add("live");
    document.body.classList.remove("offline");
    socket = event.detail.socketWrapper;
    watchOpenThread(true);
    if (opened) htmx.trigger(document.body, "inbox:resync");
    opened = true;
  });
  document.addEventListener("htmx:wsClose", function () {
    document.body.classList.remove("live");
    document.body.classList.add("offline");
  });

  // The list highlights the open thread when threads are opened with htmx.
  document.addEventListener("htmx:afterSettle", function () {
    watchOpenThread(false);
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

// --- The desk: live window, unread title, new-messages marker, saved answers, keyboard ------------
(function () {
  "use strict";

  var inbox = function () { return document.getElementById("inbox"); };
  function text(name, fallback) {
    var el = inbox();
    return (el && el.dataset[name]) || fallback;
  }

  // Live events name their target; a thread that is not open here has no target. Drop those
  // fragments before htmx looks for them (it would log htmx:oobErrorNoTarget for each).
  htmx.defineExtension("inbox-live", {
    transformResponse: function (response) {
      var holder = document.createElement("template");
      holder.innerHTML = response;
      Array.prototype.slice.call(holder.content.children).forEach(function (child) {
        var how = child.getAttribute("hx-swap-oob");
        if (!how) return;
        var colon = how.indexOf(":");
        var selector = colon >= 0 ? how.slice(colon + 1) : child.id ? "#" + CSS.escape(child.id) : "";
        if (selector && !document.querySelector(selector)) child.remove();
      });
      return holder.innerHTML;
    },
  });

  // --- menus: one open at a time, closed by a click elsewhere or Escape ---------------------------
  function openMenus() {
    return document.querySelectorAll("details.snooze[open], details.menu[open]");
  }
  document.addEventListener("click", function (event) {
    var chosen = event.target.closest && event.target.closest(".menu-body a, .menu-body button");
    openMenus().forEach(function (menu) {
      // Closed by a click elsewhere, or once one of its actions was chosen.
      if (!menu.contains(event.target) || (chosen && menu.contains(chosen))) menu.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var menus = openMenus();
    if (menus.length) {
      menus.forEach(function (menu) {
        menu.removeAttribute("open");
        var summary = menu.querySelector("summary");
        if (summary && menu.contains(document.activeElement)) summary.focus();
      });
      event.preventDefault();
    }
    closePicker();
  });

  // --- the service window, live -------------------------------------------------------------------
  function windowText(ms) {
    var minutes = Math.max(0, Math.floor(ms / 60000));
    return text("textWindowOpen", "window open · {h} h {m} min left")
      .replace("{h}", String(Math.floor(minutes / 60)))
      .replace("{m}", String(minutes % 60));
  }

  function tickWindows() {
    var now = Date.now();
    document.querySelectorAll(".badge.window-open[data-expires]").forEach(function (badge) {
      var left = Date.parse(badge.dataset.expires) - now;
      if (left > 0) {
        badge.textContent = windowText(left);
        badge.classList.toggle("ending", left < 3600000);
        return;
      }
      badge.className = "badge window-closed";
      badge.removeAttribute("data-expires");
      badge.textContent = text("textWindowClosed", "window closed");
      var row = badge.closest(".conv-row");
      if (row) {
        row.dataset.window = "closed";
        var list = row.parentNode;
        var want = list && list.dataset ? list.dataset : {};
        // A list of open windows no longer holds this one.
        if (want.window === "open" || want.window === "closing" || want.order === "closing") row.remove();
      }
    });
    document.querySelectorAll(".composer[data-expires]").forEach(function (composer) {
      if (Date.parse(composer.dataset.expires) > now) return;
      composer.removeAttribute("data-expires");
      // The window closed while the thread was open: the server's composer for a closed window
      // (the template picker) takes its place; what was typed is kept by the oob handler's rule.
      htmx.ajax("GET", composer.dataset.composerUrl, { target: "#" + composer.id, swap: "outerHTML" });
      // The messages' actions (reply, react) need an open window, as the server renders them.
      var pane = composer.closest("#thread-pane");
      if (pane) pane.querySelectorAll(".msg-actions").forEach(function (menu) { menu.remove(); });
    });
  }
  setInterval(tickWindows, 15000);
  document.addEventListener("DOMContentLoaded", tickWindows);
  document.addEventListener("htmx:afterSettle", tickWindows);

  // --- unread conversations in the tab's title ----------------------------------------------------
  var baseTitle = null;
  function updateTitle() {
    if (!inbox()) return;
    var title = document.title.replace(/^\(\d+\) /, "");
    if (baseTitle === null || title !== baseTitle) baseTitle = title;
    var unread = document.querySelectorAll("#conversation-rows > .conv-row.unread").length;
    var wanted = unread ? "(" + unread + ") " + baseTitle : baseTitle;
    if (document.title !== wanted) document.title = wanted;
  }
  document.addEventListener("DOMContentLoaded", function () {
    updateTitle();
    var root = inbox();
    if (root) {
      new MutationObserver(updateTitle).observe(root, {
        subtree: true, childList: true, attributes: true, attributeFilter: ["class"],
      });
    }
  });
  document.addEventListener("htmx:afterSettle", updateTitle);

  // --- "new messages" marker, and the agent's own message scrolled into view ------------------------
  function scroller() {
    return document.querySelector("#thread-pane .thread-scroll");
  }
  function atBottom(box) {
    // The list is column-reverse: scrollTop 0 is the newest message, scrolling up goes negative.
    return Math.abs(box.scrollTop) < 60;
  }
  function toBottom() {
    var box = scroller();
    if (box) box.scrollTop = 0;
    hideMarker();
  }
  function hideMarker() {
    var marker = document.getElementById("new-messages");
    if (marker) marker.hidden = true;
  }
  function showMarker() {
    var pane = document.getElementById("thread-pane");
    if (!pane) return;
    var marker = document.getElementById("new-messages");
    if (!marker) {
      marker = document.createElement("button");
      marker.type = "button";
      marker.id = "new-messages";
      marker.className = "new-messages";
      marker.textContent = text("textNewMessages", "New messages ↓");
      marker.addEventListener("click", toBottom);
      var composer = pane.querySelector(".composer");
      pane.insertBefore(marker, composer);
    }
    marker.hidden = false;
  }
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var target = event.detail.target;
    if (!target || !target.classList || !target.classList.contains("message-list")) return;
    var box = scroller();
    if (box && !atBottom(box)) showMarker();
  });
  document.addEventListener("scroll", function (event) {
    if (event.target === scroller() && atBottom(event.target)) hideMarker();
  }, true);
  document.addEventListener("htmx:afterRequest", function (event) {
    // The form was replaced by the answer's composer: the event is re-sent from a parent, so
    // ask the request which element sent it.
    var config = event.detail.requestConfig;
    var elt = config && config.elt;
    var intoComposer = config && config.target && /-composer$/.test(config.target.id || "");
    if (event.detail.successful && elt && elt.matches && elt.matches("form") && intoComposer) {
      setTimeout(toBottom, 0);
    }
  });

  // --- saved answers: "/" at the start of a reply ---------------------------------------------------
  var answers = null;
  function savedAnswers() {
    if (answers === null) {
      var data = document.getElementById("canned-answers");
      try {
        answers = data ? JSON.parse(data.textContent) : [];
      } catch (e) {
        answers = [];
      }
    }
    return answers;
  }
  var picker = null; // {box, list, textarea, matches, active}

  function closePicker() {
    if (!picker) return;
    picker.box.remove();
    picker.textarea.removeAttribute("aria-activedescendant");
    picker.textarea.setAttribute("aria-expanded", "false");
    picker = null;
  }

  function pickerQuery(textarea) {
    var match = /^\/(\S*)$/.exec(textarea.value.slice(0, textarea.selectionStart));
    return match ? match[1].toLowerCase() : null;
  }

  function renderPicker(textarea, query) {
    var matches = savedAnswers().filter(function (a) {
      return a.shortcut.toLowerCase().indexOf(query) === 0 || a.text.toLowerCase().indexOf(query) >= 0;
    });
    if (!picker || picker.textarea !== textarea) {
      closePicker();
      var box = document.createElement("div");
      box.className = "canned-picker";
      var list = document.createElement("ul");
      list.id = "canned-list";
      list.setAttribute("role", "listbox");
      list.setAttribute("aria-label", text("textSavedAnswers", "Saved answers"));
      box.appendChild(list);
      textarea.parentNode.insertBefore(box, textarea);
      textarea.setAttribute("aria-controls", "canned-list");
      textarea.setAttribute("aria-expanded", "true");
      picker = { box: box, list: list, textarea: textarea, matches: [], active: 0 };
    }
    picker.matches = matches;
    picker.active = Math.min(picker.active, Math.max(0, matches.length - 1));
    picker.list.innerHTML = "";
    if (!matches.length) {
      var none = document.createElement("li");
      none.className = "muted";
      none.textContent = text("textNoAnswers", "No saved answer matches.");
      picker.list.appendChild(none);
    }
    matches.forEach(function (answer, i) {
      var item = document.createElement("li");
      item.id = "canned-" + i;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", i === picker.active ? "true" : "false");
      var name = document.createElement("strong");
      name.textContent = "/" + answer.shortcut;
      var preview = document.createElement("span");
      preview.className = "preview";
      preview.textContent = answer.text;
      item.appendChild(name);
      item.appendChild(preview);
      item.addEventListener("mousedown", function (event) {
        event.preventDefault(); // keep the focus in the textarea
        choose(i);
      });
      picker.list.appendChild(item);
    });
    if (matches.length) textarea.setAttribute("aria-activedescendant", "canned-" + picker.active);
  }

  function choose(i) {
    if (!picker || !picker.matches[i]) return;
    var textarea = picker.textarea;
    var rest = textarea.value.slice(textarea.selectionStart);
    textarea.value = picker.matches[i].text + rest;
    var caret = picker.matches[i].text.length;
    closePicker();
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
  }

  function moveActive(step) {
    if (!picker || !picker.matches.length) return;
    picker.active = (picker.active + step + picker.matches.length) % picker.matches.length;
    picker.list.querySelectorAll("[role=option]").forEach(function (item, i) {
      item.setAttribute("aria-selected", i === picker.active ? "true" : "false");
      if (i === picker.active) item.scrollIntoView({ block: "nearest" });
    });
    picker.textarea.setAttribute("aria-activedescendant", "canned-" + picker.active);
  }

  document.addEventListener("input", function (event) {
    var textarea = event.target;
    if (!textarea.matches || !textarea.matches(".reply-form textarea[name=text]")) return;
    var query = pickerQuery(textarea);
    if (query === null) closePicker();
    else renderPicker(textarea, query);
  });
  document.addEventListener("focusout", function (event) {
    if (picker && event.target === picker.textarea) setTimeout(closePicker, 150);
  });
  document.addEventListener("keydown", function (event) {
    if (!picker || event.target !== picker.textarea) return;
    if (event.key === "ArrowDown") moveActive(1);
    else if (event.key === "ArrowUp") moveActive(-1);
    else if ((event.key === "Enter" && !event.ctrlKey && !event.metaKey) || event.key === "Tab") {
      if (!picker.matches.length) return;
      choose(picker.active);
    } else return;
    event.preventDefault();
    event.stopPropagation();
  }, true);

  // --- keyboard shortcuts ---------------------------------------------------------------------------
  function typing(target) {
    return target.closest && target.closest("input, textarea, select, [contenteditable]");
  }
  var openedId = null;
  // Arrow keys work while a row has focus; the thread's load (and a live update of the row)
  // replaces that row, so its link is focused again afterwards instead of leaving focus on <body>.
  var keepListFocus = false;
  document.addEventListener("focusin", function (event) {
    if (!(event.target.closest && event.target.closest("#conversation-rows"))) keepListFocus = false;
  });
  document.addEventListener("htmx:afterSettle", function () {
    var pane = document.getElementById("thread-pane");
    if (pane && pane.dataset.conversation) openedId = "conv-row-" + pane.dataset.conversation;
    if (!keepListFocus || !openedId) return;
    var active = document.activeElement;
    if (active && active !== document.body && active.closest("#conversation-rows")) return;
    var row = document.getElementById(openedId);
    var link = row && row.querySelector("a");
    if (link) link.focus();
  });
  function openRow(step) {
    var rows = Array.prototype.slice.call(document.querySelectorAll("#conversation-rows > .conv-row"));
    if (!rows.length) return;
    // The row last moved to, else the open thread's: a live update may replace the row (and its
    // "current" mark) while the thread is still loading.
    var current = (openedId && document.getElementById(openedId)) ||
      document.querySelector("#conversation-rows > .conv-row.current");
    var at = rows.indexOf(current);
    var next = rows[at < 0 ? 0 : Math.min(rows.length - 1, Math.max(0, at + step))];
    openedId = next.id;
    var link = next.querySelector("a");
    link.click();
    link.focus();
  }
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target) || !inbox()) return;
    var dialog = document.getElementById("shortcuts");
    if (dialog && dialog.open) return;
    var inList = event.target.closest && event.target.closest("#conversation-rows");
    var key = event.key;
    if (key === "j" || (key === "ArrowDown" && inList)) { keepListFocus = !!inList; openRow(1); }
    else if (key === "k" || (key === "ArrowUp" && inList)) { keepListFocus = !!inList; openRow(-1); }
    else if (key === "r") {
      var box = document.querySelector("#thread-pane .reply-form textarea[name=text]");
      if (!box) return;
      box.focus();
    } else if (key === "e") {
      var resolve = document.querySelector("#thread-pane .status-actions button[value=resolved]");
      if (!resolve) return;
      resolve.click();
    } else if (key === "?") {
      if (dialog) dialog.showModal();
    } else return;
    event.preventDefault();
  });
})();

// The customer pane: at desktop width the "Customer" button folds it away (remembered); on
// phones the same link opens the pane as its own page.
(function () {
  "use strict";
  var KEY = "inbox.contactCollapsed";
  function apply() {
    var inbox = document.getElementById("inbox");
    if (!inbox) return;
    var collapsed = false;
    try { collapsed = localStorage.getItem(KEY) === "1"; } catch (e) {}
    inbox.classList.toggle("contact-collapsed", collapsed);
    document.querySelectorAll(".contact-toggle").forEach(function (link) {
      link.setAttribute("aria-expanded", collapsed ? "false" : "true");
    });
  }
  document.addEventListener("DOMContentLoaded", apply);
  document.addEventListener("htmx:afterSettle", apply);
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".contact-toggle");
    if (!link || window.matchMedia("(max-width: 800px)").matches) return;
    event.preventDefault();
    var inbox = document.getElementById("inbox");
    var collapsed = !inbox.classList.contains("contact-collapsed");
    try { localStorage.setItem(KEY, collapsed ? "1" : "0"); } catch (e) {}
    apply();
  });
})();

// New customer messages announced by a sound and/or a desktop notification (chosen in settings).
(function () {
  "use strict";
  function unreadOf(row) {
    var badge = row && row.querySelector(".unread-badge");
    return badge ? Number(badge.textContent) || 0 : 0;
  }
  function beep() {
    try {
      var Audio = window.AudioContext || window.webkitAudioContext;
      var audio = new Audio();
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.value = 0.08;
      tone.connect(gain);
      gain.connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.15);
    } catch (e) {}
  }
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var incoming = event.detail.fragment && event.detail.fragment.firstElementChild;
    var inbox = document.getElementById("inbox");
    if (!inbox || !incoming || !incoming.classList.contains("conv-row")) return;
    var before = unreadOf(document.getElementById(incoming.id));
    if (unreadOf(incoming) <= before) return;
    window.inboxAnnounced = (window.inboxAnnounced || 0) + 1; // read by the browser tests
    if (inbox.dataset.notifySound) beep();
    if (inbox.dataset.notifyDesktop && document.hidden && window.Notification && Notification.permission === "granted") {
      var name = incoming.querySelector(".name");
      var snippet = incoming.querySelector(".snippet");
      new Notification(name ? name.textContent : "WhatsApp", { body: snippet ? snippet.textContent.trim() : "" });
    }
  }, true); // capture: before the list's own handler moves the row into place

  // Settings page: ticking "desktop notification" asks the browser's permission.
  document.addEventListener("change", function (event) {
    if (event.target.id !== "notify-desktop" || !event.target.checked || !window.Notification) return;
    Notification.requestPermission().then(function (answer) {
      var note = document.getElementById("notify-permission");
      if (answer === "denied" && note) note.textContent = note.dataset.denied;
    });
  });
})();
