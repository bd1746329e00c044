// The report page: reads its data from the JSON element (JSON.parse, never eval), draws it
// with cytoscape, and writes every upstream string with textContent, never as HTML.
(function () {
  "use strict";
  var timings = { start: window.performance.now() };
  var data = JSON.parse(document.getElementById("report-data").textContent);
  timings.parsed = window.performance.now();
  var COSE_MAX = 300; // above this many nodes, concentric rings by hops from the seed (fast, stable)
  var TYPES = {
    "domain-name": ["#2563eb", "ellipse", "Domain name"],
    "ipv4-addr": ["#059669", "round-rectangle", "IPv4 address"],
    "ipv6-addr": ["#0d9488", "round-rectangle", "IPv6 address"],
    "netblock": ["#7c3aed", "hexagon", "Netblock"],
    "autonomous-system": ["#9333ea", "diamond", "Autonomous system"],
    "organization": ["#64748b", "round-tag", "Organization"],
    "x509-certificate": ["#ca8a04", "tag", "Certificate"],
    "service": ["#db2777", "triangle", "Service"],
    "email-addr": ["#0891b2", "vee", "E-mail address"]
  };
  var SEVERITY = { 1: ["#f59e0b", "warning: suspicious, CVEs, certificate expiring"],
                   2: ["#dc2626", "danger: malicious, risky service, certificate expired"] };

  function $(id) { return document.getElementById(id); }
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (cls) { node.className = cls; }
    return node;
  }
  function typeInfo(type) { return TYPES[type] || ["#475569", "ellipse", type]; }
  function shown(value) { return typeof value === "string" ? value : JSON.stringify(value); }

  var byId = {};
  data.nodes.forEach(function (node) { byId[node.id] = node; });
  var maxRing = data.nodes.reduce(function (m, n) { return Math.max(m, n.ring); }, 0);
  var maxLevel = data.nodes.reduce(function (m, n) { return Math.max(m, n.level); }, 0);
  var flaggedCount = data.nodes.filter(function (n) { return n.severity > 0; }).length;

  $("summary").textContent = data.nodes.length + " assets, " + data.edges.length + " relations, " +
    flaggedCount + " flagged; " + data.events.length + " change events. Generated " + data.generated_at + ".";

  // Controls: one checkbox per type present, depth levels, the legend.
  var present = {};
  data.nodes.forEach(function (n) { present[n.type] = (present[n.type] || 0) + 1; });
  Object.keys(present).sort().forEach(function (type) {
    var label = el("label");
    var box = el("input");
    box.type = "checkbox"; box.checked = true; box.value = type; box.className = "type-filter";
    var swatch = el("span", null, "swatch");
    swatch.style.background = typeInfo(type)[0];
    label.append(box, swatch, typeInfo(type)[2] + " (" + present[type] + ")");
    $("types").append(label);
  });
  for (var level = 0; level <= maxLevel; level++) {
    var option = el("option", level === 0 ? "0 (seeds)" : String(level));
    option.value = String(level);
    $("depth").append(option);
  }
  $("depth").value = String(maxLevel);
  [1, 2].forEach(function (level) {
    var row = el("div");
    var swatch = el("span", null, "swatch");
    swatch.style.borderColor = SEVERITY[level][0];
    swatch.style.borderWidth = "3px";
    row.append(swatch, SEVERITY[level][1]);
    $("legend").append(row);
  });

  // The graph.
  var large = data.nodes.length > COSE_MAX;
  var ordered = data.nodes.slice().sort(function (a, b) { return a.order - b.order; });
  var elements = ordered.map(function (n) {
    // Long labels are cut by cytoscape (measuring text costs, so only where needed).
    return { group: "nodes", data: { id: n.id, label: n.value, type: n.type, severity: n.severity,
                                     ring: n.ring, level: n.level, "short": n.value.length > 28 } };
  }).concat(data.edges.map(function (e) {
    return { group: "edges", data: { id: e.id, source: e.source, target: e.target, kind: e.kind } };
  }));
  var style = [
    { selector: "node", style: {
      "label": "data(label)", "font-size": 10, "min-zoomed-font-size": 9, "text-valign": "bottom",
      "text-margin-y": 2, "width": 18, "height": 18,
      "border-width": 0 } },
    { selector: "node[?short]", style: { "text-max-width": 160, "text-wrap": "ellipsis" } },
    { selector: "node[severity = 1]", style: { "border-width": 4, "border-color": SEVERITY[1][0], "width": 24, "height": 24 } },
    { selector: "node[severity = 2]", style: { "border-width": 5, "border-color": SEVERITY[2][0], "width": 28, "height": 28 } },
    { selector: "node[ring = 0]", style: { "width": 34, "height": 34, "font-size": 14, "font-weight": "bold" } },
    { selector: "edge", style: {
      "width": 1, "line-color": "#b6c2cf", "curve-style": large ? "haystack" : "bezier",
      "target-arrow-shape": large ? "none" : "triangle", "target-arrow-color": "#b6c2cf", "arrow-scale": 0.6 } },
    { selector: ".hidden", style: { "display": "none" } },
    { selector: ".faded", style: { "opacity": 0.15 } },
    { selector: "node.match", style: { "underlay-color": "#facc15", "underlay-opacity": 0.8, "underlay-padding": 6 } },
    { selector: ":selected", style: { "underlay-color": "#2563eb", "underlay-opacity": 0.5, "underlay-padding": 8 } },
    { selector: "edge:selected", style: { "line-color": "#2563eb", "width": 3 } }
  ];
  Object.keys(TYPES).forEach(function (type) {
    style.splice(1, 0, { selector: 'node[type = "' + type + '"]',
                         style: { "background-color": TYPES[type][0], "shape": TYPES[type][1] } });
  });
  // report.html#layout=cose or #layout=concentric chooses (the benchmark compares them).
  var forced = /layout=(cose|concentric)/.exec(window.location.hash);
  var rings = forced ? forced[1] === "concentric" : large || data.nodes.length === 0;
  var layout = rings ? {
    name: "concentric", animate: false, avoidOverlap: false, levelWidth: function () { return 1; },
    minNodeSpacing: 6, startAngle: 1.5 * Math.PI,
    concentric: function (node) { return maxRing + 1 - node.data("ring"); }
  } : { name: "cose", animate: false, randomize: false, nodeRepulsion: function () { return 8000; },
        idealEdgeLength: function () { return 60; } };
  layout.stop = function () { // one frame after the layout: the graph is on screen
      window.requestAnimationFrame(function () {
      window.osintReport.drawnAt = timings.drawn = window.performance.now();
      document.body.setAttribute("data-drawn", "true");
      window.setTimeout(function () { // the table and timeline after the graph is on screen
        table();
        timeline();
        timings.ready = window.performance.now();
        document.body.setAttribute("data-ready", "true");
      }, 0);
    });
  };
  window.osintReport = { cy: null, data: data, drawnAt: null, timings: timings };
  // The layout runs as the graph is made (a preset first, then another, costs a second pass).
  var cy = window.osintReport.cy = cytoscape({
    container: $("cy"), elements: elements, style: style, layout: layout,
    minZoom: 0.02, maxZoom: 4, hideEdgesOnViewport: large, textureOnViewport: large
  });
  timings.graph = window.performance.now(); // made and laid out

  // Details of one node: facts, flags, provenance, first/last seen, relations.
  function details(id) {
    var node = byId[id];
    var panel = $("details");
    panel.replaceChildren();
    if (!node) { return; }
    panel.append(el("h2", node.value));
    var facts = el("dl");
    function fact(name, value) { facts.append(el("dt", name), el("dd", value)); }
    fact("type", typeInfo(node.type)[2]);
    fact("depth", node.depth === null ? "found at depth " + node.level + ", not followed" : node.depth);
    fact("first seen", node.first_seen);
    fact("last seen", node.last_seen);
    Object.keys(node.attrs).sort().forEach(function (key) { fact(key, shown(node.attrs[key])); });
    panel.append(facts);
    if (node.flags.length) {
      panel.append(el("h3", "Why it matters"));
      var flags = el("ul");
      node.flags.forEach(function (flag) { flags.append(el("li", flag.text, "flag-" + flag.severity)); });
      panel.append(flags);
    }
    panel.append(el("h3", "Found by"));
    var found = el("ul");
    node.found_by.forEach(function (seen) { found.append(el("li", seen.adapter + " on " + seen.target + ", " + seen.at)); });
    if (!node.found_by.length) { found.append(el("li", "a seed")); }
    panel.append(found);
    var related = el("ul");
    cy.getElementById(id).connectedEdges().forEach(function (edge) {
      var out = edge.data("source") === id;
      var other = byId[out ? edge.data("target") : edge.data("source")];
      related.append(el("li", (out ? edge.data("kind") + " → " : "← " + edge.data("kind") + " ") + (other ? other.value : "?")));
    });
    panel.append(el("h3", "Relations"), related);
  }
  function select(id, center) {
    cy.elements().unselect();
    var target = cy.getElementById(id);
    target.select();
    if (center) { cy.animate({ center: { eles: target }, zoom: Math.max(cy.zoom(), 1) }, { duration: 200 }); }
    details(id);
  }
  cy.on("tap", "node", function (event) { select(event.target.id(), false); });

  // Filters: type, depth, flagged only; search highlights and fits its matches.
  function applyFilters() {
    var types = {};
    document.querySelectorAll(".type-filter").forEach(function (box) { types[box.value] = box.checked; });
    var depth = Number($("depth").value);
    var flaggedOnly = $("flagged").checked;
    var near = {};
    if (flaggedOnly) {
      cy.nodes("[severity > 0]").closedNeighborhood().nodes().forEach(function (n) { near[n.id()] = true; });
    }
    cy.batch(function () {
      cy.nodes().forEach(function (n) {
        var visible = types[n.data("type")] && n.data("level") <= depth && (!flaggedOnly || near[n.id()]);
        n.toggleClass("hidden", !visible);
      });
    });
  }
  document.querySelectorAll(".type-filter").forEach(function (box) { box.addEventListener("change", applyFilters); });
  $("depth").addEventListener("change", applyFilters);
  $("flagged").addEventListener("change", applyFilters);
  $("fit").addEventListener("click", function () { cy.fit(cy.nodes(":visible"), 30); });
  $("search").addEventListener("input", function () {
    var text = $("search").value.trim().toLowerCase();
    var matches = cy.collection();
    cy.batch(function () {
      cy.elements().removeClass("match faded");
      if (!text) { return; }
      matches = cy.nodes().filter(function (n) { return n.data("label").toLowerCase().indexOf(text) >= 0; });
      cy.elements().difference(matches).addClass("faded");
      matches.addClass("match");
    });
    if (matches.length > 0 && matches.length <= 200) { cy.fit(matches, 60); }
    if (matches.length === 1) { details(matches[0].id()); }
  });

  // The asset table, sortable by any column.
  function table() {
    var COLUMNS = [
      ["Type", function (n) { return typeInfo(n.type)[2]; }],
      ["Value", function (n) { return n.value; }],
      ["Depth", function (n) { return n.level; }],
      ["Flags", function (n) { return n.flags.map(function (f) { return f.code; }).join(", "); }],
      ["First seen", function (n) { return n.first_seen; }],
      ["Last seen", function (n) { return n.last_seen; }],
      ["Found by", function (n) { return n.found_by.map(function (s) { return s.adapter; })
        .filter(function (a, i, all) { return all.indexOf(a) === i; }).join(", "); }]
    ];
    var head = document.querySelector("#assets thead tr");
    var body = document.querySelector("#assets tbody");
    var rows = data.nodes.map(function (node) {
      var row = el("tr");
      row.dataset.id = node.id;
      row.sortKeys = COLUMNS.map(function (column) { return column[1](node); });
      row.sortKeys.forEach(function (value) { row.append(el("td", value)); });
      row.addEventListener("click", function () { select(node.id, true); });
      return row;
    });
    COLUMNS.forEach(function (column, index) {
      var th = el("th", column[0]);
      th.setAttribute("aria-sort", "none");
      th.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        head.querySelectorAll("th").forEach(function (other) { other.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        rows.sort(function (a, b) {
          var x = a.sortKeys[index], y = b.sortKeys[index];
          var order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
          return ascending ? order : -order;
        });
        body.replaceChildren.apply(body, rows);
      });
      head.append(th);
    });
    body.replaceChildren.apply(body, rows);
  }

  // The timeline of the store's change events, newest first.
  function describe(event) {
    if (event.change === "first_seen") { return "first seen"; }
    if (event.change === "added" || event.change === "removed") {
      return event.fact + ": " + event.change + " " + shown(event.value);
    }
    if (event.change === "changed") { return event.fact + ": " + shown(event.before) + " → " + shown(event.after); }
    var rest = {};
    Object.keys(event).forEach(function (key) {
      if (["target", "adapter", "change", "after_at"].indexOf(key) < 0) { rest[key] = event[key]; }
    });
    return String(event.change) + " " + JSON.stringify(rest);
  }
  function timeline() {
    var list = document.createDocumentFragment();
    data.events.forEach(function (event) {
      var item = el("li");
      item.append(el("time", event.after_at || event.at || ""), el("strong", event.target),
                  " " + (event.adapter ? "(" + event.adapter + ") " : "") + describe(event));
      list.append(item);
    });
    $("timeline").append(list);
    $("timeline-note").textContent = !data.events.length ? "No change events stored for these targets yet."
      : data.events_omitted ? data.events_omitted + " older events not listed." : "";
  }
  document.querySelectorAll("#tabs button").forEach(function (button) {
    button.addEventListener("click", function () {
      document.querySelectorAll("#tabs button").forEach(function (b) { b.classList.toggle("active", b === button); });
      $("table-view").hidden = button.dataset.tab !== "table";
      $("timeline-view").hidden = button.dataset.tab !== "timeline";
    });
  });
}());
