// The customer's phone: polls /_sim/chat every second and writes through /_sim/customer/*.
// Plain DOM building with textContent only: message text comes from the inbox, never trust it as HTML.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const STORE = "simulator.chat";
  const state = { chat: null, lastJson: "", timer: null, stopped: false };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  async function api(path, body) {
    const options = body === undefined ? {} : {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    };
    const response = await fetch(path, options);
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
    return data;
  }

  const digits = (value) => String(value || "").replace(/\D/g, "");
  const clock = (ts) => new Date(ts * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

  // One grey tick = sent, two grey = delivered, two blue = read (the CSS colours by class).
  function ticks(status, error) {
    if (status === "failed") {
      const title = error ? `${error.code} ${error.title}` : "failed";
      return el("span", { class: "ticks failed", "data-status": "failed", title }, "!");
    }
    if (status === "accepted") return el("span", { class: "ticks", "data-status": "accepted", title: "pending" }, "🕓");
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 17 11");
    const lines = status === "sent" ? ["1,6 4.5,9.5 11,2"] : ["1,6 4.5,9.5 11,2", "6.5,8 8,9.5 15.5,2"];
    for (const points of lines) {
      const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
      line.setAttribute("points", points);
      line.setAttribute("fill", "none");
      line.setAttribute("stroke", "currentColor");
      line.setAttribute("stroke-width", "1.6");
      svg.append(line);
    }
    const cls = status === "read" ? "ticks read" : "ticks";
    return el("span", { class: cls, "data-status": status, title: status }, svg);
  }

  function bubble(item, byWamid) {
    const mine = item.direction === "in"; // "in" = from the customer to the business
    const view = item.view || {};
    const node = el("div", {
      class: `msg ${mine ? "me" : "biz"}${item.reaction ? " with-reaction" : ""}`,
      "data-wamid": item.wamid, "data-status": item.status,
      title: mine ? null : "Double-click to react 👍",
      ondblclick: mine ? null : () => send({ reaction: { message_id: item.wamid, emoji: item.reaction ? "" : "👍" } }),
    });
    if (view.reply_to && byWamid[view.reply_to]) {
      node.append(el("div", { class: "quote" }, (byWamid[view.reply_to].view || {}).text || "…"));
    }
    if (view.template) node.append(el("div", { class: "tag" }, `Template · ${view.template}`));
    if (view.header) node.append(el("div", { class: "header" }, view.header));
    if (view.media) {
      const media = view.media;
      if (["image", "sticker"].includes(media.kind) && media.url) node.append(el("img", { src: media.url, alt: media.kind }));
      else node.append(el("div", {}, `${{ video: "🎬", audio: "🎵", document: "📄" }[media.kind] || "📎"} ${media.filename || media.kind}`));
    }
    if (view.text) node.append(el("span", { class: "text" }, view.text));
    if (view.footer) node.append(el("div", { class: "footer" }, view.footer));
    node.append(el("span", { class: "foot" }, clock(item.ts), ticks(item.status, item.error)));
    if (item.error) node.append(el("div", { class: "error" }, `Not delivered: ${item.error.code} ${item.error.title}`));
    if (item.reaction) node.append(el("span", { class: "reaction" }, item.reaction));
    const out = [node];
    const buttons = (view.buttons || []).filter((b) => b.title);
    if (!mine && buttons.length) {
      out.push(el("div", { class: "buttons" }, buttons.map((b) => el("button", {
        type: "button", disabled: b.kind === "link",
        onclick: () => tap(item, b),
      }, b.kind === "link" ? `↗ ${b.title}` : b.title, b.description ? el("small", {}, b.description) : null))));
    }
    return out;
  }

  function tap(item, button) {
    if (button.kind === "quick_reply") return send({ button: { payload: button.id, text: button.title }, context_id: item.wamid });
    const reply = { id: button.id, title: button.title };
    if (button.kind === "row") reply.description = button.description || "";
    return send({ reply, context_id: item.wamid });
  }

  function render(data) {
    const chat = data.chat;
    const json = JSON.stringify(data);
    if (json === state.lastJson) return;
    state.lastJson = json;
    $("title").textContent = chat.name || `+${chat.wa_id}`;
    $("avatar").textContent = (chat.name || "#").trim().charAt(0).toUpperCase();
    const business = chat.business ? `+${chat.business}` : chat.phone_number_id;
    $("subtitle").textContent = chat.typing ? "Business is typing…"
      : `to ${business} · ${chat.window_open ? "service window open" : "no open window"}${chat.marketing_stopped ? " · marketing blocked" : ""}`;
    $("preference").textContent = chat.marketing_stopped ? "Allow marketing" : "Block marketing";
    $("preference").dataset.value = chat.marketing_stopped ? "resume" : "stop";

    const hook = data.webhook;
    const banner = $("banner");
    if (hook && hook.status !== 200) {
      banner.hidden = false;
      banner.textContent = hook.status
        ? `The inbox refused the last webhook (HTTP ${hook.status}). Same WHATSAPP_APP_SECRET on both sides?`
        : `The inbox is unreachable (${hook.error}). Is it running?`;
    } else banner.hidden = true;

    const thread = $("thread");
    const nearBottom = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 80;
    const byWamid = Object.fromEntries(chat.items.map((i) => [i.wamid, i]));
    const nodes = [];
    let day = "";
    for (const item of chat.items) {
      const label = new Date(item.ts * 1000).toLocaleDateString([], { day: "numeric", month: "long", year: "numeric" });
      if (label !== day) nodes.push(el("div", { class: "day" }, (day = label)));
      nodes.push(...bubble(item, byWamid));
    }
    if (!chat.items.length) nodes.push(el("div", { class: "notice" }, "Say hello: your message reaches the inbox as a signed webhook."));
    if (chat.typing) nodes.push(el("div", { class: "typing" }, "typing…"));
    thread.replaceChildren(...nodes);
    if (nearBottom || state.scrollNext) thread.scrollTop = thread.scrollHeight;
    state.scrollNext = false;
  }

  async function poll() {
    if (!state.chat || state.stopped) return;
    const query = new URLSearchParams({
      phone_number_id: state.chat.pnid, wa_id: state.chat.waId, name: state.chat.name,
      // Only a chat on screen counts as open, which is what makes business messages "read".
      open: document.visibilityState === "visible" ? "1" : "0",
    });
    try {
      render(await api(`/_sim/chat?${query}`));
    } catch (error) {
      $("banner").hidden = false;
      $("banner").textContent = `Simulator unreachable: ${error.message}`;
    }
  }

  function schedule() {
    clearTimeout(state.timer);
    state.timer = setTimeout(async () => { await poll(); schedule(); }, 1000);
  }

  async function send(content) {
    if (!state.chat) return;
    state.scrollNext = true;
    try {
      await api("/_sim/customer/message", {
        phone_number_id: state.chat.pnid, wa_id: state.chat.waId, name: state.chat.name, ...content,
      });
    } catch (error) {
      $("banner").hidden = false;
      $("banner").textContent = `Not sent: ${error.message}`;
    }
    await poll();
  }

  function openChat(pnid, waId, name) {
    state.chat = { pnid: digits(pnid), waId: digits(waId), name: (name || "").trim() };
    if (!state.chat.pnid || !state.chat.waId) return;
    localStorage.setItem(STORE, JSON.stringify(state.chat));
    state.lastJson = "";
    state.scrollNext = true;
    $("setup").hidden = true;
    $("chat").hidden = false;
    $("back").hidden = false;
    $("text").focus();
    poll().then(schedule);
  }

  function closeChat() {
    state.chat = null;
    clearTimeout(state.timer);
    $("chat").hidden = true;
    $("setup").hidden = false;
    $("back").hidden = true;
    $("title").textContent = "WhatsApp simulator";
    $("subtitle").textContent = "the customer's phone";
    $("avatar").textContent = "W";
    loadChats();
  }

  async function loadChats() {
    try {
      const [config, list] = await Promise.all([api("/_sim/config"), api("/_sim/chats")]);
      $("hook-url").textContent = config.webhook_url;
      const items = list.chats.map((c) => el("li", {
        onclick: () => openChat(c.phone_number_id, c.wa_id, c.name),
        "data-wa-id": c.wa_id,
      },
      el("div", { class: "avatar" }, (c.name || "#").charAt(0).toUpperCase()),
      el("div", { class: "meta" },
        el("div", { class: "name" }, c.name || `+${c.wa_id}`),
        el("div", { class: "last" }, `→ ${c.phone_number_id}: ${c.last_text || ""}`)),
      c.unread ? el("span", { class: "unread" }, c.unread) : null));
      $("chat-list").replaceChildren(...(items.length ? items : [el("li", { class: "empty" }, "No chats yet.")]));
    } catch (error) {
      $("hook-url").textContent = `(simulator unreachable: ${error.message})`;
    }
  }

  // A small generated "photo": a gradient with the time on it.
  function photo() {
    const canvas = document.createElement("canvas");
    canvas.width = 320; canvas.height = 220;
    const ctx = canvas.getContext("2d");
    const hue = Math.floor(Math.random() * 360);
    const gradient = ctx.createLinearGradient(0, 0, 320, 220);
    gradient.addColorStop(0, `hsl(${hue}, 70%, 60%)`);
    gradient.addColorStop(1, `hsl(${(hue + 80) % 360}, 70%, 40%)`);
    ctx.fillStyle = gradient;
    ctx.fillRect(0, 0, 320, 220);
    ctx.fillStyle = "rgba(255,255,255,.9)";
    ctx.font = "bold 28px sans-serif";
    ctx.fillText("Photo", 24, 110);
    ctx.font = "18px sans-serif";
    ctx.fillText(new Date().toLocaleString(), 24, 145);
    return canvas.toDataURL("image/png").split(",")[1];
  }

  $("open-form").addEventListener("submit", (event) => {
    event.preventDefault();
    openChat($("pnid").value, $("wa-id").value, $("name").value);
  });
  $("back").addEventListener("click", closeChat);
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("text").value.trim();
    if (!text) return;
    $("text").value = "";
    send({ text });
  });
  $("send-image").addEventListener("click", () => {
    const caption = $("text").value.trim();
    $("text").value = "";
    send({ image: { data: photo(), mime_type: "image/png", caption } });
  });
  $("stop-promos").addEventListener("click", () => send({ button: { payload: "STOP_PROMO", text: "Stop promotions" } }));
  $("preference").addEventListener("click", async () => {
    if (!state.chat) return;
    await api("/_sim/customer/preference", {
      phone_number_id: state.chat.pnid, wa_id: state.chat.waId, value: $("preference").dataset.value || "stop",
    }).catch(() => {});
    poll();
  });
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") poll(); });

  const saved = JSON.parse(localStorage.getItem(STORE) || "null");
  if (saved) {
    $("pnid").value = saved.pnid;
    $("wa-id").value = `+${saved.waId}`;
    $("name").value = saved.name;
  }
  // A link such as /?wa_id=4915112345678&phone_number_id=100000000000001&name=Anna opens that chat.
  const params = new URLSearchParams(location.search);
  if (params.get("wa_id")) openChat(params.get("phone_number_id") || $("pnid").value, params.get("wa_id"), params.get("name") || "");
  else loadChats();
})();
