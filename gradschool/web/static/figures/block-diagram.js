// Chapter 8's block diagram: x -> LN -> attention -> + -> LN -> MLP -> +, the residual stream as a straight
// line on the left, and on each arrow the shape of the tensor that flows there, read by the server from
// running the library's own Block on the chosen sizes.
"use strict";

registerFigure("block-diagram", async (root, args) => {
  const state = figureState(root, {batch: Number(args.batch || 4), T: Number(args.context || 32),
                                   n_embd: Number(args.n_embd || 32), n_head: Number(args.n_head || 4)});
  const controls = document.createElement("div");
  controls.className = "controls";
  root.appendChild(controls);
  const inputs = {};
  const choose = (key, label, options) => {
    const wrap = document.createElement("label");
    const select = document.createElement("select");
    select.setAttribute("aria-label", label);
    for (const o of options) select.add(new Option(o, o));
    select.value = state[key];
    wrap.append(label + " ", select);
    controls.appendChild(wrap);
    inputs[key] = select;
  };
  choose("batch", "batch B", [1, 2, 4, 8, 16]);
  choose("T", "context T", [1, 4, 8, 16, 32, 64, 128]);
  choose("n_embd", "width C", [16, 32, 48, 64, 128]);
  choose("n_head", "heads", [1, 2, 4, 8]);
  const readout = document.createElement("p");
  readout.className = "readout";
  readout.setAttribute("aria-live", "polite");
  root.appendChild(readout);
  const svg = el("svg", {role: "img", class: "block-diagram",
                         "aria-label": "the transformer block with the shape of the tensor on each arrow"});
  root.appendChild(svg);

  // The boxes top to bottom; the arrow below box i carries arrows[i] (names as the API gives them).
  const boxes = (C, H) => [
    ["input x", "x"], ["LayerNorm ln_1", "ln_1"], [`c_attn: Linear ${C} → ${3 * C}`, "c_attn"],
    [`split q, k, v into ${H} heads`, "q, k, v"], ["softmax(q kᵀ / √d), causal", "weights"],
    ["weights · v, heads side by side", "heads_joined"], [`c_proj: Linear ${C} → ${C}`, "attn"],
    ["+", "residual_1"], ["LayerNorm ln_2", "ln_2"], [`c_fc: Linear ${C} → ${4 * C}`, "c_fc"],
    ["GELU", "gelu"], [`c_proj: Linear ${4 * C} → ${C}`, "mlp"], ["+", "out"], ["output", null]];

  function draw(r) {
    const shapes = Object.fromEntries(r.arrows.map(a => [a.name, a.shape]));
    const list = boxes(state.n_embd, state.n_head);
    const W = 500, step = 46, bx = 70, bw = 250, bh = 26, H = list.length * step + 10;
    svg.innerHTML = "";
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    const y = i => 8 + i * step;
    const plus = [7, 12];
    // the residual stream: straight down the left, from the input past each branch into its "+"
    for (const [from, to] of [[0, 7], [7, 12]]) {
      el("path", {class: "stream", d: `M${bx},${y(from) + bh / 2} H36 V${y(to) + bh / 2} H${bx + bw / 2 - 13}`}, svg);
    }
    el("text", {x: 28, y: y(4), "text-anchor": "middle", class: "stream-label",
                transform: `rotate(-90 28 ${y(4)})`}, svg, "residual stream");
    // the two branches, bracketed on the right: the layers of block.attn and of block.mlp
    for (const [from, to, text, kind] of [[2, 6, "attn", "attn"], [9, 11, "mlp", "mlp"]]) {
      const x0 = W - 30;
      el("path", {class: `bracket ${kind}`, d: `M${x0 - 8},${y(from)} H${x0} V${y(to) + bh} H${x0 - 8}`}, svg);
      el("text", {x: x0 + 16, y: (y(from) + y(to) + bh) / 2, "text-anchor": "middle", class: `bracket-label ${kind}`,
                  transform: `rotate(-90 ${x0 + 16} ${(y(from) + y(to) + bh) / 2})`}, svg, text);
    }
    list.forEach(([label, name], i) => {
      const isPlus = plus.includes(i);
      if (isPlus) {
        el("circle", {class: "box plus", cx: bx + bw / 2, cy: y(i) + bh / 2, r: 13}, svg);
        el("text", {x: bx + bw / 2, y: y(i) + bh / 2 + 5, "text-anchor": "middle"}, svg, "+");
      } else {
        const kind = i >= 1 && i <= 6 ? "attn" : i >= 8 && i <= 11 ? "mlp" : "io";
        el("rect", {class: `box ${kind}`, x: bx, y: y(i), width: bw, height: bh, rx: 5}, svg);
        el("text", {x: bx + bw / 2, y: y(i) + 17, "text-anchor": "middle"}, svg, label);
      }
      if (name === null) return;
      const y0 = y(i) + bh, y1 = y(i + 1);
      el("line", {class: "arrow", x1: bx + bw / 2, y1: y0, x2: bx + bw / 2, y2: y1 - 2}, svg);
      el("path", {class: "arrowhead", d: `M${bx + bw / 2 - 4},${y1 - 7} L${bx + bw / 2},${y1 - 1} ` +
                                        `L${bx + bw / 2 + 4},${y1 - 7} Z`}, svg);
      el("text", {x: bx + bw / 2 + 10, y: (y0 + y1) / 2 + 5, class: "shape", "data-name": name}, svg,
         `(${shapes[name].join(", ")})`);
    });
  }

  async function update() {
    for (const [k, input] of Object.entries(inputs)) state[k] = Number(input.value);
    saveFigureState(root, state);
    try {
      const r = await api("/api/figure/block", state);
      figureError(root, null);
      readout.textContent = `one block of width ${state.n_embd}: ${r.parameters} weights; ` +
                            `each head is ${state.n_embd / state.n_head} wide`;
      draw(r);
    } catch (err) {
      figureError(root, err);
    }
  }
  for (const input of Object.values(inputs)) input.addEventListener("change", update);
  await update();
});
