// Shared helpers for every page: the API, small SVG plots, and the live figures' registry and URL-hash state.
"use strict";

async function api(path, body) {
  const r = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"},
                               body: JSON.stringify(body)});
  const data = await r.json();
  if (!r.ok) {
    const err = new Error(data.detail || r.statusText);  // the server explains every refusal in detail
    err.position = data.position;
    throw err;
  }
  return data;
}

const fmt = (x, d = 4) => (Object.is(x, -0) ? 0 : x).toFixed(d);

const SVG = "http://www.w3.org/2000/svg";
function el(tag, attrs = {}, parent = null, text = null) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== null) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

// A linear map from [d0, d1] to [r0, r1], with its inverse.
function scale(d0, d1, r0, r1) {
  const f = v => r0 + (v - d0) / (d1 - d0) * (r1 - r0);
  f.invert = p => d0 + (p - r0) / (r1 - r0) * (d1 - d0);
  return f;
}

// A labelled range input with its value shown beside it, appended to `controls`; returns {input, out}.
function rangeControl(controls, label, min, max, step, value) {
  const input = Object.assign(document.createElement("input"), {type: "range", min, max, step, value});
  input.setAttribute("aria-label", label);
  const out = document.createElement("output");
  out.textContent = input.value;
  input.addEventListener("input", () => { out.textContent = input.value; });
  const wrap = document.createElement("label");
  wrap.append(label + " ", input, " ", out);
  controls.appendChild(wrap);
  return {input, out};
}

const sleep = ms => new Promise(r => setTimeout(r, ms));

// ---- live figures in chapters -------------------------------------------------------------------------
// A lesson's ```figure block becomes <div class="figure" id="fig-N" data-figure="KIND" data-args="{...}">;
// static/figures/KIND.js calls registerFigure(KIND, draw) and draw(root, args) builds the figure inside root
// (never by page-wide ids: a chapter can show a kind twice). A refusal from the API shows in the figure.
const FIGURES = {};

function registerFigure(kind, draw) {
  FIGURES[kind] = draw;
}

function figureError(root, err) {
  let box = root.querySelector(":scope > .status.bad");
  if (!box && !err) return;  // nothing to say, and no box to clear
  if (!box) {
    box = document.createElement("p");
    box.className = "status bad";
    box.setAttribute("role", "alert");
    root.appendChild(box);
  }
  box.textContent = err ? String(err.message || err) : "";
}

// A figure's state in the URL hash, its keys prefixed by the figure's id (#fig-2.temperature=0.5), so a
// link reproduces every figure of the page.
function figureState(root, defaults) {
  const q = new URLSearchParams(location.hash.slice(1));
  const state = {...defaults};
  for (const [k, v] of Object.entries(defaults)) {
    const key = `${root.id}.${k}`;
    if (!q.has(key)) continue;
    if (typeof v === "number") {
      const n = Number(q.get(key));
      if (Number.isFinite(n)) state[k] = n;
    } else if (typeof v === "boolean") {
      state[k] = q.get(key) === "true";
    } else {
      state[k] = q.get(key);
    }
  }
  return state;
}

function saveFigureState(root, state) {
  const q = new URLSearchParams(location.hash.slice(1));
  for (const [k, v] of Object.entries(state)) q.set(`${root.id}.${k}`, String(v));
  history.replaceState(null, "", "#" + q.toString());
}

document.addEventListener("DOMContentLoaded", () => {
  for (const root of document.querySelectorAll(".figure[data-figure]")) {
    const draw = FIGURES[root.dataset.figure];
    if (!draw) {
      figureError(root, `no script draws figures of kind ${root.dataset.figure}`);
      continue;
    }
    Promise.resolve()
      .then(() => draw(root, JSON.parse(root.dataset.args || "{}")))
      .catch(err => figureError(root, err));
  }
});

// ---- chapters 1-2: loss charts and live training sessions (figures/training.js, figures/moons.js) -------

// An HTML element: make("label", {class: "x"}, "text", child, ...); attributes set in the order given.
function make(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

// The loss per step into an <svg>; before the first step it says so instead of inventing an axis.
function lossChart(svg, ys, label = "loss") {
  const W = 480, H = 200, P = 48;
  svg.innerHTML = "";
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  el("line", {class: "axis", x1: P, y1: H - 25, x2: W - 10, y2: H - 25}, svg);
  el("line", {class: "axis", x1: P, y1: 10, x2: P, y2: H - 25}, svg);
  if (!ys.length) {
    el("text", {x: (P + W) / 2, y: H / 2, "text-anchor": "middle", class: "empty"}, svg, "no steps yet");
    return;
  }
  const top = Math.max(...ys.filter(Number.isFinite), 0) || 1;  // all zeros: a unit axis
  const x = scale(0, Math.max(ys.length - 1, 1), P, W - 10), y = scale(0, top, H - 25, 14);
  el("text", {x: P - 4, y: 18, "text-anchor": "end", class: "top"}, svg, top < 0.01 ? top.toExponential(1) : top.toFixed(2));
  el("text", {x: P - 4, y: H - 25, "text-anchor": "end"}, svg, "0");
  el("text", {x: W - 10, y: H - 6, "text-anchor": "end"}, svg, `${label} (${ys.length} steps)`);
  const d = ys.map((v, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(Math.min(v, top)).toFixed(1)}`).join("");
  el("path", {class: "curve", d}, svg);
}

// One live training session over the /api/train websocket, drawn inside a figure's root. `ui` holds the
// figure's elements: step, play, pause, reset (buttons), lr (the learning-rate field), steps, loss, status,
// chart; `config()` reads the controls, or throws an Error saying what to fix. The session never trains on a
// learning rate other than the one the field shows: a changed rate is sent first and Step/Play wait for the
// server to accept it; a refused one keeps its message and the buttons off until the field is fixed.
class Trainer {
  constructor(ui, config, onReset, onStep) {
    Object.assign(this, {ui, config, onReset, onStep, losses: [], lr: null, blocked: true, waiting: null,
                         sent: "reset", blockedBy: null});
    this.ws = new WebSocket(`ws://${location.host}/api/train`);
    this.ws.onopen = () => this.reset();
    this.ws.onmessage = ev => this.receive(JSON.parse(ev.data));
    this.ws.onclose = () => { this.block("Disconnected from the server; reload the page."); };
    ui.step.addEventListener("click", () => this.run("step"));
    ui.play.addEventListener("click", () => this.run("play"));
    ui.pause.addEventListener("click", () => this.send({type: "pause"}));
    ui.reset.addEventListener("click", () => this.reset());
    // After a refused reset the job is not the one the controls describe: only a new reset fixes that.
    ui.lr.addEventListener("change", () => (this.blockedBy === "reset" ? this.reset() : this.sendLr()));
  }
  send(msg) { if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg)); }
  status(text, bad = false) {
    this.ui.status.textContent = text;
    this.ui.status.className = bad ? "status bad" : "status";
  }
  block(text) {
    this.blocked = true;
    this.blockedBy = this.sent;
    this.waiting = null;
    this.status(text, true);
    this.ui.lr.setAttribute("aria-invalid", "true");
    this.ui.step.disabled = this.ui.play.disabled = true;
  }
  unblock() {
    this.blocked = false;
    this.blockedBy = null;
    this.ui.lr.removeAttribute("aria-invalid");
    this.ui.step.disabled = this.ui.play.disabled = false;
  }
  shownLr() { return Number(this.ui.lr.value); }
  sendLr(then = null) {
    this.waiting = then;
    this.sent = "lr";
    this.ui.step.disabled = this.ui.play.disabled = true;
    this.send({type: "lr", lr: this.ui.lr.value === "" ? null : this.shownLr()});
  }
  run(cmd) {
    if (this.blocked) return;
    if (this.shownLr() !== this.lr) this.sendLr(cmd);  // the field changed but was not sent yet
    else this.send({type: cmd});
  }
  reset() {
    this.sent = "reset";
    let config;
    try {
      config = this.config();  // throws, with a message for the learner, when a control cannot be sent
    } catch (err) {
      this.block(err.message);
      return;
    }
    this.send({type: "reset", config});
  }
  receive(m) {
    const ui = this.ui;
    if (m.type === "reset") {
      this.lr = m.config.lr;
      this.losses = [];
      ui.steps.textContent = "0";
      ui.loss.textContent = "—";
      this.status("");
      this.unblock();
      this.onReset(m);
      lossChart(ui.chart, this.losses);
    } else if (m.type === "lr") {
      this.lr = m.lr;
      this.unblock();
      this.status(`Learning rate ${m.lr} from step ${Number(ui.steps.textContent) + 1}.`);
      const then = this.waiting;
      this.waiting = null;
      if (then) this.send({type: then});
    } else if (m.type === "step") {
      this.losses.push(m.loss);
      ui.steps.textContent = m.step;
      ui.loss.textContent = fmt(m.loss);
      if (!this.blocked) this.status("");  // "Paused at step 3" is no longer true
      this.onStep(m);
      lossChart(ui.chart, this.losses);
    } else if (m.type === "diverged") {
      this.status(m.detail, true);
    } else if (m.type === "paused") {
      if (!this.blocked) this.status(m.detail ? `Paused at step ${m.step}: ${m.detail}.` : `Paused at step ${m.step}.`);
    } else if (m.type === "error") {
      this.block(m.detail.replace(/\bconfig\./g, ""));  // the learner set "lr", not the message's "config.lr"
    }
  }
}

// A link to a figure's anchor (/chapter/1#fig-2, where the old demo pages redirect) scrolls to that figure:
// the figures' state rewrites the hash while the page loads, so the browser alone would lose the anchor.
const FIGURE_ANCHOR = /^#fig-\d+$/.test(location.hash) ? location.hash.slice(1) : null;
window.addEventListener("load", () => {
  if (FIGURE_ANCHOR) document.getElementById(FIGURE_ANCHOR)?.scrollIntoView();
});

// ---- chapter 9: the trained language models, shared by its gpt-* figures ------------------------------
// The models in the server's runs folder (GET /api/lm/models). A figure that trains one dispatches
// "lm-models-changed" on document (detail: the new model's name), and every model picker refreshes.
const lmChar = (c, boundary) => (boundary !== null && c === boundary ? "⏎" : c === " " ? "␣" : c === "\n" ? "↵" : c);

// A labelled <select> of the models that pass `keep`, added to `controls`; state.model is the chosen one.
// onChange(info, picked) runs after every refresh (info: the chosen model's /api/lm/models entry), and with
// picked = true when the reader picks another model (a prompt written for the last one may not fit it).
function lmModelPicker(root, controls, state, keep, onChange) {
  const wrap = document.createElement("label");
  const select = document.createElement("select");
  select.setAttribute("aria-label", "model");
  wrap.append("model ", select);
  controls.prepend(wrap);
  const none = document.createElement("p");
  none.className = "note";
  none.hidden = true;
  none.textContent = "No trained model is in the runs folder yet: train a tiny one above, or run " +
                     "gradschool rung 9 or gradschool train, then come back.";
  controls.after(none);
  let models = [];
  const picker = {
    current: () => models.find(m => m.name === state.model),
    async refresh(prefer) {
      const r = await fetch("/api/lm/models");
      models = (await r.json()).filter(keep);
      select.replaceChildren(...models.map(m => new Option(m.name, m.name)));
      none.hidden = models.length > 0;
      root.classList.toggle("empty", models.length === 0);
      if (!models.length) return;
      if (prefer && models.some(m => m.name === prefer)) state.model = prefer;
      if (!models.some(m => m.name === state.model)) state.model = models[0].name;
      select.value = state.model;
      await onChange(picker.current());
    },
  };
  select.addEventListener("change", () => { state.model = select.value; onChange(picker.current(), true); });
  document.addEventListener("lm-models-changed", e => picker.refresh(e.detail));
  return picker;
}
