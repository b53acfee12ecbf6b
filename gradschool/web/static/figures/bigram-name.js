// Chapter 4's likelihood of a name: type a name, the server (rung 4's count_model and average_nll) answers with
// each character's probability after the one before it, -log of it, and the name's total and average NLL.
"use strict";

registerFigure("bigram-name", async (root, args) => {
  // an error box only once there is an error to show: none takes space before
  const clearError = () => root.querySelector(":scope > .status.bad") && figureError(root, null);
  const SMOOTHING = [0, 0.1, 0.5, 1, 2, 5, 10, 100, 1000];
  const state = figureState(root, {name: args.name || "emma", smoothing: Number(args.smoothing ?? 1)});
  if (!SMOOTHING.includes(state.smoothing)) state.smoothing = 1;

  const controls = document.createElement("div");
  controls.className = "controls";
  root.appendChild(controls);
  const nameBox = Object.assign(document.createElement("input"), {type: "text", value: state.name,
                                                                 maxLength: 40, spellcheck: false});
  nameBox.setAttribute("aria-label", "a name");
  nameBox.setAttribute("autocomplete", "off");
  const smoothing = document.createElement("select");
  smoothing.setAttribute("aria-label", "smoothing of the counts");
  for (const s of SMOOTHING) smoothing.add(new Option(`+${s}`, s));
  smoothing.value = state.smoothing;
  for (const [text, input] of [["name", nameBox], ["smoothing", smoothing]]) {
    const label = document.createElement("label");
    label.append(text + " ", input);
    controls.appendChild(label);
  }

  const readout = document.createElement("p");
  readout.className = "readout";
  readout.setAttribute("aria-live", "polite");
  root.appendChild(readout);
  const chart = el("svg", {role: "img", "aria-label": "each character's probability and its negative log"});
  root.appendChild(chart);
  const table = document.createElement("table");
  table.className = "name-steps";
  root.appendChild(table);

  const show = v => (v === null ? "∞" : fmt(v));
  let asked = 0;

  function draw(r, itos) {
    const n = r.steps.length, W = 480, H = 190, bw = Math.min(60, (W - 20) / n);
    const top = Math.max(...r.steps.map(s => s.prob), 1e-9);
    chart.innerHTML = "";
    chart.setAttribute("viewBox", `0 0 ${W} ${H}`);
    el("line", {class: "axis", x1: 10, y1: 120, x2: W - 10, y2: 120}, chart);
    r.steps.forEach((s, i) => {
      const x = 10 + i * bw, h = Math.max(s.prob / top * 95, 0.5);
      el("rect", {class: "prob", x: x + 3, y: 120 - h, width: bw - 6, height: h}, chart);
      el("text", {class: "small", x: x + bw / 2, y: 114 - h, "text-anchor": "middle"}, chart, s.prob.toFixed(2));
      el("text", {x: x + bw / 2, y: 138, "text-anchor": "middle"}, chart, `${itos[s.row]}→${itos[s.next]}`);
      el("text", {class: "small nll", x: x + bw / 2, y: 156, "text-anchor": "middle"}, chart, show(s.nll));
    });
    el("text", {class: "small", x: 10, y: 180}, chart, "bars: p of each character; below: −log p");
    table.innerHTML = "";
    const head = table.insertRow();
    for (const h of ["after", "comes", "p", "−log p", "running total"]) {
      const th = document.createElement("th");
      th.textContent = h;
      head.appendChild(th);
    }
    let total = 0;
    for (const s of r.steps) {
      total = s.nll === null || total === null ? null : total + s.nll;
      const row = table.insertRow();
      for (const v of [`'${itos[s.row]}'`, `'${itos[s.next]}'`, fmt(s.prob, 4), show(s.nll), show(total)]) {
        row.insertCell().textContent = v;
      }
    }
  }

  async function update() {
    state.name = nameBox.value;
    state.smoothing = Number(smoothing.value);
    saveFigureState(root, state);
    const mine = ++asked;
    try {
      const r = await api("/api/figure/bigram/name", {name: state.name, smoothing: state.smoothing});
      if (mine !== asked) return;  // a newer keystroke's answer will draw
      clearError();
      readout.textContent = `'${r.name}': ${r.steps.length} predictions, NLL ${show(r.nll)} in total, ` +
        `${show(r.average_nll)} on average`;
      root.dataset.averageNll = r.average_nll === null ? "inf" : r.average_nll;
      draw(r, r.itos);
    } catch (err) {
      if (mine === asked) figureError(root, err);
    }
  }

  nameBox.addEventListener("input", update);
  smoothing.addEventListener("change", update);
  await update();
});
