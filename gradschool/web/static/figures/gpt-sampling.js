// Chapter 9's sampling figure: a trained model continues a prompt with temperature, top-k and top-p, and the
// bars show its probabilities for the next character after the prompt, with the same three applied (the
// distribution the samples are drawn from: gradschool.sampling.next_token_probs on the server).
"use strict";

registerFigure("gpt-sampling", async (root, args) => {
  const state = figureState(root, {model: args.model || "", prompt: args.prompt || "", temperature: 1,
                                   top_k: 0, top_p: 1, seed: 1337});
  const controls = document.createElement("div");
  controls.className = "controls";
  root.appendChild(controls);
  const field = (label, attrs, text = "") => {
    const wrap = document.createElement("label");
    const input = Object.assign(document.createElement("input"), attrs);
    input.setAttribute("aria-label", label);
    wrap.append(label + " ", input);
    if (text) {
      const help = document.createElement("span");
      help.className = "legend";
      help.textContent = " " + text;
      wrap.append(help);
    }
    controls.appendChild(wrap);
    return input;
  };
  const prompt = field("prompt", {type: "text", size: 16, maxLength: 200, value: state.prompt});
  const temperature = field("temperature", {type: "range", min: 0.1, max: 2, step: 0.05, value: state.temperature});
  const tempOut = document.createElement("output");
  temperature.after(" ", tempOut);
  const topK = field("top-k", {type: "number", min: 0, max: 1000, step: 1, value: state.top_k}, "0 = all");
  const topP = field("top-p", {type: "range", min: 0.05, max: 1, step: 0.05, value: state.top_p});
  const topPOut = document.createElement("output");
  topP.after(" ", topPOut);
  const seed = field("seed", {type: "number", min: 0, step: 1, value: state.seed});
  const button = Object.assign(document.createElement("button"), {textContent: "Sample"});
  controls.appendChild(button);

  const readout = document.createElement("p");
  readout.className = "readout";
  readout.setAttribute("aria-live", "polite");
  const bars = el("svg", {role: "img", "aria-label": "probabilities of the next character", class: "bars"});
  const samples = document.createElement("pre");
  samples.className = "samples";
  samples.setAttribute("aria-live", "polite");
  samples.setAttribute("aria-label", "samples");
  root.append(readout, bars, samples);

  let info = null;
  const picker = lmModelPicker(root, controls, state, () => true, async (m, picked) => {
    info = m;
    if (picked) state.prompt = prompt.value = "";
    if (!state.prompt && !info.boundary) {
      state.prompt = "ROMEO:";
      prompt.value = state.prompt;
    }
    await update();
    await sample();
  });

  function read() {
    state.prompt = prompt.value;
    state.temperature = Number(temperature.value);
    state.top_k = Math.max(0, Math.round(Number(topK.value) || 0));
    state.top_p = Number(topP.value);
    state.seed = Math.max(0, Math.round(Number(seed.value) || 0));
    tempOut.textContent = fmt(state.temperature, 2);
    topPOut.textContent = state.top_p >= 1 ? "off" : fmt(state.top_p, 2);
    saveFigureState(root, state);
    return {model: state.model, prompt: state.prompt, temperature: state.temperature,
            top_k: state.top_k > 0 ? state.top_k : null, top_p: state.top_p < 1 ? state.top_p : null};
  }

  let latest = 0;  // the newest request: an older answer arriving later must not overwrite its result
  async function update() {
    const q = read();
    if (!info) return;
    const mine = ++latest;
    try {
      const r = await api("/api/lm/next", q);
      if (mine !== latest) return;
      figureError(root, null);
      drawBars(r.choices);
      const best = r.choices[0];
      readout.textContent = `after "${r.tokens.map(t => lmChar(t, info.boundary)).join("")}": ` +
        `${r.choices.length} characters can come next; the likeliest is ` +
        `${best.end ? "the end" : lmChar(best.char, info.boundary)} (${fmt(best.prob, 3)})`;
    } catch (err) {
      if (mine === latest) figureError(root, err);
    }
  }

  async function sample() {
    const q = read();
    if (!info) return;
    try {
      const many = Boolean(info.boundary);  // names are short: five of them; text: three lines' worth
      const seen = latest;
      const r = await api("/api/lm/sample", {...q, num: many ? 5 : 3, max_new_tokens: many ? 30 : 80,
                                             seed: state.seed});
      if (seen === latest) figureError(root, null);  // a newer prompt's refusal stays
      samples.textContent = r.samples.join(info.boundary ? "\n" : "\n———\n");
    } catch (err) { figureError(root, err); }
  }

  function drawBars(choices) {
    const top = Math.max(...choices.map(c => c.prob), 0.05);  // the likeliest bar spans the width
    const W = 480, row = 22, H = choices.length * row + 10, x = scale(0, top, 60, W - 70);
    bars.replaceChildren();
    bars.setAttribute("viewBox", `0 0 ${W} ${H}`);
    choices.forEach((c, i) => {
      const y = 5 + i * row;
      const g = el("g", {class: "choice"}, bars);
      el("text", {x: 50, y: y + 15, "text-anchor": "end"}, g, c.end ? "⏎ end" : lmChar(c.char, info.boundary));
      el("rect", {class: "bar", x: x(0), y: y + 2, width: Math.max(1, x(c.prob) - x(0)), height: row - 6}, g);
      el("text", {class: "prob", x: x(c.prob) + 6, y: y + 15}, g, fmt(c.prob, 4));
    });
  }

  prompt.addEventListener("input", update);
  temperature.addEventListener("input", update);
  topK.addEventListener("change", update);
  topP.addEventListener("input", update);
  seed.addEventListener("change", sample);
  button.addEventListener("click", sample);
  read();
  await picker.refresh();
});
