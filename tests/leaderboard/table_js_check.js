// Exercises leaderboard/static/table.js against a minimal DOM stub (no browser needed).
// Usage: node table_js_check.js PATH/TO/table.js ; prints JSON results for the Python test.
"use strict";
const fs = require("fs");
const vm = require("vm");

class Node {
  constructor(tag, text = "") {
    this.tagName = tag.toUpperCase();
    this.children = [];
    this.attrs = {};
    this.parentNode = null;
    this.listeners = {};
    this.hidden = false;
    this.text = text;
  }
  get firstChild() { return this.children[0] || null; }
  get id() { return this.attrs.id || ""; }
  get textContent() { return this.text + this.children.map((c) => c.textContent).join(""); }
  get cells() { return this.children; }
  get rows() { return this.children; }
  appendChild(child) { return this.insertBefore(child, null); }
  insertBefore(child, ref) {
    if (child.parentNode) { child.parentNode.children.splice(child.parentNode.children.indexOf(child), 1); }
    const at = ref === null ? this.children.length : this.children.indexOf(ref);
    this.children.splice(at, 0, child);
    child.parentNode = this;
    return child;
  }
  getAttribute(key) { return key in this.attrs ? this.attrs[key] : null; }
  setAttribute(key, value) { this.attrs[key] = String(value); }
  hasAttribute(key) { return key in this.attrs; }
  removeAttribute(key) { delete this.attrs[key]; }
  addEventListener(type, listener) { this.listeners[type] = listener; }
}

function makeTable(id) {
  const wrap = new Node("div");
  const table = wrap.appendChild(new Node("table"));
  table.setAttribute("id", id);
  const head = table.appendChild(new Node("thead")).appendChild(new Node("tr"));
  ["Rank", "Method", "Score"].forEach((label) => head.appendChild(new Node("th", label)));
  const body = table.appendChild(new Node("tbody"));
  [["1", "replay", "0.8"], ["", "joint", "0.95"], ["2", "finetune", "0.5"]].forEach((values) => {
    const row = body.appendChild(new Node("tr"));
    values.forEach((value) => {
      const cell = row.appendChild(new Node("td", value === "" ? "—" : value));
      cell.setAttribute("data-sort", value);
    });
  });
  table.tHead = table.children[0];
  table.tBodies = [body];
  return table;
}

function run(hash) {
  const table = makeTable("table-x");
  const location = { hash: hash, pathname: "/suite.html" };
  const document = {
    readyState: "complete",
    querySelectorAll: () => [table],
    createElement: (tag) => new Node(tag),
    createTextNode: (text) => new Node("#text", text),
    getElementById: () => null,
  };
  const history = { replaceState: (_s, _t, url) => { location.hash = url.startsWith("#") ? url : ""; } };
  const context = { window: { location: location }, document: document, history: history };
  vm.runInNewContext(fs.readFileSync(process.argv[2], "utf8"), context);
  const methods = () => table.tBodies[0].rows.map((r) => r.cells[1].textContent);
  const visible = () => table.tBodies[0].rows.filter((r) => !r.hidden).map((r) => r.cells[1].textContent);
  return { table, location, methods, visible };
}

const results = {};
const page = run("#split-mnist-class");
results.initial = page.methods();
const scoreButton = page.table.tHead.rows[0].cells[2].children[0];
scoreButton.listeners.click();
results.ascending = page.methods();
scoreButton.listeners.click();
results.descending = page.methods();
results.rankAscending = (page.table.tHead.rows[0].cells[0].children[0].listeners.click(), page.methods());
const filter = page.table.parentNode.children[0].children[1];
filter.value = "RE";
filter.listeners.input();
results.filtered = page.visible();
results.hash = page.location.hash;
const restored = run(results.hash);
results.restoredOrder = restored.methods();
results.restoredVisible = restored.visible();
console.log(JSON.stringify(results));
