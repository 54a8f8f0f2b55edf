// fastqueue console: plain JavaScript, no framework, nothing fetched but this server's own API.
// Every value from the API reaches the page through textContent or an attribute, never as HTML.
"use strict";

const REFRESH_MS = 3000;
const HISTORY_MS = 10 * 60 * 1000; // the depth chart covers the last ten minutes the page has seen
const TOKEN_KEY = "fastqueue.console.token";
const API = new URL("../", document.baseURI); // the gateway's root: /console/ lives one level below it

const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  queues: [],
  topics: [],
  history: new Map(), // queue id -> [{t, available, inflight, delayed, candidates}]
  view: null, // {update(), peekQueue?}
  loading: false,
  loaded: false, // the first answer has landed
  paused: false,
  locked: false, // the token form is showing
};

// ---- small helpers ---------------------------------------------------------------------------------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name in node && typeof value !== "string") node[name] = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.flat().filter((child) => child !== null && child !== undefined));
  return node;
}

function svg(tag, attributes = {}) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

function setText(node, text) {
  const value = String(text);
  if (node.textContent !== value) node.textContent = value;
}

function queueLink(id) {
  return el("a", { href: `#/queues/${encodeURIComponent(id)}` }, id);
}

function count(value) {
  return (value ?? 0).toLocaleString("en-US");
}

// "1 queue", "2 queues": the count and the noun in the right number.
function counted(value, noun) {
  return `${count(value)} ${noun}${value === 1 ? "" : "s"}`;
}

function age(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

function filtersText(queue) {
  const parts = [];
  if (queue.message_filters) {
    for (const [key, values] of Object.entries(queue.message_filters)) parts.push(`${key} ∈ {${values.join(", ")}}`);
  }
  if (queue.filter) parts.push(queue.filter);
  return parts.length ? parts.join("; ") : "–";
}

// ---- the API ---------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function detailText(body, fallback) {
  const detail = body && body.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((item) => `${(item.loc || []).join(".")}: ${item.msg}`).join("; ");
  return fallback;
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  const init = { method, headers, cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(new URL(path, API), init);
  } catch (error) {
    throw new ApiError(0, `${method} /${path}: the server did not answer (${error.message})`);
  }
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    const detail = detailText(json, `${response.status} ${response.statusText}`.trim());
    throw new ApiError(response.status, `${method} /${path}: ${detail}`);
  }
  return json;
}

// One path segment for an id: every character that could end, split or steer it encoded. `.` and `..` stay
// what they are even as %2E (the URL standard normalises them away, so "queues/../purge" would be "/purge"):
// no such id gets a request at all.
function segment(id) {
  const text = String(id);
  if (/^\.{1,2}$/.test(text)) throw new ApiError(0, `The id "${text}" cannot be used in a URL: the console sends no request for it.`);
  return encodeURIComponent(text);
}

const q = (id) => `queues/${segment(id)}`;

// ---- messages, token form --------------------------------------------------------------------------

function showError(message) {
  const box = document.getElementById("error");
  setText(box, message);
  box.hidden = !message;
}

function notify(message) {
  setText(document.getElementById("notice"), message);
}

// A 401 or 403 brings the token form back; anything else is shown as it is. Returns the message.
function handleError(error) {
  if (error.status === 401) {
    showLogin(
      state.token
        ? `This server does not know that token (${error.message}).`
        : "This server needs an admin token: enter it below."
    );
  } else if (error.status === 403) {
    showLogin(`That token is not an admin token; the console needs one. (${error.message})`);
  } else {
    showError(error.message);
  }
  return error.message;
}

function showLogin(message) {
  state.locked = true;
  setText(document.getElementById("login-message"), message);
  document.getElementById("login").hidden = false;
  document.getElementById("view").hidden = true;
  showError("");
  const input = document.getElementById("token");
  input.value = "";
  input.focus();
}

function useToken(token) {
  state.token = token || null;
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
  document.getElementById("forget-token").hidden = !token;
}

// ---- refreshing ------------------------------------------------------------------------------------

function record(queues) {
  const now = Date.now();
  const seen = new Set();
  for (const queue of queues) {
    seen.add(queue.id);
    const samples = state.history.get(queue.id) || [];
    samples.push({
      t: now,
      available: queue.available_messages,
      inflight: queue.inflight_messages,
      delayed: queue.delayed_messages,
      candidates: queue.dead_letter_candidates,
    });
    while (samples.length && samples[0].t < now - HISTORY_MS) samples.shift();
    state.history.set(queue.id, samples);
  }
  for (const id of state.history.keys()) if (!seen.has(id)) state.history.delete(id);
}

async function refresh() {
  if (state.loading || state.locked) return;
  state.loading = true;
  const view = state.view;
  try {
    const [queues, topics, peek] = await Promise.all([
      api("GET", "overview/queues"),
      api("GET", "overview/topics"),
      view && view.peekQueue ? api("GET", `${q(view.peekQueue)}/peek?limit=10`).catch((error) => error) : null,
    ]);
    state.queues = queues.data;
    state.topics = topics.data;
    state.loaded = true;
    record(state.queues);
    showError("");
    setText(document.getElementById("updated"), `updated ${new Date().toLocaleTimeString("en-GB")}`);
    if (view === state.view) view.update(peek);
  } catch (error) {
    handleError(error);
  } finally {
    state.loading = false;
  }
  if (view !== state.view) refresh(); // the user moved to another page meanwhile: load it now
}

function tick() {
  // Paused while a dialog is open (nothing moves under a confirmation) or when the user asked.
  if (state.paused || document.querySelector("dialog[open]")) return;
  refresh();
}

// ---- dialogs ---------------------------------------------------------------------------------------

// A modal confirmation: Escape or Cancel closes it; the action's error stays inside it.
function confirmDialog({ title, body, confirmLabel, danger, action }) {
  const error = el("p", { class: "error", role: "alert", hidden: true });
  const cancel = el("button", { type: "button", autofocus: true, onclick: () => dialog.close() }, "Cancel");
  const confirm = el("button", { type: "submit", class: danger ? "danger" : "primary" }, confirmLabel);
  const form = el("form", { method: "dialog" }, el("h2", {}, title), body, error, el("div", { class: "buttons" }, cancel, confirm));
  const dialog = el("dialog", { "aria-label": title }, form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    confirm.disabled = cancel.disabled = true;
    try {
      await action();
      dialog.close();
    } catch (failure) {
      if (failure.status === 401 || failure.status === 403) {
        dialog.close();
        handleError(failure);
        return;
      }
      error.textContent = failure.message;
      error.hidden = false;
      confirm.disabled = cancel.disabled = false;
    }
  });
  dialog.addEventListener("close", () => {
    dialog.remove();
    refresh();
  });
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

// ---- the publish form (both pages) -----------------------------------------------------------------

function publishForm(defaultTopic) {
  const topic = el("input", { id: "publish-topic", name: "topic", list: "topic-ids", required: true, value: defaultTopic || "" });
  const data = el("textarea", { id: "publish-data", name: "data", rows: 3, spellcheck: "false" });
  data.value = '{"hello": "from the console"}';
  const attributes = el("textarea", { id: "publish-attributes", name: "attributes", rows: 2, spellcheck: "false" });
  attributes.placeholder = '{"event_name": "test"} (optional)';
  const result = el("p", { class: "result", role: "status" });
  const topicIds = el("datalist", { id: "topic-ids" });
  const form = el(
    "form",
    { id: "publish-form", class: "publish" },
    el("label", { for: "publish-topic" }, "Topic"), topic, topicIds,
    el("label", { for: "publish-data" }, "data (a JSON object)"), data,
    el("label", { for: "publish-attributes" }, "attributes (JSON object of strings)"), attributes,
    el("div", {}, el("button", { type: "submit", class: "primary" }, "Publish")),
    result,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    result.className = "result";
    let body;
    try {
      body = { data: JSON.parse(data.value) };
      if (attributes.value.trim()) body.attributes = JSON.parse(attributes.value);
    } catch (failure) {
      result.className = "result error";
      result.textContent = `Not JSON: ${failure.message}`;
      return;
    }
    try {
      const published = await api("POST", `topics/${segment(topic.value.trim())}/messages`, body);
      const queues = published.data.map((message) => message.queue_id);
      result.textContent = queues.length
        ? `Published: one copy in ${queues.join(", ")}.`
        : "Published, but no queue of this topic took it (no queue, or their filters did not match).";
      refresh();
    } catch (failure) {
      if (failure.status === 401 || failure.status === 403) return handleError(failure);
      result.className = "result error";
      result.textContent = failure.message;
    }
  });
  const update = () => {
    const ids = state.topics.map((t) => t.id).join("\n");
    if (topicIds.dataset.ids !== ids) {
      topicIds.dataset.ids = ids;
      topicIds.replaceChildren(...state.topics.map((t) => el("option", { value: t.id })));
    }
  };
  return { section: el("section", { "aria-labelledby": "publish-title" }, el("h2", { id: "publish-title" }, "Publish a test message"), form), update };
}

// ---- tables that update in place (focus and scroll stay where they are) ----------------------------

// rows: [{key, cells: [text | {sig, build: () => Node}]}]. A row is built once per key; later a text cell
// changes only its text, and a built cell is rebuilt only when its sig changes.
function syncTable(tbody, rows) {
  const existing = new Map([...tbody.rows].map((row) => [row.dataset.key, row]));
  let previous = null;
  for (const { key, cells, className } of rows) {
    let row = existing.get(key);
    if (!row) row = el("tr", { "data-key": key }, cells.map(() => el("td")));
    existing.delete(key);
    cells.forEach((cell, index) => {
      const td = row.cells[index];
      if (typeof cell !== "object") setText(td, cell);
      else if (td.dataset.sig !== cell.sig) {
        td.dataset.sig = cell.sig;
        td.replaceChildren(cell.build());
      }
    });
    row.className = className || "";
    const expected = previous ? previous.nextSibling : tbody.firstChild;
    if (row !== expected) tbody.insertBefore(row, expected);
    previous = row;
  }
  for (const row of existing.values()) row.remove();
}

function table(caption, headings, numeric = []) {
  const tbody = el("tbody");
  const node = el(
    "table",
    {},
    el("caption", { class: "sr-only" }, caption),
    el("thead", {}, el("tr", {}, headings.map((heading, index) => el("th", { scope: "col", class: numeric.includes(index) ? "num" : null }, heading)))),
    tbody,
  );
  return { node, tbody };
}

// ---- the main page: queues and topics --------------------------------------------------------------

function overviewView(focusTopics) {
  const search = el("input", { id: "queue-search", type: "search", placeholder: "queue or topic id" });
  const busy = el("input", { id: "only-busy", type: "checkbox" });
  const problems = el("input", { id: "only-problems", type: "checkbox" });
  const queues = table("Queues", ["Queue", "Topic", "Available", "In flight", "Delayed", "Dead-letter candidates", "Total", "Oldest", "Dead queue", "Filters"], [2, 3, 4, 5, 6, 7]);
  queues.node.id = "queues-table";
  const empty = el("p", { class: "muted", hidden: true });
  const topics = table("Topics", ["Topic", "Queues", "Available", "Dedup window", "Created (UTC)"], [2, 3]);
  topics.node.id = "topics-table";
  const publish = publishForm("");
  const summary = el("p", { id: "summary", class: "muted" });
  const topicsTitle = el("h2", { id: "topics-title", tabindex: "-1" }, "Topics");

  const view = el(
    "div",
    {},
    el("h1", { tabindex: "-1" }, "Queues"),
    summary,
    el("div", { class: "toolbar" },
      el("label", { for: "queue-search" }, "Find"), search,
      el("label", {}, busy, " only queues with messages"),
      el("label", {}, problems, " only dead-letter candidates or a dead queue with messages")),
    el("div", { class: "scroll" }, queues.node),
    empty,
    el("section", { "aria-labelledby": "topics-title" }, topicsTitle, el("div", { class: "scroll" }, topics.node)),
    publish.section,
  );

  function update() {
    const deadQueues = new Set(state.queues.map((queue) => queue.dead_queue_id).filter(Boolean));
    const needle = search.value.trim().toLowerCase();
    const shown = state.queues.filter((queue) => {
      if (needle && ![queue.id, queue.topic_id, queue.dead_queue_id].some((v) => v && v.toLowerCase().includes(needle))) return false;
      if (busy.checked && !queue.total_messages) return false;
      if (problems.checked && !(queue.dead_letter_candidates || (deadQueues.has(queue.id) && queue.total_messages))) return false;
      return true;
    });
    syncTable(queues.tbody, shown.map((queue) => ({
      key: queue.id,
      className: queue.dead_letter_candidates || (deadQueues.has(queue.id) && queue.total_messages) ? "attention" : "",
      cells: [
        {
          sig: String(deadQueues.has(queue.id)),
          build: () => el("span", {}, queueLink(queue.id), deadQueues.has(queue.id) ? el("span", { class: "tag" }, "dead queue") : null),
        },
        queue.topic_id ?? "–",
        count(queue.available_messages),
        count(queue.inflight_messages),
        count(queue.delayed_messages),
        count(queue.dead_letter_candidates),
        count(queue.total_messages),
        queue.available_messages ? age(queue.oldest_message_age_seconds) : "–",
        { sig: queue.dead_queue_id || "", build: () => (queue.dead_queue_id ? queueLink(queue.dead_queue_id) : document.createTextNode("–")) },
        filtersText(queue),
      ],
    })));
    [...queues.tbody.rows].forEach((row) => {
      row.cells[1].className = "";
      for (const index of [2, 3, 4, 5, 6, 7]) row.cells[index].className = "num";
    });
    empty.hidden = shown.length > 0;
    if (!state.loaded) {
      // Before the first answer: nothing is known yet, not "no queues".
      empty.hidden = false;
      setText(empty, "Loading queues…");
      setText(summary, "Loading…");
    } else {
      setText(empty, state.queues.length ? "No queue matches these filters." : "No queues yet.");
      const total = state.queues.reduce((sum, queue) => sum + (queue.total_messages || 0), 0);
      setText(summary, `${counted(state.queues.length, "queue")}, ${counted(state.topics.length, "topic")}, ${counted(total, "message")}`);
    }

    syncTable(topics.tbody, state.topics.map((topic) => ({
      key: topic.id,
      cells: [
        topic.id,
        { sig: topic.queue_ids.join("\n"), build: () => el("span", {}, topic.queue_ids.length ? topic.queue_ids.flatMap((id, i) => (i ? [", ", queueLink(id)] : [queueLink(id)])) : "no queue") },
        count(topic.available_messages),
        topic.deduplication_window_seconds === null || topic.deduplication_window_seconds === undefined ? "–" : `${topic.deduplication_window_seconds} s`,
        topic.created_at,
      ],
    })));
    [...topics.tbody.rows].forEach((row) => {
      row.cells[2].className = row.cells[3].className = "num";
    });
    publish.update();
  }

  for (const control of [search, busy, problems]) control.addEventListener("input", update);
  return { node: view, update, focus: focusTopics ? topicsTitle : null };
}

// ---- a queue's page --------------------------------------------------------------------------------

const SETTINGS = [
  ["topic_id", "Topic"],
  ["dead_queue_id", "Dead queue"],
  ["message_max_deliveries", "Max deliveries"],
  ["ack_deadline_seconds", "Ack deadline (s)"],
  ["message_retention_seconds", "Retention (s)"],
  ["delivery_delay_seconds", "Delivery delay (s)"],
  ["retry_min_backoff_seconds", "Retry backoff min (s)"],
  ["retry_max_backoff_seconds", "Retry backoff max (s)"],
  ["enable_message_ordering", "Message ordering"],
  ["message_filters", "message_filters"],
  ["filter", "filter"],
  // Push delivery (docs/push.md): the secret itself is never sent to the console, only whether it is set.
  ["push_endpoint", "Push endpoint"],
  ["push_format", "Push format"],
  ["push_secret_set", "Push secret"],
  ["push_max_in_flight", "Push max in flight"],
  ["push_in_flight", "Pushes in flight"],
  ["push_window", "Push window"],
  ["created_at", "Created (UTC)"],
  ["updated_at", "Updated (UTC)"],
];

const COUNTS = [
  ["available_messages", "Available"],
  ["inflight_messages", "In flight"],
  ["delayed_messages", "Delayed"],
  ["dead_letter_candidates", "Dead-letter candidates"],
  ["total_messages", "Total"],
];

const SERIES = [
  ["available", "Available", "series-available"],
  ["inflight", "In flight", "series-inflight"],
  ["delayed", "Delayed", "series-delayed"],
];

function drawChart(chart, samples) {
  const width = 640, height = 180, left = 44, right = 8, top = 10, bottom = 24;
  chart.replaceChildren();
  chart.dataset.samples = String(samples.length);
  const now = Date.now();
  // The time axis grows with what the page has seen: 1 minute at least, 10 at most, whole minutes.
  const seen = samples.length ? now - samples[0].t : 0;
  const minutes = Math.min(HISTORY_MS / 60000, Math.max(1, Math.ceil(seen / 60000)));
  const span = minutes * 60000;
  const max = Math.max(1, ...samples.flatMap((s) => SERIES.map(([key]) => s[key])));
  const x = (t) => left + ((t - (now - span)) / span) * (width - left - right);
  const y = (v) => top + (1 - v / max) * (height - top - bottom);
  const text = (attributes, value) => {
    const node = svg("text", { class: "axis", ...attributes });
    node.textContent = value;
    chart.append(node);
  };
  for (const value of [0, max]) {
    chart.append(svg("line", { x1: left, x2: width - right, y1: y(value), y2: y(value), class: "grid" }));
    text({ x: left - 6, y: y(value) + 4, "text-anchor": "end" }, count(value));
  }
  text({ x: left, y: height - 6, "text-anchor": "start" }, `−${minutes} min`);
  text({ x: width - right, y: height - 6, "text-anchor": "end" }, "now");
  for (const [key, , className] of SERIES) {
    const points = samples.map((s) => `${x(s.t).toFixed(1)},${y(s[key]).toFixed(1)}`).join(" ");
    chart.append(svg("polyline", { points, class: `series ${className}` }));
    const last = samples[samples.length - 1];
    if (last) chart.append(svg("circle", { cx: x(last.t), cy: y(last[key]), r: 3, class: className }));
  }
}

function queueView(id) {
  const title = el("h1", { tabindex: "-1" }, `Queue ${id}`);
  const missing = el("p", { class: "error", hidden: true });
  const counts = el("dl", { class: "counts" });
  const countValues = {};
  for (const [key, label] of COUNTS) {
    countValues[key] = el("dd", { "data-count": key }, "…");
    counts.append(el("div", {}, el("dt", {}, label), countValues[key]));
  }
  const oldest = el("dd", { "data-count": "oldest_message_age_seconds" }, "…");
  counts.append(el("div", {}, el("dt", {}, "Oldest"), oldest));

  const settings = el("dl", { class: "settings", id: "queue-settings" });
  const chart = svg("svg", { id: "depth-chart", viewBox: "0 0 640 180", role: "img", "aria-label": `Messages in ${id} over the last ten minutes` });
  const legend = el("p", { class: "legend" }, SERIES.map(([, label, className]) => el("span", { class: `key ${className}` }, label)));
  const peek = table(`Oldest messages of ${id}`, ["Message id", "Created (UTC)", "Scheduled (UTC)", "Attempts", "Attributes", "Data"], [3]);
  peek.node.id = "peek-table";
  const peekNote = el("p", { class: "muted" });
  const purge = el("button", { type: "button", id: "purge", class: "danger" }, "Purge…");
  const redrive = el("button", { type: "button", id: "redrive" }, "Redrive…");
  const publish = publishForm("");
  let topicSet = false;

  const current = () => state.queues.find((queue) => queue.id === id);

  purge.addEventListener("click", () => {
    const queue = current();
    confirmDialog({
      title: `Purge ${id}?`,
      body: el("p", {}, `This deletes every message of ${id} (${count(queue?.total_messages)} now, leased ones included). It cannot be undone.`),
      confirmLabel: "Purge",
      danger: true,
      action: async () => {
        await api("PUT", `${q(id)}/purge`);
        notify(`Purged ${id}.`);
      },
    });
  });

  redrive.addEventListener("click", () => {
    const others = state.queues.filter((queue) => queue.id !== id);
    if (!others.length) return notify("There is no other queue to redrive to.");
    const feeding = others.find((queue) => queue.dead_queue_id === id);
    const select = el("select", { id: "redrive-destination" }, others.map((queue) =>
      el("option", { value: queue.id, selected: feeding && queue.id === feeding.id }, queue.id)));
    confirmDialog({
      title: `Redrive ${id}`,
      body: el("div", {},
        el("p", {}, `Moves the ${count(current()?.available_messages)} available messages of ${id} to the queue you choose, as if newly published there (leased and delayed ones stay).`),
        el("label", { for: "redrive-destination" }, "Destination queue"), select),
      confirmLabel: "Redrive",
      action: async () => {
        await api("PUT", `${q(id)}/redrive`, { destination_queue_id: select.value });
        notify(`Redrove the available messages of ${id} to ${select.value}.`);
      },
    });
  });

  const node = el(
    "div",
    {},
    el("p", {}, el("a", { href: "#/" }, "← All queues")),
    title,
    missing,
    el("section", { "aria-label": "Counts" }, counts),
    el("div", { class: "actions" }, purge, redrive),
    el("div", { class: "columns" },
      el("section", { "aria-labelledby": "chart-title" }, el("h2", { id: "chart-title" }, "Depth (sampled by this page every 3 s, up to 10 min)"), chart, legend),
      el("section", { "aria-labelledby": "settings-title" }, el("h2", { id: "settings-title" }, "Settings"), settings)),
    el("section", { "aria-labelledby": "peek-title" }, el("h2", { id: "peek-title" }, "Oldest messages (a peek: nothing is leased)"), peekNote, el("div", { class: "scroll" }, peek.node)),
    publish.section,
  );

  function update(peeked) {
    const queue = current();
    missing.hidden = Boolean(queue);
    setText(missing, queue || !state.loaded ? "" : `Queue ${id} not found (deleted?).`);
    purge.disabled = redrive.disabled = !queue;
    if (!queue) return;
    for (const [key] of COUNTS) setText(countValues[key], count(queue[key]));
    setText(oldest, queue.available_messages ? age(queue.oldest_message_age_seconds) : "–");
    settings.replaceChildren(...SETTINGS.map(([key, label]) => {
      let value = queue[key];
      if (key === "message_filters") value = value ? JSON.stringify(value) : null;
      if (key === "enable_message_ordering") value = value ? "on" : "off";
      if (key === "push_secret_set") value = queue.push_endpoint ? (value ? "set" : "unset") : null;
      if (key.startsWith("push_") && !queue.push_endpoint && key !== "push_endpoint") value = null;
      const dd = el("dd", {}, key === "dead_queue_id" && value ? queueLink(value) : value === null || value === undefined ? "–" : String(value));
      return el("div", {}, el("dt", {}, label), dd);
    }));
    if (!topicSet && queue.topic_id) {
      document.getElementById("publish-topic").value = queue.topic_id;
      topicSet = true;
    }
    drawChart(chart, state.history.get(id) || []);
    if (peeked instanceof Error) {
      setText(peekNote, `Peek failed: ${peeked.message}`);
      peekNote.className = "error";
    } else if (peeked) {
      peekNote.className = "muted";
      setText(peekNote, peeked.data.length ? `The ${peeked.data.length} oldest messages, by schedule.` : "No messages.");
      syncTable(peek.tbody, peeked.data.map((message) => ({
        key: message.id,
        cells: [
          message.id,
          message.created_at,
          message.scheduled_at,
          String(message.delivery_attempts),
          message.attributes ? JSON.stringify(message.attributes) : "–",
          JSON.stringify(message.data),
        ],
      })));
      [...peek.tbody.rows].forEach((row) => {
        row.cells[3].className = "num";
        row.cells[5].className = "data";
      });
    }
    publish.update();
  }

  return { node, update, peekQueue: id, focus: title };
}

// ---- routing ---------------------------------------------------------------------------------------

function route() {
  const hash = location.hash || "#/";
  const match = hash.match(/^#\/queues\/(.+)$/);
  const view = match ? queueView(decodeURIComponent(match[1])) : overviewView(hash === "#/topics");
  state.view = view;
  document.getElementById("view").replaceChildren(view.node);
  document.title = match ? `${decodeURIComponent(match[1])} · fastqueue console` : "fastqueue console";
  view.update(null);
  if (view.focus) view.focus.focus();
  refresh();
}

function start() {
  useToken(state.token);
  document.getElementById("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    useToken(document.getElementById("token").value.trim());
    state.locked = false;
    document.getElementById("login").hidden = true;
    document.getElementById("view").hidden = false;
    refresh();
  });
  document.getElementById("forget-token").addEventListener("click", () => {
    useToken(null);
    showLogin("Token forgotten. Enter an admin token to go on.");
  });
  const pause = document.getElementById("pause");
  pause.addEventListener("click", () => {
    state.paused = !state.paused;
    pause.setAttribute("aria-pressed", String(state.paused));
    setText(pause, state.paused ? "Resume updates" : "Pause updates");
    if (!state.paused) refresh();
  });
  window.addEventListener("hashchange", route);
  route();
  setInterval(tick, REFRESH_MS);
}

start();
