// Chapter 9's live training figure: a tiny GPT trains on the server (in its own process, /api/lm/train), the
// loss of every step and the val loss of every evaluation are drawn as they come, and a sample of the model
// appears every N steps. The trained model joins the runs folder, so the other figures can use it at once.
"use strict";

registerFigure("gpt-train", async (root, args) => {
  const state = figureState(root, {data: args.data || "shakespeare", steps: Number(args.steps || 300),
                                   every: Number(args.every || 100)});
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
  const data = labelled("corpus", document.createElement("select"));
  data.append(new Option("shakespeare", "shakespeare"), new Option("names", "names"));
  data.value = state.data;
  const steps = labelled("steps", Object.assign(document.createElement("input"),
                                                {type: "number", min: 25, max: 2000, step: 25, value: state.steps}));
  const every = labelled("sample every", document.createElement("select"));
  every.append(...[25, 50, 100, 250].map(n => new Option(`${n} steps`, n)));
  every.value = String(state.every);
  const start = Object.assign(document.createElement("button"), {textContent: "Train a tiny GPT"});
  const cancel = Object.assign(document.createElement("button"), {textContent: "Cancel", className: "secondary",
                                                                   disabled: true});
  controls.append(start, cancel);
  const readout = document.createElement("p");
  readout.className = "readout";
  readout.setAttribute("aria-live", "polite");
  readout.textContent = "not started";
  const svg = el("svg", {role: "img", class: "losses", "aria-label": "training loss per step and val loss"});
  const list = document.createElement("ol");
  list.className = "samples";
  list.setAttribute("aria-label", "samples as training goes");
  root.append(readout, svg, list);

  let ws = null, losses = [], vals = [], total = state.steps;
  const done = () => { start.disabled = false; cancel.disabled = true; };

  function draw() {
    const W = 480, H = 200, P = 40, n = Math.max(total, 2);
    const all = [...losses.map(p => p[1]), ...vals.map(p => p[1])];
    const top = all.length ? Math.max(...all) : 1, low = all.length ? Math.min(...all) * 0.95 : 0;
    const x = scale(0, n, P, W - 10), y = scale(low, Math.max(top, low + 1e-6), H - 25, 10);
    svg.replaceChildren();
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    el("line", {class: "axis", x1: P, y1: H - 25, x2: W - 10, y2: H - 25}, svg);
    el("line", {class: "axis", x1: P, y1: 10, x2: P, y2: H - 25}, svg);
    el("text", {x: 4, y: 20}, svg, top.toPrecision(3));
    el("text", {x: 4, y: H - 25}, svg, low.toPrecision(3));
    el("text", {x: W - 10, y: H - 6, "text-anchor": "end"}, svg, `step (of ${total})`);
    const path = pts => pts.map(([s, v], i) => `${i ? "L" : "M"}${x(s).toFixed(1)},${y(v).toFixed(1)}`).join("");
    if (losses.length) el("path", {class: "curve", d: path(losses)}, svg);
    if (vals.length) {
      el("path", {class: "val", d: path(vals)}, svg);
      for (const [s, v] of vals) el("circle", {class: "val", cx: x(s), cy: y(v), r: 3}, svg);
    }
    const key = el("text", {x: W - 10, y: 20, "text-anchor": "end", class: "key"}, svg, "— loss per step  ");
    el("tspan", {class: "val"}, key, "● val loss");
  }

  function train() {
    state.data = data.value;
    state.steps = Math.min(2000, Math.max(25, Math.round(Number(steps.value) / 25) * 25 || 300));
    state.every = Number(every.value);
    steps.value = state.steps;
    saveFigureState(root, state);
    losses = []; vals = []; total = state.steps;
    list.replaceChildren();
    figureError(root, null);
    start.disabled = true;
    cancel.disabled = false;
    ws = new WebSocket(`ws://${location.host}/api/lm/train`);
    ws.onopen = () => ws.send(JSON.stringify({type: "start", data: state.data, steps: state.steps,
                                              sample_every: state.every}));
    ws.onmessage = ev => {
      const m = JSON.parse(ev.data);
      if (m.type === "started") {
        readout.textContent = `training ${m.name}…`;
      } else if (m.type === "progress") {
        for (const r of m.records) {
          if ("loss" in r) losses.push([r.iter, r.loss]);
          if ("val_loss" in r) vals.push([r.iter, r.val_loss]);
        }
        const last = losses.length ? fmt(losses[losses.length - 1][1], 4) : "—";
        const val = vals.length ? fmt(vals[vals.length - 1][1], 4) : "—";
        readout.textContent = `step ${m.step} of ${total} · loss ${last} · val loss ${val}`;
        draw();
      } else if (m.type === "sample") {
        const li = document.createElement("li");
        const b = document.createElement("b");
        b.textContent = `step ${m.step}`;
        const pre = document.createElement("pre");
        pre.textContent = m.samples.join(state.data === "names" ? "\n" : "\n———\n");
        li.append(b, pre);
        list.prepend(li);
      } else if (m.type === "error" || m.type === "full") {
        figureError(root, m.detail);
        ws.close();
        done();
      } else if (m.type === "done" || m.type === "cancelled") {
        ws.close();
        done();
        readout.textContent += ` · ${m.type} at step ${m.step}: saved as ${m.name}`;
        document.dispatchEvent(new CustomEvent("lm-models-changed", {detail: m.name}));
      }
    };
  }

  start.addEventListener("click", train);
  cancel.addEventListener("click", () => ws && ws.send(JSON.stringify({type: "cancel"})));
  draw();
});
