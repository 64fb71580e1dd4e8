// The nats-pubsub dashboard: one Server-Sent Event stream of per-second ticks from the gateway,
// one of sampled tail messages, and the gateway's REST API for publish and replay.
// No framework and no build step: plain DOM and SVG.
"use strict";

(() => {
  const WINDOW = 300; // seconds shown by the charts
  const TOP_SUBJECTS = 6; // subjects drawn in the rate chart; the rest are summed as "others"
  const TAIL_KEEP = 200; // tail rows kept on the page
  const SMOOTH = 5; // seconds each point of the rate chart averages
  const COLORS = ["#2f7de1", "#e0672b", "#17a589", "#a557d6", "#d4a017", "#d6457a", "#7f8c8d"];
  const SVG_NS = "http://www.w3.org/2000/svg";

  const $ = (id) => document.getElementById(id);
  const number = new Intl.NumberFormat("en-US");
  const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });
  const money = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

  // ---- the token (GATEWAY_TOKEN): from ?access_token=, else asked once per tab ----
  const params = new URLSearchParams(window.location.search);
  let token = params.get("access_token") || window.sessionStorage.getItem("nats-pubsub-token") || "";

  function withToken(path) {
    if (!token) return path;
    return path + (path.includes("?") ? "&" : "?") + "access_token=" + encodeURIComponent(token);
  }

  async function api(path, options = {}) {
    const headers = Object.assign({}, options.headers || {});
    if (token) headers.Authorization = "Bearer " + token;
    return fetch(path, Object.assign({}, options, { headers }));
  }

  async function errorText(response) {
    try {
      const body = await response.json();
      return body.error || response.statusText;
    } catch (_) {
      return response.status + " " + response.statusText;
    }
  }

  // ---- formatting ----
  function bytes(n) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let value = n;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return (unit ? value.toFixed(1) : String(value)) + " " + units[unit];
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    const s = Math.floor(seconds);
    if (s < 60) return s + " s";
    const m = Math.floor(s / 60);
    if (m < 60) return m + " min " + (s % 60) + " s";
    const h = Math.floor(m / 60);
    if (h < 48) return h + " h " + (m % 60) + " min";
    return Math.floor(h / 24) + " d " + (h % 24) + " h";
  }

  function clock(iso) {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString([], { hour12: false });
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("data-")) node.setAttribute(key, value);
      else node[key] = value;
    }
    for (const child of children) node.append(child);
    return node;
  }

  function svg(tag, attrs = {}) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
    return node;
  }

  function preview(value) {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    return text.length > 160 ? text.slice(0, 160) + "…" : text;
  }

  // ---- state: the last five minutes, as the gateway aggregated them ----
  const state = {
    history: [], // {t, subjects: {subject: count}, bytes}
    payments: [], // {t, accepted, declined}
    declines: [], // the last ones, oldest first
    totals: {},
    totalMessages: 0,
    totalBytes: 0,
    paymentTotals: { accepted: 0, declined: 0, decline_rate: 0 },
    services: [],
    streams: null,
  };

  function trim(list) {
    while (list.length > WINDOW) list.shift();
  }

  function applySnapshot(snap) {
    state.history = snap.history.slice(-WINDOW);
    state.payments = snap.payments.slice(-WINDOW);
    state.declines = snap.declines.slice(-20);
    state.totals = snap.totals;
    state.totalMessages = snap.total_messages;
    state.totalBytes = snap.total_bytes;
    state.paymentTotals = snap.payment_totals;
    state.services = snap.services;
    state.streams = snap.streams;
    $("version").textContent = "gateway " + snap.version;
    const since = snap.counting_since ? "Counting since " + clock(snap.counting_since) : "";
    $("counting").textContent =
      since + (snap.mode === "on-demand" ? " (while a page is open: GATEWAY_DASHBOARD=on-demand)." : ".");
    renderAll();
  }

  function applyTick(tick) {
    state.history.push(tick.second);
    trim(state.history);
    state.payments.push(tick.payments);
    trim(state.payments);
    state.declines = state.declines.concat(tick.declines).slice(-20);
    state.totals = tick.totals;
    state.totalMessages = tick.total_messages;
    state.totalBytes = tick.total_bytes;
    state.paymentTotals = tick.payment_totals;
    state.services = tick.services;
    state.streams = tick.streams;
    renderAll();
  }

  function renderAll() {
    renderServices();
    renderRates();
    renderPayments();
    renderStreams();
  }

  // ---- services ----
  function renderServices() {
    const body = $("services-rows");
    const rows = state.services.map((s) => {
      const counters = el("td", { class: "counters" });
      for (const [key, value] of Object.entries(s.stats)) {
        const shown = typeof value !== "number" ? String(value) : Math.abs(value) >= 10000 ? compact.format(value) : number.format(value);
        counters.append(el("span", { class: "chip", title: key + ": " + value }, key.replace(/_/g, " ") + " ", el("b", { text: shown })));
      }
      const status = s.status === "up" ? "up" : "gone " + duration(s.last_seen_seconds) + " ago";
      return el(
        "tr",
        { "data-name": s.name, "data-host": s.hostname, "data-status": s.status, title: s.name + " " + s.id },
        el("td", {}, el("span", { class: "dot", title: status })),
        el("td", {}, el("b", { text: s.name.replace(/^nats-pubsub-/, "") }), el("div", { class: "small muted", text: status })),
        el("td", { class: "mono", text: s.hostname || "–" }),
        el("td", { text: duration(s.uptime_seconds) }),
        counters,
        el("td", { class: "hide-narrow mono", text: s.version }),
        el("td", { class: "hide-narrow mono small", text: s.id.slice(0, 8) }),
      );
    });
    body.replaceChildren(...rows);
    $("services-empty").hidden = rows.length > 0;
  }

  // ---- message rate ----
  function rateSeries() {
    const inWindow = {};
    for (const second of state.history) {
      for (const [subject, n] of Object.entries(second.subjects)) {
        inWindow[subject] = (inWindow[subject] || 0) + n;
      }
    }
    const top = Object.keys(inWindow).sort((a, b) => inWindow[b] - inWindow[a]).slice(0, TOP_SUBJECTS);
    const chosen = new Set(top);
    const series = top.map((subject, i) => ({ name: subject, color: COLORS[i], points: [] }));
    const others = { name: "others", color: COLORS[COLORS.length - 1], points: [] };
    let anyOther = false;
    for (const second of state.history) {
      let rest = 0;
      for (const [subject, n] of Object.entries(second.subjects)) {
        if (!chosen.has(subject)) rest += n;
      }
      series.forEach((s) => s.points.push([second.t, second.subjects[s.name] || 0]));
      others.points.push([second.t, rest]);
      anyOther = anyOther || rest > 0;
    }
    if (anyOther) series.push(others);
    for (const s of series) s.points = smooth(s.points);
    return series;
  }

  function smooth(points) {
    // Each point: the average of the last SMOOTH seconds (a few messages a second otherwise
    // draw as a saw tooth).
    let sum = 0;
    return points.map(([t, v], i) => {
      sum += v - (i >= SMOOTH ? points[i - SMOOTH][1] : 0);
      return [t, sum / Math.min(i + 1, SMOOTH)];
    });
  }

  function renderRates() {
    const last = state.history[state.history.length - 1];
    const now = last ? Object.values(last.subjects).reduce((a, b) => a + b, 0) : 0;
    $("rate-now").textContent = number.format(now);
    $("total-messages").textContent = number.format(state.totalMessages);
    $("total-bytes").textContent = bytes(state.totalBytes);
    const series = rateSeries();
    lineChart($("rate-chart"), series);
    const legend = series.map((s) => {
      const current = s.points.length ? Math.round(s.points[s.points.length - 1][1] * 10) / 10 : 0;
      const total = s.name === "others" ? null : state.totals[s.name] || 0;
      const swatch = el("span", { class: "swatch" });
      swatch.style.background = s.color;
      return el(
        "li",
        { "data-subject": s.name },
        swatch,
        el("span", { class: "name", text: s.name, title: s.name }),
        el("span", { class: "muted", text: number.format(current) + "/s" + (total === null ? "" : " · " + number.format(total) + " total") }),
      );
    });
    $("rate-legend").replaceChildren(...legend);
  }

  function frame(node) {
    const width = Math.max(node.clientWidth, 200);
    const height = Math.max(node.clientHeight, 80);
    node.setAttribute("viewBox", "0 0 " + width + " " + height);
    node.replaceChildren();
    return { width, height, left: 44, right: 8, top: 8, bottom: 18 };
  }

  function niceMax(value) {
    // A top for the y axis whose four steps are round numbers.
    if (value <= 0) return 4;
    const raw = value / 4;
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const step of [1, 2, 2.5, 5, 10]) {
      if (raw <= step * power) return Math.max(4, 4 * step * power);
    }
    return 40 * power;
  }

  function axes(node, f, yMax, tEnd) {
    const plotH = f.height - f.top - f.bottom;
    for (let i = 0; i <= 4; i += 1) {
      const y = f.top + plotH - (plotH * i) / 4;
      node.append(svg("line", { class: "gridline", x1: f.left, x2: f.width - f.right, y1: y, y2: y }));
      const label = svg("text", { x: f.left - 6, y: y + 3, "text-anchor": "end" });
      label.textContent = compact.format((yMax * i) / 4);
      node.append(label);
    }
    const plotW = f.width - f.left - f.right;
    for (let m = 0; m <= 5; m += 1) {
      const x = f.left + plotW - (plotW * m * 60) / WINDOW;
      const label = svg("text", { x, y: f.height - 4, "text-anchor": m === 0 ? "end" : "middle" });
      label.textContent = m === 0 ? "now" : "-" + m + " min";
      node.append(label);
    }
    node.append(svg("line", { class: "axis", x1: f.left, x2: f.width - f.right, y1: f.top + plotH, y2: f.top + plotH }));
    return { x: (t) => f.left + plotW - ((tEnd - t) * plotW) / WINDOW, y: (v) => f.top + plotH - (v / yMax) * plotH };
  }

  function lineChart(node, series) {
    const f = frame(node);
    const tEnd = state.history.length ? state.history[state.history.length - 1].t : Math.floor(Date.now() / 1000);
    let max = 0;
    for (const s of series) for (const [, v] of s.points) max = Math.max(max, v);
    const scale = axes(node, f, niceMax(max), tEnd);
    for (const s of series) {
      if (!s.points.length) continue;
      const d = s.points.map(([t, v], i) => (i ? "L" : "M") + scale.x(t).toFixed(1) + " " + scale.y(v).toFixed(1)).join("");
      node.append(svg("path", { class: "series", d, stroke: s.color, "data-subject": s.name }));
    }
  }

  // ---- payments ----
  function renderPayments() {
    const totals = state.paymentTotals;
    $("pay-accepted").textContent = number.format(totals.accepted);
    $("pay-declined").textContent = number.format(totals.declined);
    $("pay-rate").textContent = (totals.decline_rate * 100).toFixed(1) + "%";
    barChart($("pay-chart"));
    const rows = state.declines
      .slice()
      .reverse()
      .map((d) => {
        const reason = el("td", {}, el("span", { class: "reason", text: d.reason || d.level }));
        if (d.code) reason.append(" ", el("span", { class: "code", text: d.code }));
        const amount = d.amount === null ? "–" : money.format(d.amount) + " " + (d.currency || "");
        const row = el(
          "tr",
          { class: "level-" + d.level, "data-txn": d.transaction_id, "data-level": d.level, title: d.subject },
          el("td", { text: clock(d.received) }),
          el("td", { class: "mono small", text: d.transaction_id || d.subject }),
          reason,
          el("td", { class: "num", text: amount }),
        );
        return row;
      });
    $("declines-rows").replaceChildren(...rows);
    $("declines-empty").hidden = rows.length > 0;
  }

  function barChart(node) {
    const f = frame(node);
    const bucket = 10; // seconds per bar
    const tEnd = state.history.length ? state.history[state.history.length - 1].t : Math.floor(Date.now() / 1000);
    const bars = [];
    for (let i = WINDOW / bucket - 1; i >= 0; i -= 1) bars.push({ end: tEnd - i * bucket, accepted: 0, declined: 0 });
    for (const p of state.payments) {
      const index = bars.length - 1 - Math.floor((tEnd - p.t) / bucket);
      if (index >= 0 && index < bars.length) {
        bars[index].accepted += p.accepted;
        bars[index].declined += p.declined;
      }
    }
    const max = niceMax(Math.max(0, ...bars.map((b) => b.accepted + b.declined)));
    const scale = axes(node, f, max, tEnd);
    const width = Math.max(1, scale.x(tEnd) - scale.x(tEnd - bucket) - 2);
    for (const b of bars) {
      const x = scale.x(b.end) - width;
      const okTop = scale.y(b.accepted);
      const errTop = scale.y(b.accepted + b.declined);
      if (b.accepted) node.append(svg("rect", { class: "bar-ok", x, y: okTop, width, height: scale.y(0) - okTop }));
      if (b.declined) node.append(svg("rect", { class: "bar-err", x, y: errTop, width, height: okTop - errTop }));
    }
  }

  // ---- streams and consumers ----
  let knownStreams = "";

  function renderStreams() {
    const panel = state.streams;
    const empty = $("streams-empty");
    const rows = [];
    if (panel) {
      for (const s of panel.streams) {
        const consumers = s.consumers.length + s.more_consumers;
        rows.push(
          el(
            "tr",
            { class: "stream", "data-stream": s.name, title: s.subjects.join(", ") },
            el("td", {}, el("div", { text: s.name }), el("div", { class: "muted small", text: s.subjects.join(", ") })),
            el("td", { class: "num" }, el("div", { class: "count", text: number.format(s.messages) }), el("div", { class: "muted small", text: bytes(s.bytes) })),
            el("td", { class: "num", text: "" }),
            el("td", { class: "num", text: "" }),
            el("td", { class: "num", text: "" }),
            el("td", { class: "muted small", text: consumers === 1 ? "1 consumer" : consumers + " consumers" }),
          ),
        );
        for (const c of s.consumers) {
          rows.push(
            el(
              "tr",
              { class: "consumer", "data-stream": s.name, "data-consumer": c.name, "data-health": c.status, title: c.issue || "" },
              el("td", { class: "mono", text: c.name }),
              el("td", { class: "num", text: "" }),
              el("td", { class: "num", text: number.format(c.pending) }),
              el("td", { class: "num", text: number.format(c.ack_pending) }),
              el("td", { class: "num", text: number.format(c.lag) }),
              el("td", {}, el("span", { class: "health " + c.status, text: c.status })),
            ),
          );
        }
      }
      empty.textContent = panel.error || "No streams. JetStream streams appear here when created.";
      empty.hidden = rows.length > 0 && !panel.error;
      const names = panel.streams.map((s) => s.name).join(",");
      if (names !== knownStreams) {
        knownStreams = names;
        const select = $("replay-stream");
        const current = select.value;
        select.replaceChildren(...panel.streams.map((s) => el("option", { value: s.name, text: s.name })));
        if (panel.streams.some((s) => s.name === current)) select.value = current;
      }
    }
    $("streams-rows").replaceChildren(...rows);
  }

  // ---- message details ----
  function showMessage(title, meta, headers, data) {
    $("detail-title").textContent = title;
    $("detail-meta").textContent = meta;
    $("detail-headers").textContent = headers && Object.keys(headers).length ? JSON.stringify(headers, null, 2) : "(none)";
    $("detail-body").textContent = typeof data === "string" ? data : JSON.stringify(data, null, 2);
    $("detail").showModal();
  }

  // ---- live tail ----
  let tailSource = null;
  let tailPaused = false;
  let tailShown = 0;
  let tailSkipped = 0;

  function tailStatus(text) {
    $("tail-status").textContent = text;
  }

  function addTailMessages(batch) {
    const list = $("tail-list");
    tailShown += batch.messages.length;
    tailSkipped += batch.skipped;
    for (const m of batch.messages) {
      const item = el(
        "li",
        { "data-subject": m.subject, "data-n": String(m.n), title: "Show this message" },
        el("span", { class: "time", text: clock(m.received) }),
        el("span", { class: "subject", text: m.subject }),
        el("span", { class: "size", text: bytes(m.size_bytes) }),
        el("span", { class: "preview", text: preview(m.data) }),
      );
      item.addEventListener("click", () => {
        const note = m.truncated ? " · first 8 KiB shown" : "";
        showMessage(m.subject, clock(m.received) + " · " + bytes(m.size_bytes) + " · " + m.encoding + note, m.headers, m.data);
      });
      list.prepend(item);
    }
    while (list.children.length > TAIL_KEEP) list.lastElementChild.remove();
    const total = tailShown + tailSkipped;
    tailStatus("Showing " + number.format(tailShown) + " of " + number.format(total) + " matching messages (sampled: at most 20 a second).");
  }

  function openTail() {
    if (tailSource) tailSource.close();
    const filter = $("tail-filter").value.trim() || ">";
    tailShown = 0;
    tailSkipped = 0;
    const source = new EventSource(withToken("/api/dashboard/tail?subject=" + encodeURIComponent(filter)));
    tailSource = source;
    source.addEventListener("subscribed", () => tailStatus("Sampling " + filter + " …"));
    source.addEventListener("messages", (e) => addTailMessages(JSON.parse(e.data)));
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED && tailSource === source && !tailPaused) {
        tailStatus("The tail stopped; retrying…");
        window.setTimeout(() => tailSource === source && !tailPaused && openTail(), 3000);
      }
    });
  }

  function filterProblem(filter) {
    // The gateway's rules for a subject filter (an EventSource cannot read its 400 answer).
    if (/\s/.test(filter)) return "A subject filter has no white space.";
    const tokens = filter.split(".");
    for (let i = 0; i < tokens.length; i += 1) {
      const token = tokens[i];
      if (!token) return "A subject filter has no empty token (leading, trailing or double '.').";
      if (token === ">" && i !== tokens.length - 1) return "'>' may only be the last token.";
      if (token !== "*" && token !== ">" && /[*>]/.test(token)) return "A wildcard must be a whole token, not part of '" + token + "'.";
    }
    return null;
  }

  $("tail-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const problem = filterProblem($("tail-filter").value.trim() || ">");
    if (problem) {
      tailStatus(problem);
      return;
    }
    $("tail-list").replaceChildren();
    tailPaused = false;
    $("tail-pause").setAttribute("aria-pressed", "false");
    $("tail-pause").textContent = "Pause";
    openTail();
  });

  $("tail-pause").addEventListener("click", () => {
    tailPaused = !tailPaused;
    const button = $("tail-pause");
    button.setAttribute("aria-pressed", String(tailPaused));
    button.textContent = tailPaused ? "Resume" : "Pause";
    if (tailPaused) {
      if (tailSource) tailSource.close();
      tailSource = null;
      tailStatus("Paused. " + number.format(tailShown) + " messages shown.");
    } else {
      openTail();
    }
  });

  // ---- publish ----
  $("publish-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = $("publish-result");
    const subject = $("publish-subject").value.trim();
    let data;
    try {
      data = JSON.parse($("publish-body").value);
    } catch (err) {
      result.className = "result err";
      result.textContent = "The body is not JSON: " + err.message;
      return;
    }
    result.className = "result";
    result.textContent = "Publishing…";
    const response = await api("/api/messages/" + encodeURIComponent(subject), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ data, source: "dashboard" }),
    });
    if (!response.ok) {
      result.className = "result err";
      result.textContent = await errorText(response);
      return;
    }
    const ack = await response.json();
    result.className = "result ok";
    result.textContent = "Stored in " + ack.stream + " at sequence " + ack.sequence + (ack.duplicate ? " (duplicate)" : "");
    result.dataset.sequence = String(ack.sequence);
  });

  // ---- replay ----
  let replayNext = null;

  async function replay(start) {
    const result = $("replay-result");
    const stream = $("replay-stream").value;
    if (!stream) {
      result.className = "result err";
      result.textContent = "No stream to replay yet.";
      return;
    }
    const query = new URLSearchParams({ start, subject: $("replay-subject").value.trim() || ">", limit: "20" });
    result.className = "result";
    result.textContent = "Reading…";
    const response = await api("/api/replay/" + encodeURIComponent(stream) + "?" + query.toString());
    if (!response.ok) {
      result.className = "result err";
      result.textContent = await errorText(response);
      return;
    }
    const page = await response.json();
    replayNext = page.next_sequence;
    $("replay-next").hidden = replayNext === null;
    result.className = "result ok";
    result.textContent = page.count ? page.count + " messages from " + page.start : "No messages from " + page.start;
    const rows = page.messages.map((m) => {
      const row = el(
        "tr",
        { class: "clickable", "data-seq": String(m.sequence), title: "Show this message" },
        el("td", { class: "num", text: String(m.sequence) }),
        el("td", { text: clock(m.timestamp) }),
        el("td", { class: "mono", text: m.subject }),
        el("td", { class: "preview", text: preview(m.data) }),
      );
      row.addEventListener("click", () => showMessage(m.subject + " #" + m.sequence, stream + " · " + m.timestamp + " · " + bytes(m.size_bytes), null, m.data));
      return row;
    });
    $("replay-rows").replaceChildren(...rows);
  }

  $("replay-form").addEventListener("submit", (event) => {
    event.preventDefault();
    replay($("replay-start").value.trim() || "all");
  });
  $("replay-next").addEventListener("click", () => {
    if (replayNext !== null) replay(String(replayNext));
  });

  // ---- the feed ----
  let feed = null;

  function setConnection(stateName, text) {
    const badge = $("conn");
    badge.dataset.state = stateName;
    badge.textContent = text;
  }

  function openFeed() {
    if (feed) feed.close();
    const source = new EventSource(withToken("/api/dashboard/feed"));
    feed = source;
    source.addEventListener("snapshot", (e) => {
      setConnection("live", "live");
      applySnapshot(JSON.parse(e.data));
    });
    source.addEventListener("tick", (e) => {
      setConnection("live", "live");
      applyTick(JSON.parse(e.data));
    });
    source.addEventListener("end", () => setConnection("reconnecting", "gateway stopping"));
    source.addEventListener("error", () => {
      setConnection("reconnecting", "reconnecting");
      if (source.readyState === EventSource.CLOSED && feed === source) {
        window.setTimeout(() => feed === source && openFeed(), 3000);
      }
    });
  }

  async function start() {
    let response;
    try {
      response = await api("/api");
    } catch (_) {
      setConnection("error", "gateway unreachable");
      window.setTimeout(start, 3000);
      return;
    }
    if (response.status === 401) {
      setConnection("error", "token needed");
      $("token-dialog").showModal();
      return;
    }
    openFeed();
    openTail();
  }

  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    token = $("token-input").value.trim();
    window.sessionStorage.setItem("nats-pubsub-token", token);
    $("token-dialog").close();
    start();
  });

  let resizing = 0;
  window.addEventListener("resize", () => {
    window.clearTimeout(resizing);
    resizing = window.setTimeout(renderAll, 150);
  });

  start();
})();
