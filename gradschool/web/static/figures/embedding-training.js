// Chapter 5's live figure: makemore part 2's MLP trained on the names by the server's Tensor engine, over a
// websocket; every snapshot moves the 27 two-dimensional character embeddings, extends the loss curve and
// redraws names sampled with the same dice. The link keeps the seed, the learning rate and the step reached.
"use strict";

registerFigure("embedding-training", async (root, args) => {
  const VOWELS = new Set(["a", "e", "i", "o", "u"]);
  const state = figureState(root, {seed: Number(args.seed || 42), lr: Number(args.lr || 0.1), step: 0});
  const RATES = [0.001, 0.01, 0.03, 0.1, 0.3, 1, 3];

  const controls = document.createElement("div");
  controls.className = "controls";
  root.appendChild(controls);
  const seedLabel = document.createElement("label");
  const seed = Object.assign(document.createElement("input"), {type: "number", min: 0, max: 99999,
                                                                value: state.seed});
  seed.setAttribute("aria-label", "seed");
  seedLabel.append("seed ", seed);
  const lrLabel = document.createElement("label");
  const lr = document.createElement("select");
  lr.setAttribute("aria-label", "learning rate");
  for (const r of RATES) lr.add(new Option(String(r), String(r)));
  if (!RATES.includes(state.lr)) lr.add(new Option(String(state.lr), String(state.lr)));
  lr.value = String(state.lr);
  lrLabel.append("learning rate ", lr);
  const play = Object.assign(document.createElement("button"), {type: "button", textContent: "Play"});
  const step = Object.assign(document.createElement("button"), {type: "button", textContent: "Train 100 steps",
                                                                 className: "secondary"});
  const reset = Object.assign(document.createElement("button"), {type: "button", textContent: "Reset",
                                                                  className: "secondary"});
  controls.append(seedLabel, lrLabel, play, step, reset);

  const readout = document.createElement("p");
  readout.className = "readout";
  readout.setAttribute("aria-live", "polite");
  const status = document.createElement("p");
  status.className = "run-state";
  const grid = document.createElement("div");
  grid.className = "twocol embedding-grid";
  const scatter = el("svg", {role: "img", "aria-label": "the two-dimensional embedding of every character"});
  const right = document.createElement("div");
  const chart = el("svg", {role: "img", "aria-label": "loss against step"});
  const samplesHead = document.createElement("p");
  samplesHead.className = "legend";
  samplesHead.textContent = "names sampled with the same dice at every snapshot:";
  const samples = document.createElement("ol");
  samples.className = "samples";
  right.append(chart, samplesHead, samples);
  grid.append(scatter, right);
  const details = document.createElement("details");
  details.className = "rows";
  const summary = document.createElement("summary");
  summary.textContent = "the numbers: each character's row of the embedding table C";
  const table = document.createElement("table");
  details.append(summary, table);
  root.append(readout, status, grid, details);

  let ws = null, playing = false, history = [], current = null;

  function say(text, bad = false) {
    status.textContent = text;
    status.className = bad ? "run-state bad" : "run-state";
  }

  function setPlaying(on) {
    playing = on;
    play.textContent = on ? "Pause" : "Play";
    play.setAttribute("aria-pressed", String(on));
  }

  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  function catchUp() {  // a link with a step: train up to it, a chunk at a time, exactly as it was reached
    const left = state.step - (current ? current.step : 0);
    if (left > 0) send({type: "step", steps: Math.min(left, 200)});  // 200 at a time: the loss curve fills in
  }

  function receive(msg) {
    if (msg.type === "snapshot") {
      figureError(root, null);
      if (msg.step === 0) history = [];
      if (msg.loss !== null) history.push([msg.step, msg.loss, msg.dev_loss]);
      current = msg;
      draw(msg);
      if (!playing && msg.step < state.step) {
        catchUp();
      } else {
        state.step = msg.step;
        saveFigureState(root, state);
      }
    } else if (msg.type === "paused") {
      setPlaying(false);
      say(msg.detail || `paused at step ${msg.step}`);
    } else if (msg.type === "diverged") {
      setPlaying(false);
      figureError(root, msg.detail);
    } else if (msg.type === "error") {
      figureError(root, msg.detail);
    }
  }

  function start() {
    setPlaying(false);
    say("");
    state.seed = Number(seed.value);
    state.lr = Number(lr.value);
    send({type: "reset", seed: state.seed, lr: state.lr});
  }

  function draw(s) {
    readout.textContent = `step ${s.step}` + (s.loss === null ? "" : ` · minibatch loss ${fmt(s.loss)}`) +
      ` · dev loss ${fmt(s.dev_loss)}`;
    drawScatter(s);
    drawLoss();
    samples.replaceChildren(...s.samples.map(name => {
      const li = document.createElement("li");
      li.textContent = name || "(empty)";
      return li;
    }));
    const head = "<tr><th>character</th><th>C[i, 0]</th><th>C[i, 1]</th></tr>";
    table.innerHTML = head;
    s.chars.forEach((ch, i) => {
      const tr = document.createElement("tr");
      for (const v of [ch, fmt(s.embedding[i][0]), fmt(s.embedding[i][1])]) {
        const td = document.createElement("td");
        td.textContent = v;
        tr.appendChild(td);
      }
      tr.dataset.char = ch;
      table.appendChild(tr);
    });
  }

  function drawScatter(s) {
    const W = 360, H = 360, P = 24;
    scatter.innerHTML = "";
    scatter.setAttribute("viewBox", `0 0 ${W} ${H}`);
    const reach = Math.max(1, ...s.embedding.flat().map(Math.abs)) * 1.1;
    const x = scale(-reach, reach, P, W - P), y = scale(-reach, reach, H - P, P);
    el("line", {class: "axis", x1: x(0), y1: P, x2: x(0), y2: H - P}, scatter);
    el("line", {class: "axis", x1: P, y1: y(0), x2: W - P, y2: y(0)}, scatter);
    el("text", {x: 4, y: H - 4, class: "key"}, scatter, `→ C[:,0]  ↑ C[:,1]  (±${reach.toFixed(1)})`);
    s.chars.forEach((ch, i) => {
      const [a, b] = s.embedding[i];
      const kind = ch === "." ? "boundary" : VOWELS.has(ch) ? "vowel" : "consonant";
      const g = el("g", {class: `pt ${kind}`, "data-char": ch}, scatter);
      el("circle", {cx: x(a), cy: y(b), r: 9}, g);
      el("text", {x: x(a), y: y(b) + 4, "text-anchor": "middle"}, g, ch);
      el("title", {}, g, `${ch}: (${fmt(a)}, ${fmt(b)})`);
    });
  }

  function drawLoss() {
    const W = 360, H = 200, P = 36;
    chart.innerHTML = "";
    chart.setAttribute("viewBox", `0 0 ${W} ${H}`);
    const last = history.length ? history[history.length - 1][0] : 1;
    const top = Math.max(3.5, ...history.map(h => h[1]));
    const x = scale(0, Math.max(last, 1), P, W - 8), y = scale(1.8, top, H - 24, 8);
    el("line", {class: "axis", x1: P, y1: H - 24, x2: W - 8, y2: H - 24}, chart);
    el("line", {class: "axis", x1: P, y1: 8, x2: P, y2: H - 24}, chart);
    el("text", {x: 2, y: 18}, chart, top.toFixed(1));
    el("text", {x: 2, y: H - 24}, chart, "1.8");
    el("text", {x: W - 8, y: H - 6, "text-anchor": "end"}, chart, history.length ? `step (to ${last})` : "step");
    for (const [k, cls] of [[1, "curve"], [2, "curve dev"]]) {
      if (history.length < 2) continue;
      const d = history.map((h, i) => `${i ? "L" : "M"}${x(h[0]).toFixed(1)},${y(Math.min(h[k], top)).toFixed(1)}`);
      el("path", {class: cls, d: d.join("")}, chart);
    }
    el("text", {x: W - 8, y: 22, "text-anchor": "end", class: "key"}, chart, "minibatch ─ dev ┄");
  }

  play.addEventListener("click", () => {
    if (playing) {
      send({type: "pause"});
      setPlaying(false);
    } else {
      say("");
      setPlaying(true);
      send({type: "play"});
    }
  });
  step.addEventListener("click", () => {
    setPlaying(false);
    say("");
    state.step = (current ? current.step : 0) + 100;
    send({type: "step", steps: 100});
  });
  reset.addEventListener("click", () => {
    state.step = 0;
    start();
  });
  seed.addEventListener("change", () => { state.step = 0; start(); });
  lr.addEventListener("change", () => { state.step = 0; start(); });

  ws = new WebSocket(`ws://${location.host}/api/figure/embeddings/live`);
  ws.onmessage = ev => receive(JSON.parse(ev.data));
  ws.onclose = () => { setPlaying(false); say("Disconnected from the server; reload the page.", true); };
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("could not reach the server's training socket; reload the page"));
  });
  start();
});
