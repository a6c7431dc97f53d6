// Charts of the impact dashboard and the unit report (issue 9), drawn with the vendored
// Chart.js (static/vendor/chartjs, loaded before this module as a classic script: window.Chart).
//
// The server describes every chart (reports/charts.py: title, axis label, category names,
// values in kg and the same values already written in the reader's locale) in one
// <script type="application/json" id="chart-data"> block: no inline script, so a
// Content-Security-Policy without 'unsafe-inline' holds. Each chart draws on
// <canvas id="chart-<key>">; the table beside it (the accessible fallback) carries the same
// figures. Axis ticks are written with Intl.NumberFormat in the page's language, which groups
// as Babel does on the server ("5.000" in Indonesian, "5,000" in English).

const PALETTE = ["#2e7d32", "#1565c0", "#f9a825", "#6a1b9a", "#00838f", "#c62828", "#5d4037", "#558b2f",
  "#ad1457", "#455a64"];

function readCharts() {
  const block = document.getElementById("chart-data");
  if (!block) { return []; }
  try {
    return JSON.parse(block.textContent || "[]");
  } catch (error) {
    return [];
  }
}

function config(chart, numbers) {
  const tick = (value) => numbers.format(value);
  const text = (i) => chart.texts[i] + (chart.axis ? " " + chart.axis : "");
  const tooltip = { callbacks: { label: (ctx) => " " + ctx.label + ": " + text(ctx.dataIndex) } };
  // The title is the figure's <figcaption> (visible, and the canvas's accessible name).
  const title = { display: false, text: chart.title };
  const data = {
    labels: chart.labels,
    datasets: [{
      label: chart.title,
      data: chart.values,
      backgroundColor: chart.kind === "pie" ? chart.labels.map((_l, i) => PALETTE[i % PALETTE.length]) : PALETTE[0],
      borderColor: chart.kind === "pie" ? "#ffffff" : PALETTE[0],
      borderWidth: 1,
    }],
  };
  if (chart.kind === "pie") {
    return {
      type: "pie", data,
      options: {
        responsive: true, maintainAspectRatio: false, animation: false, locale: numbers.resolvedOptions().locale,
        plugins: { title, tooltip, legend: { position: "bottom", labels: { boxWidth: 14 } } },
      },
    };
  }
  const horizontal = chart.kind === "hbar";
  const valueAxis = {
    beginAtZero: true,
    ticks: { callback: tick },
    title: { display: Boolean(chart.axis), text: chart.axis, font: { weight: "bold" } },
  };
  const categoryAxis = { ticks: { autoSkip: true, maxRotation: 45 } };
  return {
    type: "bar", data,
    options: {
      indexAxis: horizontal ? "y" : "x",
      responsive: true, maintainAspectRatio: false, animation: false, locale: numbers.resolvedOptions().locale,
      scales: horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
      plugins: { title, tooltip, legend: { display: false } },
    },
  };
}

export function drawCharts() {
  const Chart = window.Chart;
  const lang = document.documentElement.lang || "id";
  const numbers = new Intl.NumberFormat(lang, { maximumFractionDigits: 3 });
  const drawn = [];
  if (Chart) {
    Chart.defaults.font.size = 13;  // readable on a tablet held at arm's length
    Chart.defaults.color = "#33413a";
  }
  for (const chart of readCharts()) {
    const canvas = document.getElementById("chart-" + chart.key);
    if (!canvas || !Chart) { continue; }
    drawn.push(new Chart(canvas, config(chart, numbers)));
    canvas.closest("figure")?.classList.add("chart-drawn");
  }
  return drawn;
}

drawCharts();
