// Draws the dashboard's charts (Chart.js, served from node_modules) from the figures the page embeds as
// JSON (#dashboard-charts); each chart's table on the page carries the same numbers.
(function () {
  "use strict";
  const source = document.getElementById("dashboard-charts");
  if (!source || typeof Chart === "undefined") return;

  // Colours that stay apart for people with common colour-vision deficiencies (Okabe–Ito), the site's
  // red first.
  const PALETTE = ["#c8161d", "#0072b2", "#e69f00", "#009e73", "#56b4e9", "#cc79a7", "#d55e00", "#555555"];
  const style = getComputedStyle(document.documentElement);
  const text = style.getPropertyValue("--w-color-text-context").trim() || "#262626";
  const grid = style.getPropertyValue("--w-color-border-furniture").trim() || "#e0e0e0";
  const reduced = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = text;
  Chart.defaults.borderColor = grid;
  if (reduced) Chart.defaults.animation = false;

  // One colour per figure across the page: "verified hours" looks the same in every chart.
  const colours = new Map();
  function colourOf(key) {
    if (!colours.has(key)) colours.set(key, PALETTE[colours.size % PALETTE.length]);
    return colours.get(key);
  }

  function build(chart) {
    const horizontal = chart.horizontal;
    const lines = chart.datasets.filter((d) => d.kind === "line");
    const datasets = chart.datasets.map((d) => {
      const colour = colourOf(d.key);
      const line = d.kind === "line";
      return {
        type: line ? "line" : "bar",
        label: d.label,
        data: d.data,
        backgroundColor: line ? colour : colour + "cc",
        borderColor: colour,
        borderWidth: line ? 2 : 0,
        pointRadius: line ? 3 : 0,
        spanGaps: true,
        yAxisID: line && !horizontal ? "y2" : undefined,
        order: line ? 0 : 1, // lines are drawn over the bars
      };
    });
    const valueAxis = { beginAtZero: true, stacked: chart.stacked, ticks: { precision: 0 } };
    const labelAxis = { stacked: chart.stacked, grid: { display: false } };
    if (horizontal) {
      // Long row labels (an identity with its explanation) would squeeze the bars on a phone: shorten
      // them there; the table below gives them in full.
      const room = window.innerWidth < 600 ? 8 : 24;
      labelAxis.ticks = {
        callback(value) {
          const text = this.getLabelForValue(value);
          return text.length > room ? text.slice(0, room - 1) + "…" : text;
        },
      };
    }
    const scales = horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis };
    if (lines.length && !horizontal) {
      // Lines carry another unit (hours, a rating): their own axis on the right, named after them.
      scales.y2 = {
        position: "right",
        beginAtZero: true,
        grid: { drawOnChartArea: false },
        title: { display: true, text: lines.map((d) => d.label).join(" / ") },
      };
    }
    return {
      type: "bar",
      data: { labels: chart.labels, datasets },
      options: {
        indexAxis: horizontal ? "y" : "x",
        maintainAspectRatio: false,
        responsive: true,
        interaction: { mode: "index", intersect: false },
        plugins: {
          // In the table's column order, whatever the drawing order.
          legend: {
            position: "bottom",
            labels: { boxWidth: 12, boxHeight: 12, sort: (a, b) => a.datasetIndex - b.datasetIndex },
          },
          tooltip: { enabled: true },
        },
        scales,
      },
    };
  }

  for (const chart of JSON.parse(source.textContent)) {
    const canvas = document.querySelector(`canvas[data-chart="${CSS.escape(chart.id)}"]`);
    if (canvas) new Chart(canvas, build(chart));
  }
})();
