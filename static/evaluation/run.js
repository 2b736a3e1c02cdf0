// Run page: poll the progress endpoint while the run is active; draw the portrait chart.
(function () {
  "use strict";
  const box = document.getElementById("progress");
  if (box && box.dataset.active === "1") {
    const bar = box.querySelector("progress");
    const poll = async () => {
      try {
        const response = await fetch(box.dataset.url, { credentials: "same-origin" });
        if (!response.ok) return;
        const data = await response.json();
        for (const el of box.querySelectorAll("[data-field]")) {
          const value = data[el.dataset.field];
          if (el.dataset.field === "eta_seconds") {
            el.textContent = value ? Math.round(value) + " s" : "—";
          } else if (el.dataset.field === "cost_estimate_usd") {
            el.textContent = Number(value).toFixed(4);
          } else if (value !== undefined && value !== null) {
            el.textContent = value;
          }
        }
        bar.max = data.expected;
        bar.value = data.answered;
        if (["done", "cancelled", "failed"].includes(data.status)) {
          window.location.reload();
          return;
        }
      } catch (err) {
        // Network hiccup: try again on the next tick.
      }
      window.setTimeout(poll, 2000);
    };
    window.setTimeout(poll, 2000);
  }
  const dataNode = document.getElementById("portrait-data");
  const chart = document.getElementById("portrait-chart");
  if (dataNode && chart && window.Plotly) {
    const rows = JSON.parse(dataNode.textContent);
    window.Plotly.newPlot(
      chart,
      [{ type: "bar", x: rows.map((r) => r.dimension), y: rows.map((r) => r.centred) }],
      { margin: { t: 20 }, yaxis: { title: "centred score", zeroline: true } },
      { displayModeBar: false, responsive: true }
    );
  }
})();
