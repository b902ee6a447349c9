/* Progressive enhancement of tables with class "sortable": click a column header to sort, type
 * in the filter box to hide rows. Without JavaScript the tables are complete and readable; this
 * script only adds controls. The state of each table with an id is kept in the URL hash, e.g.
 * "#split-cifar-class&table-split-cifar-class.sort=2.desc&table-split-cifar-class.q=ewc", so a
 * sorted, filtered view can be linked to; the part before the first "&" stays a plain anchor.
 */
(function () {
  "use strict";

  function readHash() {
    var parts = window.location.hash.replace(/^#/, "").split("&");
    var state = { anchor: "", values: {} };
    parts.forEach(function (part, index) {
      var eq = part.indexOf("=");
      if (eq < 0) {
        if (index === 0) { state.anchor = decodeURIComponent(part); }
        return;
      }
      state.values[decodeURIComponent(part.slice(0, eq))] = decodeURIComponent(part.slice(eq + 1));
    });
    return state;
  }

  function writeHash(key, value) {
    var state = readHash();
    if (value) { state.values[key] = value; } else { delete state.values[key]; }
    var parts = [state.anchor ? encodeURIComponent(state.anchor) : ""];
    Object.keys(state.values).sort().forEach(function (name) {
      parts.push(encodeURIComponent(name) + "=" + encodeURIComponent(state.values[name]));
    });
    var hash = parts.join("&");
    history.replaceState(null, "", hash === "" ? window.location.pathname : "#" + hash);
  }

  function cellValue(row, column) {
    var cell = row.cells[column];
    if (!cell) { return ""; }
    var value = cell.getAttribute("data-sort");
    return (value === null ? cell.textContent : value).trim();
  }

  function compare(a, b) {
    if (a === "" || b === "") { return a === b ? 0 : (a === "" ? 1 : -1); }  // empty last
    var x = Number(a), y = Number(b);
    if (isFinite(x) && isFinite(y)) { return x - y; }
    return a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
  }

  function sortTable(table, column, direction) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.forEach(function (row, index) {
      if (!row.hasAttribute("data-index")) { row.setAttribute("data-index", index); }
    });
    rows.sort(function (r, s) {
      var a = cellValue(r, column), b = cellValue(s, column);
      var order = compare(a, b);
      if (a !== "" && b !== "" && direction === "desc") { order = -order; }
      return order || r.getAttribute("data-index") - s.getAttribute("data-index");
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      if (index === column) {
        th.setAttribute("aria-sort", direction === "asc" ? "ascending" : "descending");
      } else {
        th.removeAttribute("aria-sort");
      }
    });
  }

  function filterTable(table, text) {
    var needle = text.toLowerCase();
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      row.hidden = needle !== "" && row.textContent.toLowerCase().indexOf(needle) < 0;
    });
  }

  function enhance(table) {
    var id = table.id, state = readHash().values;
    var headers = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(headers, function (th, column) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      button.addEventListener("click", function () {
        var direction = th.getAttribute("aria-sort") === "ascending" ? "desc" : "asc";
        sortTable(table, column, direction);
        if (id) { writeHash(id + ".sort", column + "." + direction); }
      });
    });
    var label = document.createElement("label");
    label.className = "table-filter";
    label.appendChild(document.createTextNode("Filter rows: "));
    var input = document.createElement("input");
    input.type = "search";
    if (id) { input.setAttribute("aria-controls", id); }
    label.appendChild(input);
    table.parentNode.insertBefore(label, table);
    input.addEventListener("input", function () {
      filterTable(table, input.value);
      if (id) { writeHash(id + ".q", input.value); }
    });
    if (!id) { return; }
    var sort = /^(\d+)\.(asc|desc)$/.exec(state[id + ".sort"] || "");
    if (sort && Number(sort[1]) < headers.length) { sortTable(table, Number(sort[1]), sort[2]); }
    if (state[id + ".q"]) {
      input.value = state[id + ".q"];
      filterTable(table, input.value);
    }
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), enhance);
    var anchor = readHash().anchor;
    var target = anchor && document.getElementById(anchor);
    if (target && window.location.hash.indexOf("&") >= 0) { target.scrollIntoView(); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
