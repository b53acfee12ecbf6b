// The lm page: its figure's behaviour (loaded by pages/layout.html).
"use strict";
const state = readHash({model: "", prompt: "", temperature: 1, top_k: 0, seed: 1337, layer: 0, head: 0});
const $ = id => document.getElementById(id);
let models = [];
const showError = msg => { $("error").textContent = msg; };
const label = (c, info) => (info && c === info.boundary ? "⏎" : c === " " ? "␣" : c === "\n" ? "↵" : c);
const current = () => models.find(m => m.name === state.model);

function readControls() {
  state.model = $("model").value;
  state.prompt = $("prompt").value;
  state.temperature = Number($("temperature").value);
  state.top_k = Math.max(0, Math.round(Number($("top_k").value) || 0));
  state.seed = Math.max(0, Math.round(Number($("seed").value) || 0));
  state.layer = Number($("layer").value || 0);
  state.head = Number($("head").value || 0);
  $("temperature-val").textContent = fmt(state.temperature, 2);
  writeHash(state);
}

function fillSelect(select, n, value) {
  select.innerHTML = "";
  for (let i = 0; i < n; i++) select.add(new Option(String(i), String(i)));
  select.value = String(Math.min(value, Math.max(n - 1, 0)));
}

function query() {
  return {model: state.model, prompt: state.prompt, temperature: state.temperature,
          top_k: state.top_k > 0 ? state.top_k : null};
}

async function sample() {
  readControls();
  if (!state.model) return;
  try {
    const r = await api("/api/lm/sample", {...query(), num: 5, max_new_tokens: 100, seed: state.seed});
    $("samples").textContent = r.samples.join(current()?.boundary ? "\n" : "\n———\n");
    showError("");
  } catch (e) { showError(e.message); }
}

function drawBars(choices) {
  const svg = $("bars"), W = 480, row = 22, H = choices.length * row + 10;
  svg.innerHTML = "";
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const x = scale(0, 1, 50, W - 70);
  choices.forEach((c, i) => {
    const y = 5 + i * row;
    el("text", {x: 40, y: y + 15, "text-anchor": "end"}, svg, c.end ? "⏎ end" : label(c.char));
    el("rect", {class: "bar", x: x(0), y: y + 2, width: Math.max(1, x(c.prob) - x(0)), height: row - 6,
                fill: "var(--accent)"}, svg);
    el("text", {x: x(c.prob) + 6, y: y + 15}, svg, fmt(c.prob, 3));
  });
}

async function nextChars() {
  if (!state.model) return;
  try {
    const r = await api("/api/lm/next", query());
    drawBars(r.choices);
    showError("");
  } catch (e) { showError(e.message); }
}

function drawHeatmap(tokens, weights) {
  const svg = $("heatmap"), T = tokens.length, cell = Math.min(28, 420 / T), P = 30;
  const W = P + T * cell + 10, H = P + T * cell + 10, info = current();
  svg.innerHTML = "";
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.style.maxWidth = Math.max(16, W / 16) + "rem";
  const rows = [];
  tokens.forEach((t, j) => el("text", {x: P + j * cell + cell / 2, y: P - 8, "text-anchor": "middle"}, svg,
                              label(t, info)));
  weights.forEach((ws, i) => {
    const g = el("g", {class: "row", "data-row": i}, svg);
    el("text", {x: P - 6, y: P + i * cell + cell * 0.7, "text-anchor": "end"}, g, label(tokens[i], info));
    ws.forEach((w, j) => {
      const r = el("rect", {x: P + j * cell, y: P + i * cell, width: cell - 1, height: cell - 1,
                            fill: "var(--accent)", "fill-opacity": j <= i ? 0.05 + 0.95 * w : 0}, g);
      el("title", {}, r, `${label(tokens[i], info)} → ${label(tokens[j], info)}: ${fmt(w, 3)}`);
    });
    g.addEventListener("mouseenter", () => {
      rows.forEach(o => o.setAttribute("opacity", o === g ? 1 : 0.35));
      $("hover-token").textContent = `${i}: ${label(tokens[i], info)}`;
    });
    rows.push(g);
  });
  svg.onmouseleave = () => rows.forEach(o => o.setAttribute("opacity", 1));
}

async function attention() {
  const info = current();
  if (!info || info.kind !== "gpt") { $("heatmap").innerHTML = ""; return; }
  if (!state.prompt && !info.boundary) return;
  try {
    const r = await api("/api/lm/attention", {model: state.model, prompt: state.prompt.slice(-info.block_size + 1),
                                              layer: state.layer, head: state.head});
    drawHeatmap(r.tokens, r.weights);
    showError("");
  } catch (e) { showError(e.message); }
}

async function updateAll() {
  readControls();
  await nextChars();
  await attention();
}

async function loadModels() {
  const r = await fetch("/api/lm/models");
  models = await r.json();
  const select = $("model");
  select.innerHTML = "";
  for (const m of models) select.add(new Option(m.name, m.name));
  $("no-models").hidden = models.length > 0;
  if (!models.length) return;
  if (!models.some(m => m.name === state.model)) state.model = models[0].name;
  select.value = state.model;
  await modelChanged();
}

async function modelChanged() {
  state.model = $("model").value;
  const info = current();
  $("model-info").textContent = `${info.kind} trained on ${info.data}, ${info.iter_num} steps` +
    (info.val_loss === null ? "" : `, val loss ${fmt(info.val_loss, 3)}`);
  fillSelect($("layer"), info.n_layer, state.layer);
  fillSelect($("head"), info.n_head, state.head);
  if (!state.prompt && !info.boundary) { state.prompt = "ROMEO:"; $("prompt").value = state.prompt; }
  await updateAll();
  await sample();
}

let ws = null;
function train() {
  const losses = [];
  $("train").disabled = true;
  $("cancel").disabled = false;
  ws = new WebSocket(`ws://${location.host}/api/lm/train`);
  ws.onopen = () => ws.send(JSON.stringify({type: "start", data: $("train-data").value,
                                            steps: Number($("train-steps").value)}));
  ws.onmessage = async ev => {
    const m = JSON.parse(ev.data);
    if (m.type === "progress") {
      for (const r of m.records) if ("loss" in r) losses.push(r.loss);
      $("train-step").textContent = m.step;
      $("train-loss").textContent = fmt(losses[losses.length - 1], 4);
      lineChart($("train-chart"), losses, "loss");
    } else if (m.type === "error" || m.type === "full") {  // full: the server trains all it may at once
      showError(m.detail);
      ws.close();
      $("train").disabled = false;
      $("cancel").disabled = true;
    } else if (m.type === "done" || m.type === "cancelled") {
      ws.close();
      $("train").disabled = false;
      $("cancel").disabled = true;
      state.model = m.name;
      await loadModels();
      $("no-models").hidden = false;  // keep the loss chart in view
    }
  };
}

$("model").addEventListener("change", () => { state.layer = 0; state.head = 0; modelChanged(); });
$("prompt").addEventListener("input", updateAll);
$("temperature").addEventListener("input", updateAll);
$("top_k").addEventListener("change", updateAll);
$("seed").addEventListener("change", sample);
$("layer").addEventListener("change", updateAll);
$("head").addEventListener("change", updateAll);
$("sample").addEventListener("click", sample);
$("train").addEventListener("click", train);
$("cancel").addEventListener("click", () => ws && ws.send(JSON.stringify({type: "cancel"})));

$("prompt").value = state.prompt;
$("temperature").value = state.temperature;
$("top_k").value = state.top_k;
$("seed").value = state.seed;
loadModels().catch(e => showError(e.message));
loadCode("lm");
