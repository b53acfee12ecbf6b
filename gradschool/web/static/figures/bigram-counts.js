// Chapter 4's count matrix: how often each character follows each other one in the shipped names, from the
// server (rung 4's count_model and average_nll). Pick a row (click a cell, or the select, or the arrow keys on
// the grid): its probabilities as bars. Smoothing changes the probabilities and their average NLL. "sample"
// draws a name from the server, shown one character at a time with the row each step used marked.
"use strict";

registerFigure("bigram-counts", async (root, args) => {
  // an error box only once there is an error to show: none takes space before
  const clearError = () => root.querySelector(":scope > .status.bad") && figureError(root, null);
  const SMOOTHING = [0, 0.1, 0.5, 1, 2, 5, 10, 100, 1000];
  const defaults = {row: 1, smoothing: Number(args.smoothing ?? 1), seed: 1, shown: 0};
  const state = figureState(root, defaults);
  if (!SMOOTHING.includes(state.smoothing)) state.smoothing = defaults.smoothing;

  const controls = document.createElement("div");
  controls.className = "controls";
  root.appendChild(controls);
  const wrap = (text, input) => {
    const label = document.createElement("label");
    label.append(text + " ", input);
    controls.appendChild(label);
    return label;
  };
  const smooth = Object.assign(document.createElement("input"),
                               {type: "range", min: 0, max: SMOOTHING.length - 1, step: 1,
                                value: SMOOTHING.indexOf(state.smoothing)});
  smooth.setAttribute("aria-label", "smoothing: a count added to every cell");
  const smoothOut = document.createElement("output");
  wrap("smoothing", smooth).append(" +", smoothOut);
  const rowPick = document.createElement("select");
  rowPick.setAttribute("aria-label", "the row: the character before");
  wrap("row", rowPick);

  const readout = document.createElement("p");
  readout.className = "readout";
  readout.setAttribute("aria-live", "polite");
  root.appendChild(readout);
  const grid = el("svg", {class: "bigram-grid", role: "img", tabindex: 0,
                          "aria-label": "the 27 by 27 bigram counts: row = the character before, column = " +
                                        "the next; arrow keys up and down pick a row"});
  const scroller = document.createElement("div");
  scroller.className = "grid-scroller";  // on a narrow screen the grid keeps legible cells and scrolls
  scroller.appendChild(grid);
  root.appendChild(scroller);
  const rowCaption = document.createElement("p");
  rowCaption.className = "row-caption";
  rowCaption.setAttribute("aria-live", "polite");
  root.appendChild(rowCaption);
  const bars = el("svg", {class: "bigram-row", role: "img", "aria-label": "the probabilities of the chosen row"});
  root.appendChild(bars);

  const sampler = document.createElement("div");
  sampler.className = "controls";
  root.appendChild(sampler);
  const seed = Object.assign(document.createElement("input"), {type: "number", min: 0, step: 1,
                                                              value: state.seed});
  seed.setAttribute("aria-label", "sampling seed");
  const seedLabel = document.createElement("label");
  seedLabel.append("seed ", seed);
  const sampleButton = Object.assign(document.createElement("button"), {type: "button", textContent: "sample a name"});
  const nextButton = Object.assign(document.createElement("button"), {type: "button",
                                                                     textContent: "next character"});
  const allButton = Object.assign(document.createElement("button"), {type: "button", textContent: "whole name"});
  sampler.append(seedLabel, sampleButton, nextButton, allButton);
  const sampleOut = document.createElement("p");
  sampleOut.className = "readout sample";
  sampleOut.setAttribute("aria-live", "polite");
  root.appendChild(sampleOut);

  let data = null, sample = null, cells = [], rowMark = null, sampleMark = null, drawnMark = null;
  const C = 34, M = 22;  // a cell's size, the margin for the row and column labels

  const show = ch => (ch === "." ? "." : ch);

  function drawGrid() {
    const n = data.itos.length, max = Math.max(...data.counts.flat());
    grid.innerHTML = "";
    grid.setAttribute("viewBox", `0 0 ${M + n * C} ${M + n * C}`);
    cells = [];
    data.itos.forEach((ch, i) => {
      el("text", {class: "axis-label", x: M + i * C + C / 2, y: M - 6, "text-anchor": "middle"}, grid, show(ch));
      el("text", {class: "axis-label", x: M - 6, y: M + i * C + C / 2 + 4, "text-anchor": "end"}, grid, show(ch));
    });
    data.counts.forEach((row, i) => row.forEach((count, j) => {
      const g = el("g", {class: "cell", "data-row": i, "data-col": j}, grid);
      const shade = Math.sqrt(count / max);
      el("rect", {x: M + j * C, y: M + i * C, width: C, height: C, "fill-opacity": (0.04 + 0.96 * shade).toFixed(3)},
         g);
      const ink = shade > 0.55 ? "on-dark" : "";
      el("text", {class: `pair ${ink}`, x: M + j * C + C / 2, y: M + i * C + 13, "text-anchor": "middle"}, g,
         show(data.itos[i]) + show(data.itos[j]));
      el("text", {class: `count ${ink}`, x: M + j * C + C / 2, y: M + i * C + 27, "text-anchor": "middle"}, g,
         String(count));
      el("title", {}, g, `'${data.itos[i]}' then '${data.itos[j]}': ${count} times`);
      cells.push(g);
    }));
    rowMark = el("rect", {class: "row-mark", x: M, width: n * C, height: C}, grid);
    sampleMark = el("rect", {class: "sample-mark", x: M, width: n * C, height: C, visibility: "hidden"}, grid);
    drawnMark = el("rect", {class: "drawn-mark", width: C, height: C, visibility: "hidden"}, grid);
  }

  function drawRow() {
    const row = state.row, probs = data.probs[row], n = probs.length;
    rowMark.setAttribute("y", M + row * C);
    rowPick.value = row;
    const total = data.counts[row].reduce((a, b) => a + b, 0);
    const best = probs.indexOf(Math.max(...probs));
    rowCaption.textContent = `row '${data.itos[row]}': ${total} bigrams start with it; with smoothing ` +
      `+${state.smoothing}, the likeliest next character is '${data.itos[best]}' (p ${fmt(probs[best], 4)})`;
    const W = 840, H = 190, bw = (W - 20) / n, top = Math.max(...probs, 1e-9);
    bars.innerHTML = "";
    bars.setAttribute("viewBox", `0 0 ${W} ${H}`);
    const drawn = sample && state.shown > 0 ? sample.steps[state.shown - 1] : null;
    probs.forEach((p, j) => {
      const h = (p / top) * (H - 50);
      const cls = drawn && drawn.row === row && drawn.next === j ? "bar drawn" : "bar";
      el("rect", {class: cls, x: 10 + j * bw + 2, y: H - 22 - h, width: bw - 4, height: h, "data-p": p}, bars);
      el("text", {x: 10 + j * bw + bw / 2, y: H - 6, "text-anchor": "middle"}, bars, show(data.itos[j]));
      if (p >= 0.05) {
        el("text", {class: "small", x: 10 + j * bw + bw / 2, y: H - 26 - h, "text-anchor": "middle"}, bars,
           p.toFixed(2));
      }
    });
  }

  function drawSample() {
    const steps = sample ? sample.steps.slice(0, state.shown) : [];
    const last = steps[steps.length - 1];
    nextButton.disabled = !sample || state.shown >= sample.steps.length;
    allButton.disabled = nextButton.disabled;
    if (!last) {
      sampleMark.setAttribute("visibility", "hidden");
      drawnMark.setAttribute("visibility", "hidden");
      sampleOut.textContent = sample ? "the name starts after '.': press next character" : "";
      delete root.dataset.sampleRow;
      return;
    }
    sampleMark.setAttribute("y", M + last.row * C);
    sampleMark.setAttribute("visibility", "visible");
    drawnMark.setAttribute("x", M + last.next * C);
    drawnMark.setAttribute("y", M + last.row * C);
    drawnMark.setAttribute("visibility", "visible");
    const name = steps.filter(s => s.next !== 0).map(s => data.itos[s.next]).join("");
    const end = last.next === 0 ? " — '.' drawn: the name is finished" : "";
    sampleOut.textContent = `${name || "(nothing yet)"}  ·  step ${steps.length}: row '${data.itos[last.row]}' ` +
      `drew '${data.itos[last.next]}' (p ${fmt(last.prob, 4)})${end}`;
    root.dataset.sampleRow = data.itos[last.row];
    root.dataset.sampleName = name;
  }

  async function load() {
    state.smoothing = SMOOTHING[Number(smooth.value)];
    smoothOut.textContent = String(state.smoothing);
    saveFigureState(root, state);
    try {
      const fresh = await api("/api/figure/bigram/counts", {smoothing: state.smoothing});
      const first = data === null;
      data = fresh;
      clearError();
      if (first) {
        data.itos.forEach((ch, i) => rowPick.add(new Option(`'${ch}'`, i)));
        drawGrid();
      }
      readout.textContent = `smoothing +${state.smoothing}: average negative log-likelihood of the ` +
        `${data.bigrams.toLocaleString("en")} bigrams of the ${data.names.toLocaleString("en")} names: ` +
        `${fmt(data.nll)}`;
      root.dataset.nll = data.nll;
      if (sample) await drawSampleFrom(state.seed, state.shown);
      drawRow();
      drawSample();
    } catch (err) {
      figureError(root, err);
    }
  }

  async function drawSampleFrom(s, shown) {
    sample = await api("/api/figure/bigram/sample", {smoothing: state.smoothing, seed: s});
    state.seed = s;
    state.shown = Math.min(shown, sample.steps.length);
  }

  function pickRow(row) {
    state.row = Math.max(0, Math.min(data.itos.length - 1, row));
    saveFigureState(root, state);
    drawRow();
  }

  function step(to) {
    state.shown = to;
    const last = sample.steps[state.shown - 1];
    if (last) state.row = last.row;
    saveFigureState(root, state);
    drawRow();
    drawSample();
  }

  smooth.addEventListener("input", load);
  rowPick.addEventListener("change", () => pickRow(Number(rowPick.value)));
  grid.addEventListener("click", e => {
    const g = e.target.closest(".cell");
    if (g) pickRow(Number(g.dataset.row));
  });
  grid.addEventListener("keydown", e => {
    if (e.key !== "ArrowUp" && e.key !== "ArrowDown") return;
    e.preventDefault();
    pickRow(state.row + (e.key === "ArrowDown" ? 1 : -1));
  });
  sampleButton.addEventListener("click", async () => {
    try {
      const s = Number.isInteger(Number(seed.value)) && Number(seed.value) >= 0 ? Number(seed.value) : 1;
      await drawSampleFrom(s, 0);
      seed.value = s + 1;  // the next press draws another name
      clearError();
      step(0);
    } catch (err) {
      figureError(root, err);
    }
  });
  nextButton.addEventListener("click", () => step(state.shown + 1));
  allButton.addEventListener("click", () => step(sample.steps.length));

  if (state.shown > 0) {
    await load();
    await drawSampleFrom(state.seed, state.shown);
    seed.value = state.seed + 1;
    step(state.shown);
  } else {
    await load();
  }
});
