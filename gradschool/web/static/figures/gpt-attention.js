// Chapter 9's attention figure: the weights of any head of any layer of a trained GPT reading the prompt
// (GPT.attention_weights on the server). Row i is where position i looks; hover or focus a row to read it.
"use strict";

registerFigure("gpt-attention", async (root, args) => {
  const state = figureState(root, {model: args.model || "", prompt: args.prompt || "", layer: 0, head: 0});
  const controls = document.createElement("div");
  controls.className = "controls";
  root.appendChild(controls);
  const labelled = (label, input) => {
    const wrap = document.createElement("label");
    input.setAttribute("aria-label", label);
    wrap.append(label + " ", input);
    controls.appendChild(wrap);
    return input;
  };
  const prompt = labelled("prompt", Object.assign(document.createElement("input"),
                                                  {type: "text", size: 16, maxLength: 200, value: state.prompt}));
  const layer = labelled("layer", document.createElement("select"));
  const head = labelled("head", document.createElement("select"));
  const readout = document.createElement("p");
  readout.className = "readout";
  readout.setAttribute("aria-live", "polite");
  readout.textContent = "hover or focus a row to read its weights (each row is shaded against its largest)";
  const svg = el("svg", {role: "img", class: "heatmap",
                         "aria-label": "attention weights: rows are the positions that look, columns where they look"});
  root.append(readout, svg);

  let info = null;
  const fill = (select, n, value) => {
    select.replaceChildren(...[...Array(n).keys()].map(i => new Option(String(i), String(i))));
    select.value = String(Math.min(value, n - 1));
  };
  const picker = lmModelPicker(root, controls, state, m => m.kind === "gpt", async (m, picked) => {
    info = m;
    if (picked) state.prompt = prompt.value = "";
    fill(layer, info.n_layer, state.layer);
    fill(head, info.n_head, state.head);
    if (!state.prompt) {  // something to read: a name, or a speaker's line
      state.prompt = info.boundary ? "emma" : "ROMEO:";
      prompt.value = state.prompt;
    }
    await update();
  });

  async function update() {
    state.prompt = prompt.value;
    state.layer = Number(layer.value || 0);
    state.head = Number(head.value || 0);
    saveFigureState(root, state);
    if (!info) return;
    try {
      const r = await api("/api/lm/attention", {model: state.model, layer: state.layer, head: state.head,
                                                prompt: state.prompt.slice(-(info.block_size - 1))});
      figureError(root, null);
      draw(r.tokens, r.weights);
    } catch (err) { figureError(root, err); }
  }

  function draw(tokens, weights) {
    const T = tokens.length, cell = Math.min(28, 420 / T), P = 30, W = Math.max(P + T * cell + 10, 460);
    const show = t => lmChar(t, info.boundary);
    svg.replaceChildren();
    svg.setAttribute("viewBox", `0 0 ${W} ${W}`);
    tokens.forEach((t, j) => el("text", {x: P + j * cell + cell / 2, y: P - 8, "text-anchor": "middle"}, svg,
                                show(t)));
    const rows = weights.map((ws, i) => {
      const g = el("g", {class: "row", tabindex: 0, "data-row": i,
                         "aria-label": `row ${i}, ${show(tokens[i])}`}, svg);
      el("text", {x: P - 6, y: P + i * cell + cell * 0.7, "text-anchor": "end"}, g, show(tokens[i]));
      const top = Math.max(...ws);  // each row shaded against its own largest weight
      ws.forEach((w, j) => {
        const r = el("rect", {x: P + j * cell, y: P + i * cell, width: cell - 1, height: cell - 1, class: "cell",
                              "fill-opacity": j <= i ? 0.04 + 0.96 * w / top : 0}, g);
        el("title", {}, r, `${show(tokens[i])} → ${show(tokens[j])}: ${fmt(w, 4)}`);
      });
      const focus = () => {
        rows.forEach(o => o.classList.toggle("dim", o !== g));
        readout.textContent = `row ${i} (${show(tokens[i])}): ` +
          ws.slice(0, i + 1).map((w, j) => `${show(tokens[j])} ${fmt(w, 4)}`).join(" · ");
      };
      g.addEventListener("mouseenter", focus);
      g.addEventListener("focus", focus);
      return g;
    });
    svg.onmouseleave = () => rows.forEach(o => o.classList.remove("dim"));
  }

  prompt.addEventListener("input", update);
  layer.addEventListener("change", update);
  head.addEventListener("change", update);
  await picker.refresh();
});
