// The dashboards' plots: each <canvas data-chart='{...}'> is drawn by Chart.js from the JSON spec of its
// data-chart attribute (made by tfe/app/web/pages/dashboard_tables.py). Its data
// table, right below, carries the same values; a suppressed value (fewer than 5 people) is null: no point.
(function () {
  "use strict";
  var COLOURS = ["#000091", "#e1000f", "#18753c", "#b34000", "#6a6af4", "#009099"];

  function lineOrBar(spec) {
    return {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (d, i) {
          var colour = COLOURS[i % COLOURS.length];
          return { label: d.label, data: d.data, borderColor: colour, backgroundColor: colour, spanGaps: false };
        })
      },
      options: { responsive: true, maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true } } }
    };
  }

  function matrix(spec) {
    var xs = [], ys = [], max = 1;
    spec.points.forEach(function (p) {
      if (xs.indexOf(p.x) < 0) { xs.push(p.x); }
      if (ys.indexOf(p.y) < 0) { ys.push(p.y); }
      if (p.v !== null && p.v > max) { max = p.v; }
    });
    xs.sort(); ys.sort();
    return {
      type: "matrix",
      data: {
        datasets: [{
          label: spec.label,
          data: spec.points,
          backgroundColor: function (ctx) {
            var raw = ctx.raw || {};
            var alpha = raw.v === null || raw.v === undefined ? 0.05 : 0.15 + 0.85 * raw.v / max;
            return "rgba(0, 0, 145, " + alpha.toFixed(3) + ")";
          },
          width: function (ctx) { var a = ctx.chart.chartArea; return a ? a.width / xs.length - 2 : 10; },
          height: function (ctx) { var a = ctx.chart.chartArea; return a ? a.height / ys.length - 2 : 10; }
        }]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (ctx) {
            var r = ctx.raw; return r.x + " × " + r.y + " : " + (r.v === null ? "masqué" : r.v);
          } } }
        },
        scales: {
          x: { type: "category", labels: xs, offset: true, ticks: { autoSkip: false }, title: { display: true, text: spec.xLabel }, grid: { display: false } },
          y: { type: "category", labels: ys, offset: true, ticks: { autoSkip: false }, title: { display: true, text: spec.yLabel }, grid: { display: false } }
        }
      }
    };
  }

  function draw() {
    if (typeof window.Chart === "undefined") { return; }
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var spec = JSON.parse(canvas.getAttribute("data-chart"));
      if (spec.type === "matrix") {  // one readable row per country (CSSOM, allowed by the policy)
        var rows = {};
        spec.points.forEach(function (p) { rows[p.y] = true; });
        canvas.parentNode.style.height = Math.max(280, 18 * Object.keys(rows).length + 90) + "px";
      }
      new window.Chart(canvas, spec.type === "matrix" ? matrix(spec) : lineOrBar(spec));
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
