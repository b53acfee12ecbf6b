// Chapter 6's broadcasting explorer: two shapes and an operation; the server's Tensor engine answers with the
// result's shape and numbers (or its own error message), and with each input's gradient after out.sum()
// .backward(): the output's gradient of ones, summed back to the input's shape.
"use strict";

registerFigure("broadcast", async (root, args) => {
  const state = figureState(root, {a: args.a || "3,1", b: args.b || "4", op: args.op || "+"});
  const controls = document.createElement("div");
  controls.className = "controls";
  root.appendChild(controls);
  const shapeInput = (key, label) => {
    const wrap = document.createElement("label");
    const input = Object.assign(document.createElement("input"), {type: "text", value: state[key], size: 7,
                                                                  maxLength: 20});
    input.setAttribute("aria-label", label);
    wrap.append(label + " ", input);
    controls.appendChild(wrap);
    return input;
  };
  const a = shapeInput("a", "shape of a");
  const opLabel = document.createElement("label");
  const op = document.createElement("select");
  op.setAttribute("aria-label", "operation");
  for (const o of ["+", "*", "@"]) op.add(new Option(`a ${o} b`, o));
  op.value = state.op;
  opLabel.append("operation ", op);
  controls.appendChild(opLabel);
  const b = shapeInput("b", "shape of b");

  const readout = document.createElement("p");
  readout.className = "readout";
  readout.setAttribute("aria-live", "polite");
  const arrays = document.createElement("div");
  arrays.className = "arrays";
  root.append(readout, arrays);

  const shapeOf = v => Array.isArray(v) ? [v.length, ...shapeOf(v[0])] : [];
  const shapeText = s => `(${s.join(", ")}${s.length === 1 ? "," : ""})`;

  function grid(value) {  // a 0-, 1- or 2-D array as a table; 3-D as a row of tables
    const box = document.createElement("div");
    box.className = "grids";
    const blocks = shapeOf(value).length === 3 ? value : [value];
    for (const block of blocks) {
      const table = document.createElement("table");
      const rows = !Array.isArray(block) ? [[block]] : Array.isArray(block[0]) ? block : [block];
      for (const row of rows) {
        const tr = document.createElement("tr");
        for (const v of row) {
          const td = document.createElement("td");
          td.textContent = Number(v.toFixed(4)).toString();
          tr.appendChild(td);
        }
        table.appendChild(tr);
      }
      box.appendChild(table);
    }
    return box;
  }

  function panel(title, value, note, name) {
    const fig = document.createElement("figure");
    fig.dataset.name = name;
    const cap = document.createElement("figcaption");
    cap.textContent = `${title} ${shapeText(shapeOf(value))}` + (note ? ` — ${note}` : "");
    fig.append(cap, grid(value));
    return fig;
  }

  const summedNote = axes => axes === null ? "" : axes.length ?
    `ones summed over axis ${axes.join(" and ")} of the output` : "the output's gradient as it is";

  async function update() {
    state.a = a.value;
    state.b = b.value;
    state.op = op.value;
    saveFigureState(root, state);
    try {
      const r = await api("/api/figure/broadcast", {a: state.a, b: state.b, op: state.op});
      figureError(root, null);
      draw(r);
    } catch (err) {
      figureError(root, err);
    }
  }

  function draw(r) {
    const sa = shapeText(shapeOf(r.a)), sb = shapeText(shapeOf(r.b));
    if (r.error) {
      readout.className = "readout refused";
      readout.textContent = `a ${sa} ${state.op} b ${sb}: the engine refuses: ${r.error}`;
      arrays.replaceChildren(panel("a", r.a, "", "a"), panel("b", r.b, "", "b"));
      return;
    }
    readout.className = "readout";
    readout.textContent = `a ${sa} ${state.op} b ${sb} → out ${shapeText(r.shape)}`;
    arrays.replaceChildren(
      panel("a", r.a, "", "a"), panel("b", r.b, "", "b"), panel("out = a " + state.op + " b", r.out, "", "out"),
      panel("a.grad", r.grad_a, summedNote(r.summed_a), "grad_a"),
      panel("b.grad", r.grad_b, summedNote(r.summed_b), "grad_b"));
  }

  a.addEventListener("change", update);
  b.addEventListener("change", update);
  op.addEventListener("change", update);
  await update();
});
