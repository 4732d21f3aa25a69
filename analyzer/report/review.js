// The reviewer's page: filters, sorting and paging over the embedded data.
// Text from the tree only ever goes into the DOM as text (textContent).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("data").textContent);
  var PAGE = 200, SITES_SHOWN = 5;
  var CLASSES = ["runtime", "interpreter", "immutable"];
  var CONFIDENCE = {high: 0, medium: 1, low: 2};
  var $ = function (id) { return document.getElementById(id); };
  var state = {q: "", cls: "", rule: "", dir: "", conf: "", immutable: false, sort: "file", desc: false};
  var shown = PAGE;
  var treeUrl = data.treeUrl;

  function directory(path) {
    var slash = path.lastIndexOf("/");
    return slash < 0 ? "" : path.slice(0, slash);
  }

  var rows = data.globals.map(function (g, index) {
    var file = data.files[g.f][0];
    var words = [g.n, g.fn, file, g.t, g.fam, data.rules[g.r].id].concat(g.e);
    g.w.forEach(function (w) { words.push(w[0], w[1], data.files[w[2]][0]); });
    return {g: g, index: index, file: file, dir: directory(file), text: words.join("\n").toLowerCase()};
  });

  // -- controls ---------------------------------------------------------------
  function option(select, value, label) {
    var o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    select.appendChild(o);
  }

  var ruleCounts = {};
  rows.forEach(function (r) { ruleCounts[r.g.r] = (ruleCounts[r.g.r] || 0) + 1; });
  data.rules.forEach(function (rule, i) {
    if (ruleCounts[i]) { option($("rule"), rule.id, rule.id + " (" + ruleCounts[i] + ")"); }
  });
  var dirs = {};
  rows.forEach(function (r) {
    var parts = r.dir.split("/");
    for (var i = 1; i <= parts.length; i++) { dirs[parts.slice(0, i).join("/")] = true; }
  });
  Object.keys(dirs).filter(Boolean).sort().forEach(function (d) {
    option($("dir"), d, "\u00a0\u00a0".repeat(d.split("/").length - 1) + d);
  });

  function fileUrl(root) {
    try {
      return "file://" + root.replace(/\/+$/, "").split("/").map(encodeURIComponent).join("/") + "/";
    } catch (e) {
      return data.treeUrl;     // a path JavaScript cannot encode: keep the scanned tree's
    }
  }
  var savedTree = null;
  try { savedTree = window.localStorage.getItem("cglobals-tree-" + data.version); } catch (e) { savedTree = null; }
  $("tree").value = savedTree || data.tree;
  if (savedTree) { treeUrl = fileUrl(savedTree); $("tree-shown").textContent = savedTree; }

  // -- state in the URL fragment ---------------------------------------------
  var KEYS = {q: "q", cls: "class", rule: "rule", dir: "dir", conf: "conf"};

  function readHash() {
    var hash = location.hash.slice(1);
    if (hash && hash.indexOf("=") < 0) { return false; }   // an anchor (#rules), not a filter
    var p = new URLSearchParams(hash);
    Object.keys(KEYS).forEach(function (k) { state[k] = p.get(KEYS[k]) || ""; });
    state.immutable = p.get("immutable") === "1";
    var sort = p.get("sort") || "file";
    state.desc = sort.charAt(0) === "-";
    state.sort = state.desc ? sort.slice(1) : sort;
    return true;
  }

  function writeHash() {
    var p = new URLSearchParams();
    Object.keys(KEYS).forEach(function (k) { if (state[k]) { p.set(KEYS[k], state[k]); } });
    if (state.immutable) { p.set("immutable", "1"); }
    if (state.sort !== "file" || state.desc) { p.set("sort", (state.desc ? "-" : "") + state.sort); }
    var text = p.toString();
    try {
      history.replaceState(null, "", text ? "#" + text : location.pathname + location.search);
    } catch (e) { /* some browsers refuse for file: URLs; the filters still work */ }
  }

  function showControls() {
    $("q").value = state.q;
    [["class", "cls"], ["rule", "rule"], ["dir", "dir"], ["conf", "conf"]].forEach(function (pair) {
      var select = $(pair[0]);
      if (state[pair[1]] && !Array.prototype.some.call(select.options, function (o) { return o.value === state[pair[1]]; })) {
        option(select, state[pair[1]], state[pair[1]] + " (none)");
      }
      select.value = state[pair[1]];
    });
    $("immutable").checked = state.immutable;
  }

  // -- filtering and sorting --------------------------------------------------
  function selected() {
    var words = state.q.toLowerCase().split(/\s+/).filter(Boolean);
    var ruleIndex = data.rules.findIndex(function (r) { return r.id === state.rule; });
    var withImmutable = state.immutable || state.cls === "immutable";
    return rows.filter(function (r) {
      var g = r.g;
      return (withImmutable || g.c !== "immutable") && (!state.cls || g.c === state.cls)
        && (!state.rule || g.r === ruleIndex) && (!state.conf || g.k === state.conf)
        && (!state.dir || r.dir === state.dir || r.dir.indexOf(state.dir + "/") === 0)
        && words.every(function (w) { return r.text.indexOf(w) >= 0; });
    });
  }

  var KEY = {
    file: function (r) { return r.file; },
    name: function (r) { return r.g.n.toLowerCase(); },
    class: function (r) { return CLASSES.indexOf(r.g.c); },
    rule: function (r) { return r.g.r; },
    conf: function (r) { return CONFIDENCE[r.g.k]; },
    writes: function (r) { return r.g.w.length; }
  };

  function order(a, b) { return a < b ? -1 : a > b ? 1 : 0; }

  function sorted(list) {
    // the chosen key in the chosen direction, then file, line and name as scanned
    var key = KEY[state.sort] || KEY.file;
    var sign = state.desc ? -1 : 1;
    var keyed = list.map(function (r) { return [key(r), r]; });
    keyed.sort(function (a, b) { return sign * order(a[0], b[0]) || a[1].index - b[1].index; });
    return keyed.map(function (pair) { return pair[1]; });
  }

  // -- rendering --------------------------------------------------------------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function links(parent, file, line) {
    var path = data.files[file];
    var local = el("a", "src", path[0] + ":" + line);
    local.href = treeUrl + path[1] + "#L" + line;
    parent.appendChild(local);
    if (data.github) {
      var gh = el("a", "gh", "GitHub");
      gh.href = data.github + path[1] + "#L" + line;
      gh.setAttribute("aria-label", "on GitHub: " + path[0] + " line " + line);
      parent.appendChild(gh);
    }
  }

  function site(w) {
    var li = el("li");
    links(li, w[2], w[3]);
    li.appendChild(document.createTextNode(" " + w[0] + (w[1] ? " in " + w[1] + "()" : "")));
    if (w[4]) { li.appendChild(el("div", "ctx", "runs in: " + w[4])); }
    return li;
  }

  function ruleCell(g) {
    var rule = data.rules[g.r];
    var details = el("details", "rule");
    details.appendChild(el("summary", null, rule.id));
    var idiom = el("p", null, rule.idiom);
    var example = el("p");
    example.appendChild(el("b", null, "Example. "));
    example.appendChild(el("code", null, rule.example));
    var fp = el("p");
    fp.appendChild(el("b", null, "Known false positives. "));
    fp.appendChild(document.createTextNode(rule.fp));
    var more = el("p");
    var link = el("a", null, "all rules");
    link.href = "#rule-" + rule.id;
    more.appendChild(link);
    [idiom, example, fp, more].forEach(function (p) { details.appendChild(p); });
    return details;
  }

  function row(r) {
    var g = r.g, tr = el("tr");
    tr.dataset.name = (g.fn ? g.fn + "()::" : "") + g.n;
    tr.dataset.file = r.file;
    var name = el("td", "global");
    name.appendChild(el("div", "name", tr.dataset.name));
    name.appendChild(el("div", "type", g.t));
    var where = el("div");
    links(where, g.f, g.l);
    name.appendChild(where);
    tr.appendChild(name);
    var cls = el("td");
    cls.appendChild(el("span", "badge " + g.c, g.c));
    tr.appendChild(cls);
    var rule = el("td");
    rule.appendChild(ruleCell(g));
    tr.appendChild(rule);
    tr.appendChild(el("td", "conf-" + g.k, g.k));
    var evidence = el("td", "evidence"), ul = el("ul");
    g.e.forEach(function (line) { ul.appendChild(el("li", null, line)); });
    evidence.appendChild(ul);
    tr.appendChild(evidence);
    var sites = el("td", "sites");
    if (!g.w.length) {
      sites.appendChild(el("small", null, "none"));
    } else {
      var first = el("ul");
      g.w.slice(0, SITES_SHOWN).forEach(function (w) { first.appendChild(site(w)); });
      sites.appendChild(first);
      if (g.w.length > SITES_SHOWN) {
        var rest = el("details"), more = el("ul");
        rest.appendChild(el("summary", null, (g.w.length - SITES_SHOWN) + " more"));
        g.w.slice(SITES_SHOWN).forEach(function (w) { more.appendChild(site(w)); });
        rest.appendChild(more);
        sites.appendChild(rest);
      }
    }
    tr.appendChild(sites);
    return tr;
  }

  function render() {
    var list = sorted(selected());
    var body = document.createDocumentFragment();
    list.slice(0, shown).forEach(function (r) { body.appendChild(row(r)); });
    var tbody = document.querySelector("#globals tbody");
    tbody.replaceChildren(body);
    var mutable = rows.filter(function (r) { return r.g.c !== "immutable"; }).length;
    $("count").textContent = "Showing " + Math.min(shown, list.length) + " of " + list.length + " matching globals ("
      + mutable + " mutable, " + (rows.length - mutable) + " immutable in all)";
    $("count").dataset.matching = String(list.length);
    $("more").hidden = $("all").hidden = list.length <= shown;
    $("more").textContent = "Show " + Math.min(PAGE, list.length - shown) + " more";
    document.querySelectorAll("th[data-sort]").forEach(function (th) {
      if (th.dataset.sort === state.sort) { th.setAttribute("aria-sort", state.desc ? "descending" : "ascending"); }
      else { th.removeAttribute("aria-sort"); }
    });
  }

  function update() { shown = PAGE; writeHash(); render(); }

  // -- events -----------------------------------------------------------------
  var typing = null;
  $("q").addEventListener("input", function () {
    clearTimeout(typing);
    typing = setTimeout(function () { state.q = $("q").value; update(); }, 120);
  });
  $("q").addEventListener("keydown", function (event) {
    if (event.key === "Escape") { $("q").value = ""; state.q = ""; update(); }
  });
  [["class", "cls"], ["rule", "rule"], ["dir", "dir"], ["conf", "conf"]].forEach(function (pair) {
    $(pair[0]).addEventListener("change", function () { state[pair[1]] = $(pair[0]).value; update(); });
  });
  $("immutable").addEventListener("change", function () { state.immutable = $("immutable").checked; update(); });
  $("tree").addEventListener("change", function () {
    var root = $("tree").value.trim() || data.tree;
    treeUrl = fileUrl(root);
    $("tree-shown").textContent = root;
    try { window.localStorage.setItem("cglobals-tree-" + data.version, root); } catch (e) { /* private mode */ }
    render();
  });
  document.querySelectorAll("th[data-sort] button").forEach(function (button) {
    button.addEventListener("click", function () {
      var key = button.parentNode.dataset.sort;
      state.desc = state.sort === key ? !state.desc : key === "writes" || key === "conf";
      state.sort = key;
      update();
    });
  });
  $("more").addEventListener("click", function () { shown += PAGE; render(); });
  $("all").addEventListener("click", function () { shown = rows.length; render(); });
  document.addEventListener("keydown", function (event) {
    var target = event.target.tagName;
    if (event.key === "/" && target !== "INPUT" && target !== "SELECT" && target !== "TEXTAREA") {
      event.preventDefault();
      $("q").focus();
    }
  });
  window.addEventListener("hashchange", function () { if (readHash()) { showControls(); render(); } });

  readHash();
  showControls();
  render();
}());
