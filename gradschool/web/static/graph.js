// The graph page: its figure's behaviour (loaded by pages/layout.html).
"use strict";
const state = readHash({expr: "tanh(a*b + a)", vars: "a = 2, b = -3"});
const BW = 150, BH = 60, DX = 190, DY = 80;
let graph = null;
const name = n => n.label || (n.op ? `(${n.op})` : fmt(n.data, 2));

function parseVars(text) {
  const vars = {};
  for (const part of text.split(",").filter(s => s.trim())) {
    const m = part.match(/^\s*([A-Za-z][A-Za-z0-9_]*)\s*=\s*(-?[0-9.]+(?:e-?[0-9]+)?)\s*$/);
    if (!m) throw new Error(`cannot read ${JSON.stringify(part.trim())}; write variables like a = 2, b = -3`);
    vars[m[1]] = Number(m[2]);
  }
  return vars;
}

function layout(nodes) {
  const depth = [];
  for (const n of nodes) depth[n.id] = n.children.length ? 1 + Math.max(...n.children.map(c => depth[c])) : 0;
  const rows = {}, place = [];
  for (const n of nodes) {
    rows[depth[n.id]] = (rows[depth[n.id]] || 0) + 1;
    place[n.id] = [20 + depth[n.id] * DX, rows[depth[n.id]] - 1];
  }
  const tallest = Math.max(...Object.values(rows));
  for (const n of nodes) {
    const count = rows[depth[n.id]];
    place[n.id][1] = 20 + (place[n.id][1] + (tallest - count) / 2) * DY;
  }
  return [place, 40 + (Math.max(...depth)) * DX + BW, 40 + tallest * DY];
}

function draw() {
  const svg = document.getElementById("graph");
  const [place, W, H] = layout(graph.nodes);
  svg.innerHTML = "";
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.style.maxWidth = `${W * 1.1}px`;
  for (const n of graph.nodes) {
    for (const c of n.children) {
      const [x1, y1] = place[c], [x2, y2] = place[n.id];
      const sx = x1 + BW, sy = y1 + BH / 2, ex = x2, ey = y2 + BH / 2;
      const lift = ex - sx > DX ? 0.8 * DY : 0;  // an edge that skips a column arcs over the boxes in between
      el("path", {class: "edge", d: `M${sx},${sy} C${sx + 60},${sy - lift} ${ex - 60},${ey - lift} ${ex},${ey}`},
         svg);
    }
  }
  for (const n of graph.nodes) {
    const [x, y] = place[n.id];
    const g = el("g", {class: "node", id: `node-${n.id}`, "data-label": n.label}, svg);
    el("rect", {x, y, width: BW, height: BH, rx: 6}, g);
    el("text", {x: x + 8, y: y + 17}, g, n.label ? `${n.label}${n.op ? "  " + n.op : ""}` : n.op || "const");
    el("text", {x: x + 8, y: y + 35, class: "data"}, g, "data  ?");
    el("text", {x: x + 8, y: y + 52, class: "grad"}, g, "grad  ?");
  }
}

function showError(e, text) {
  document.getElementById("error").textContent = e.message;
  const caret = document.getElementById("caret");
  caret.hidden = e.position == null;
  if (e.position != null) caret.textContent = text + "\n" + " ".repeat(e.position) + "^";
}

async function forward() {
  const text = document.getElementById("expr").value;
  const varsText = document.getElementById("vars").value;
  writeHash({expr: text, vars: varsText});
  document.getElementById("error").textContent = "";
  document.getElementById("caret").hidden = true;
  document.getElementById("trace").innerHTML = "";
  document.getElementById("result").textContent = "";
  document.getElementById("backprop").disabled = true;
  try {
    graph = await api("/api/graph", {expression: text, variables: parseVars(varsText)});
  } catch (e) {
    graph = null;
    document.getElementById("graph").innerHTML = "";
    showError(e, text);
    return;
  }
  draw();
  document.getElementById("forward").disabled = true;
  for (const n of graph.nodes) {  // topological order: inputs first
    const g = document.getElementById(`node-${n.id}`);
    g.classList.add("lit");
    g.querySelector(".data").textContent = `data  ${fmt(n.data)}`;
    await sleep(120);
  }
  const root = graph.nodes[graph.root];
  document.getElementById("result").textContent = `${name(root)} = ${fmt(root.data)}`;
  document.getElementById("forward").disabled = false;
  document.getElementById("backprop").disabled = false;
}

async function backprop() {
  document.getElementById("backprop").disabled = true;
  const trace = document.getElementById("trace");
  trace.innerHTML = "";
  for (const id of graph.backward_order) {  // reverse topological order: the output first
    const n = graph.nodes[id];
    const g = document.getElementById(`node-${id}`);
    g.classList.add("back");
    g.querySelector(".grad").textContent = `grad  ${fmt(n.grad)}`;
    const li = document.createElement("li");
    const terms = n.terms.map(t => `${fmt(t.local)} × ${fmt(t.upstream)}`);
    li.textContent = id === graph.root ? `${name(n)}.grad = 1 (the output with respect to itself)`
      : `${name(n)}.grad = ${terms.map(t => `(${t})`).join(" + ")} = ${fmt(n.grad)}`;
    trace.appendChild(li);
    await sleep(120);
  }
  const leaves = graph.nodes.filter(n => n.label && !n.op);
  document.getElementById("result").textContent = `${name(graph.nodes[graph.root])} = ` +
    `${fmt(graph.nodes[graph.root].data)}, ` + leaves.map(n => `${n.label}.grad = ${fmt(n.grad)}`).join(", ");
  document.getElementById("backprop").disabled = false;
}

document.getElementById("expr").value = state.expr;
document.getElementById("vars").value = state.vars;
document.getElementById("forward").addEventListener("click", forward);
document.getElementById("backprop").addEventListener("click", backprop);
for (const id of ["expr", "vars"]) {
  document.getElementById(id).addEventListener("keydown", ev => { if (ev.key === "Enter") forward(); });
}
loadCode("graph");
