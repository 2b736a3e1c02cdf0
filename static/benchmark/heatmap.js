// Draws the item × dimension correlation heat map of a run page (data from json_script).
(function () {
  "use strict";
  var holder = document.getElementById("heatmap");
  var source = document.getElementById("heatmap-data");
  if (!holder || !source || typeof Plotly === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  if (!data.y.length) { holder.textContent = "No correlations stored."; return; }
  var trace = {
    type: "heatmap",
    x: data.x,
    y: data.y,
    z: data.z,
    zmin: -0.6,
    zmax: 0.6,
    colorscale: "RdBu",  // plotly.js RdBu runs blue (negative) to red (positive)
    hoverongaps: false,
    colorbar: { title: { text: "r" } },
    hovertemplate: "item %{y}<br>%{x}<br>r = %{z:.3f}<extra></extra>"
  };
  var height = Math.min(Math.max(400, data.y.length * 4), 2400);
  Plotly.newPlot(holder, [trace], {
    margin: { l: 70, r: 20, t: 10, b: 130 },
    height: height,
    yaxis: { autorange: "reversed", type: "category", tickfont: { size: 9 } },
    xaxis: { type: "category", tickangle: -45 }
  }, { responsive: true, displaylogo: false }).then(function () {
    holder.setAttribute("data-rendered", "true");
  });
})();
