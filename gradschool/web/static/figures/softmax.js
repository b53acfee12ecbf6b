// Chapter 3's softmax figure: a slider per logit and a temperature; the server's scalar engine answers with
// the probabilities, the target's cross-entropy and each logit's slope (softmax - one-hot), drawn as bars.
"use strict";

registerFigure("softmax", async (root, args) => {
  const n = Number(args.classes || 3);
  const defaults = {target: 0, temperature: 1};
  const start = (args.logits || "2,1,0.1").split(",").map(Number);
  for (let i = 0; i < n; i++) defaults[`z${i}`] = start[i] ?? 0;
  const state = figureState(root, defaults);

  const controls = document.createElement("div");
  controls.className = "controls";
  root.appendChild(controls);
  const slider = (key, label, min, max, step) => {
    const {input, out} = rangeControl(controls, label, min, max, step, state[key]);
    input.dataset.key = key;
    return [input, out];
  };
  const inputs = [];
  for (let i = 0; i < n; i++) inputs.push(slider(`z${i}`, `logit ${i}`, -8, 8, 0.1));
  inputs.push(slider("temperature", "temperature", 0.1, 5, 0.1));
  const pick = document.createElement("label");
  const select = document.createElement("select");
  select.setAttribute("aria-label", "the right class");
  for (let i = 0; i < n; i++) select.add(new Option(`class ${i}`, i));
  select.value = state.target;
  pick.append("right answer ", select);
  controls.appendChild(pick);

  const readout = document.createElement("p");
  readout.className = "readout";
  readout.setAttribute("aria-live", "polite");
  root.appendChild(readout);
  const svg = el("svg", {role: "img", "aria-label": "probabilities and slopes of each class"});
  root.appendChild(svg);

  async function update() {
    for (const [input, out] of inputs) {
      state[input.dataset.key] = Number(input.value);
      out.textContent = Number(input.value).toFixed(1);
    }
    state.target = Number(select.value);
    saveFigureState(root, state);
    const logits = [...Array(n).keys()].map(i => state[`z${i}`]);
    try {
      const r = await api("/api/figure/softmax", {logits, target: state.target, temperature: state.temperature});
      figureError(root, null);
      const p = r.probs[state.target];
      readout.textContent = `cross-entropy of class ${state.target}: −log ${fmt(p, 3)} = ${fmt(r.loss)}`;
      draw(r);
    } catch (err) {
      figureError(root, err);
    }
  }

  function draw(r) {
    const W = 480, H = 250, mid = 120, bw = (W - 60) / n, unit = 90;
    svg.innerHTML = "";
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    el("line", {class: "axis", x1: 40, y1: mid, x2: W - 10, y2: mid}, svg);
    el("text", {class: "key", x: 4, y: mid - unit + 4}, svg, "1");
    el("text", {class: "key", x: 4, y: mid + 4}, svg, "0");
    r.probs.forEach((p, i) => {
      const x = 45 + i * bw;
      const target = i === state.target;
      if (target) {  // the one-hot answer: the probability the right class should get
        el("rect", {class: "one-hot", x, y: mid - unit, width: bw * 0.4, height: unit}, svg);
        el("text", {class: "key", x: x, y: mid - unit - 4}, svg, "one-hot 1");
      }
      el("rect", {class: target ? "bar target" : "bar", x, y: mid - p * unit, width: bw * 0.4, height: p * unit},
         svg);
      el("text", {x: x, y: target ? mid + 16 : mid - p * unit - 4}, svg, `p ${fmt(p, 3)}`);
      const g = r.grads[i], h = Math.min(Math.abs(g), 1) * unit;
      el("rect", {class: g < 0 ? "bar neg" : "bar pos", x: x + bw * 0.45, y: g < 0 ? mid : mid - h,
                  width: bw * 0.4, height: h}, svg);
      el("text", {x: x + bw * 0.45, y: g < 0 ? mid + h + 14 : mid - h - 4}, svg, `∂ ${fmt(g, 3)}`);
      el("text", {x: x, y: H - 30}, svg, `class ${i}${target ? " (right)" : ""}`);
    });
    el("text", {class: "key", x: 40, y: H - 8}, svg,
       "p = softmax(logits / T); ∂ = ∂loss/∂logit = (p − one-hot) / T");
  }

  for (const [input] of inputs) input.addEventListener("input", update);
  select.addEventListener("change", update);
  await update();
});
