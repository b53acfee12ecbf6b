// Chapter 5's context figure: one name cut into examples (block_size characters -> the next), then every tensor
// of the MLP's forward pass with the shape the server's engine gave it, and each example's probability of the
// right next character (at initialization: about 1/27 each).
"use strict";

registerFigure("context-window", async (root, args) => {
  const state = figureState(root, {word: args.word || "emma", block_size: Number(args.block_size || 3),
                                   n_embd: Number(args.n_embd || 2)});
  const controls = document.createElement("div");
  controls.className = "controls";
  root.appendChild(controls);

  const wordLabel = document.createElement("label");
  const word = Object.assign(document.createElement("input"), {type: "text", value: state.word, maxLength: 20,
                                                               size: 10});
  word.setAttribute("aria-label", "name");
  wordLabel.append("name ", word);
  controls.appendChild(wordLabel);
  const slider = (key, label, min, max) => {
    const {input, out} = rangeControl(controls, label, min, max, 1, state[key]);
    return [key, input, out];
  };
  const sliders = [slider("block_size", "block size", 1, 8), slider("n_embd", "embedding size", 1, 10)];

  const examples = document.createElement("table");
  examples.className = "examples";
  const flow = document.createElement("ol");
  flow.className = "tensor-flow";
  const readout = document.createElement("p");
  readout.className = "readout";
  readout.setAttribute("aria-live", "polite");
  root.append(examples, flow, readout);

  async function update() {
    state.word = word.value;
    for (const [key, input] of sliders) state[key] = Number(input.value);
    saveFigureState(root, state);
    try {
      const r = await api("/api/figure/context", {word: state.word, block_size: state.block_size,
                                                  n_embd: state.n_embd});
      figureError(root, null);
      draw(r);
    } catch (err) {
      figureError(root, err);
    }
  }

  function cell(tag, text, cls) {
    const c = document.createElement(tag);
    c.textContent = text;
    if (cls) c.className = cls;
    return c;
  }

  function draw(r) {
    const head = document.createElement("tr");
    head.append(cell("th", "context"), cell("th", "ids (a row of X)"), cell("th", "→ next"),
                cell("th", "p(next)"));
    const rows = r.contexts.map((context, i) => {
      const tr = document.createElement("tr");
      tr.append(cell("td", context, "num context"), cell("td", `[${r.ids[i].join(", ")}]`, "num"),
                cell("td", r.targets[i], "num"), cell("td", fmt(r.target_probs[i]), "num"));
      return tr;
    });
    examples.replaceChildren(head, ...rows);
    flow.replaceChildren(...r.tensors.map(t => {
      const li = document.createElement("li");
      li.append(cell("code", t.name, "name"), cell("span", `(${t.shape.join(", ")})`, "num shape"),
                cell("span", t.meaning, "legend"));
      li.dataset.name = t.name;
      return li;
    }));
    readout.textContent = `${r.contexts.length} examples · loss ${fmt(r.loss)} (an untrained model: ` +
      `about -ln(1/27) = 3.2958)`;
  }

  word.addEventListener("change", update);
  for (const [, input] of sliders) input.addEventListener("input", update);
  await update();
});
