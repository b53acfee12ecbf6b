// Chapter 7's attention figure: one trained head on a typed string, step by step. The server's engine
// computes every number (the model's own Linears, F.attention_weights, F.scaled_dot_product_attention);
// this script draws Q, K, V, the scores, the mask, the weights and the output as heatmaps, and one row's
// steps as a table. Two switches take out the causal mask or the 1/sqrt(d) scale.
"use strict";

registerFigure("attention", async (root, args) => {
  const state = figureState(root, {text: args.text || "to be or not to", mask: true, scale: true, row: 0});

  const controls = document.createElement("div");
  controls.className = "controls";
  root.appendChild(controls);
  const textLabel = document.createElement("label");
  const text = Object.assign(document.createElement("input"), {type: "text", maxLength: 16, value: state.text});
  text.setAttribute("aria-label", "text, up to 16 characters");
  textLabel.append("text ", text);
  const check = (label, on) => {
    const wrap = document.createElement("label");
    const box = Object.assign(document.createElement("input"), {type: "checkbox", checked: on});
    box.setAttribute("aria-label", label);
    wrap.append(box, " " + label);
    return [wrap, box];
  };
  const [maskLabel, mask] = check("causal mask", state.mask);
  const [scaleLabel, scaleBox] = check("scale by 1/√d", state.scale);
  const rowLabel = document.createElement("label");
  const row = Object.assign(document.createElement("input"), {type: "range", min: 0, max: 15, step: 1,
                                                              value: state.row});
  row.setAttribute("aria-label", "position to follow");
  const rowOut = document.createElement("output");
  rowLabel.append("follow position ", row, " ", rowOut);
  controls.append(textLabel, maskLabel, scaleLabel, rowLabel);

  const readout = document.createElement("p");
  readout.className = "readout";
  readout.setAttribute("aria-live", "polite");
  const warning = document.createElement("p");
  warning.className = "attn-warning";
  const grid = document.createElement("div");
  grid.className = "attn-grid";
  const steps = document.createElement("div");
  steps.className = "attn-steps";
  root.append(readout, warning, grid, steps);

  const panel = (title, label) => {
    const fig = document.createElement("figure");
    const cap = document.createElement("figcaption");
    cap.textContent = title;
    const svg = el("svg", {role: "img", "aria-label": label});
    fig.append(cap, svg);
    grid.appendChild(fig);
    return [svg, cap];
  };
  const panels = {
    q: panel("1. Q = x Wq: what each position looks for", "queries, one row per position"),
    k: panel("1. K = x Wk: what each position offers", "keys, one row per position"),
    v: panel("1. V = x Wv: what each position passes on", "values, one row per position"),
    scores: panel("2. scores = Q Kᵀ / √d", "scaled scores, query rows against key columns"),
    mask: panel("3. the mask: which keys a query may see", "which keys each query may see"),
    weights: panel("4. weights = softmax of each row", "attention weights, each row summing to 1"),
    out: panel("5. output = weights V", "the head's output, one row per position"),
  };

  // A heatmap of matrix m (rows labelled by the characters); blue for positive, orange for negative, each
  // cell's number in its tooltip (and printed in the cell when `numbers`); the followed row outlined.
  function heatmap([svg], m, {cols = null, masked = null, numbers = false, unsigned = false, range = null} = {}) {
    const R = m.length, C = m[0].length, cell = 22, left = 30, top = cols ? 22 : 4;
    svg.innerHTML = "";
    svg.setAttribute("viewBox", `0 0 ${left + C * cell + 2} ${top + R * cell + 2}`);
    const big = range || Math.max(1e-9, ...m.flat().filter(Number.isFinite).map(Math.abs));
    m.forEach((values, i) => {
      el("text", {x: left - 4, y: top + i * cell + 15, "text-anchor": "end"}, svg, show(chars[i]));
      values.forEach((value, j) => {
        const blocked = masked && !masked[i][j];
        const attrs = {x: left + j * cell, y: top + i * cell, width: cell - 1, height: cell - 1};
        if (blocked) {
          attrs.class = "cell blocked";
        } else if (typeof value === "boolean") {
          attrs.class = "cell kept";
        } else {
          attrs.class = unsigned || value >= 0 ? "cell pos" : "cell neg";
          attrs["fill-opacity"] = Math.min(1, Math.abs(value) / big).toFixed(3);
        }
        const rect = el("rect", attrs, svg);
        const shown = typeof value === "boolean" ? (value ? "may see" : "blocked") : fmt(value, 3);
        el("title", {}, rect, `row ${i} ${show(chars[i])}, column ${j}: ${blocked ? "−∞ (masked)" : shown}`);
        if (numbers && !blocked && value >= 0.005) {
          el("text", {x: left + j * cell + cell / 2, y: top + i * cell + 15, "text-anchor": "middle",
                      class: "cellnum"}, svg, value >= 0.995 ? "1" : value.toFixed(2).slice(1));
        }
      });
    });
    if (cols) cols.forEach((c, j) => el("text", {x: left + j * cell + cell / 2, y: 15, "text-anchor": "middle"},
                                        svg, show(c)));
    el("rect", {class: "followed", x: left - 1, y: top + state.row * cell - 1, width: C * cell + 1,
                height: cell + 1}, svg);
  }

  let chars = [];
  const show = c => (c === " " ? "␣" : c === "\n" ? "⏎" : c);

  function drawSteps(r) {
    const i = state.row, c = show(chars[i]);
    steps.innerHTML = "";
    const h = document.createElement("h3");
    h.textContent = `position ${i} ${c}: its scores, the mask, its weights`;
    const table = document.createElement("table");
    table.className = "attn-row";
    const head = table.createTHead().insertRow();
    for (const t of ["key", "char", "score", "masked", "weight"]) {
      const th = document.createElement("th");
      th.textContent = t;
      head.appendChild(th);
    }
    const body = table.createTBody();
    chars.forEach((ch, j) => {
      const tr = body.insertRow();
      const seen = r.mask[i][j];
      tr.className = seen ? "" : "masked";
      for (const t of [j, show(ch), fmt(r.scores[i][j], 3), seen ? fmt(r.scores[i][j], 3) : "−∞",
                       fmt(r.weights[i][j], 4)]) {
        tr.insertCell().textContent = t;
      }
    });
    const sum = document.createElement("p");
    sum.className = "row-sum";
    const total = r.weights[i].reduce((a, b) => a + b, 0);
    sum.textContent = `the weights of position ${i} add up to ${fmt(total, 4)}; its output is their mix of the ` +
                      "value rows";
    steps.append(h, table, sum);
  }

  let last = null;
  async function update() {
    state.text = text.value;
    state.mask = mask.checked;
    state.scale = scaleBox.checked;
    row.max = Math.max(0, [...state.text].length - 1);
    state.row = Math.min(Number(row.value), Number(row.max));
    row.value = state.row;
    rowOut.textContent = state.row;
    saveFigureState(root, state);
    let r;
    try {
      r = await api("/api/figure/attention", {text: state.text, mask: state.mask, scale: state.scale});
    } catch (err) {
      figureError(root, err);
      return;
    }
    figureError(root, null);
    last = r;
    draw(r);
  }

  function draw(r) {
    chars = r.chars;
    const d = r.head_size;
    panels.scores[1].textContent = state.scale ? `2. scores = Q Kᵀ / √${d}` : "2. scores = Q Kᵀ (no scale)";
    readout.textContent = `weight on later positions (largest row): ${fmt(r.future_weight, 4)} · ` +
                          `mean largest weight of a row: ${fmt(r.top_weight, 4)} · ` +
                          `spread (std) of the scores: ${fmt(r.scores_std, 3)}`;
    const problems = [];
    if (!state.mask) {
      problems.push(`Without the mask a position reads the characters after it (up to ${fmt(r.future_weight, 2)} ` +
                    "of a row's weight): in training it could copy the very character it must predict, and when " +
                    "it writes, those characters do not exist yet.");
    }
    if (!state.scale) {
      problems.push(`Without 1/√${d} the scores are ${Math.sqrt(d)} times larger, so the softmax turns nearly ` +
                    "one-hot: each position listens to one other and the gradient through the rest vanishes.");
    }
    warning.textContent = problems.join(" ");
    warning.hidden = !problems.length;
    heatmap(panels.q, r.q);
    heatmap(panels.k, r.k);
    heatmap(panels.v, r.v);
    heatmap(panels.scores, r.scores, {cols: chars, masked: r.mask});
    heatmap(panels.mask, r.mask, {cols: chars, masked: r.mask});
    heatmap(panels.weights, r.weights, {cols: chars, numbers: true, unsigned: true, range: 1});
    heatmap(panels.out, r.out);
    drawSteps(r);
  }

  let timer = null;
  text.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(update, 150);
  });
  mask.addEventListener("change", update);
  scaleBox.addEventListener("change", update);
  row.addEventListener("input", () => {
    state.row = Number(row.value);
    rowOut.textContent = state.row;
    saveFigureState(root, state);
    if (last) draw(last);
  });
  await update();
});
