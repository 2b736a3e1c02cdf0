/* Draws the dashboards' Plotly charts from the JSON embedded in the page and adds the
 * downloads every chart has: its data as CSV, its image as PNG or SVG (Plotly's
 * downloadImage). plotly.js itself is served from our static files, never a CDN.
 *
 * Markup (templates/dashboards/_chart.html):
 *   <figure class="chart" data-chart data-spec="ID" data-filename="name"> ...
 *     <div class="chart-plot"></div> <div class="chart-tools"></div>
 *   </figure>
 *   <script type="application/json" id="ID">{"figure": {...}, "table": {...}}</script>
 */
(function () {
  "use strict";

  // Spreadsheet programs execute cells that start with these characters; prefix a quote.
  var FORMULA_START = /^[=+\-@\t\r]/;

  function csvCell(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    var text = String(value);
    if (FORMULA_START.test(text)) text = "'" + text;
    if (/[",\n\r]/.test(text)) text = '"' + text.replace(/"/g, '""') + '"';
    return text;
  }

  function toCsv(table) {
    var lines = [table.columns.map(csvCell).join(",")];
    table.rows.forEach(function (row) { lines.push(row.map(csvCell).join(",")); });
    return lines.join("\r\n") + "\r\n";
  }

  function saveText(filename, text, type) {
    var blob = new Blob([text], { type: type });
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = filename;
    document.body.appendChild(link);
    link.click();
    setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 0);
  }

  function button(label, title, onClick) {
    var el = document.createElement("button");
    el.type = "button";
    el.className = "chart-button";
    el.textContent = label;
    el.title = title;
    el.addEventListener("click", onClick);
    return el;
  }

  function sortControl(plot, spec, tools) {
    var heat = spec.figure.data[0];
    var label = document.createElement("label");
    label.className = "chart-sort";
    label.textContent = "Sort rows by ";
    var select = document.createElement("select");
    select.setAttribute("aria-label", "Sort rows by");
    [["", "name"]].concat(spec.sort_columns.map(function (c, i) { return [String(i), c]; }))
      .forEach(function (pair) {
        var option = document.createElement("option");
        option.value = pair[0];
        option.textContent = pair[1];
        select.appendChild(option);
      });
    var original = heat.y.map(function (name, i) { return { name: name, z: heat.z[i] }; });
    select.addEventListener("change", function () {
      var rows = original.slice();
      if (select.value === "") {
        rows.sort(function (a, b) { return a.name.localeCompare(b.name); });
      } else {
        var col = Number(select.value);
        rows.sort(function (a, b) {
          var x = a.z[col], y = b.z[col];
          if (x === null) return 1;
          if (y === null) return -1;
          return y - x; // highest first
        });
      }
      Plotly.restyle(plot, { y: [rows.map(function (r) { return r.name; })],
                             z: [rows.map(function (r) { return r.z; })] }, [0]);
      plot.closest("[data-chart]").dataset.sortedBy = select.value;
    });
    label.appendChild(select);
    tools.appendChild(label);
  }

  function render(container) {
    var spec = JSON.parse(document.getElementById(container.dataset.spec).textContent);
    var plot = container.querySelector(".chart-plot");
    var tools = container.querySelector(".chart-tools");
    var filename = container.dataset.filename || "chart";
    var config = {
      responsive: true,
      displaylogo: false,
      toImageButtonOptions: { filename: filename, format: "png", scale: 2 },
    };
    return Plotly.newPlot(plot, spec.figure.data, spec.figure.layout, config).then(function () {
      tools.appendChild(button("CSV", "Download the chart's data as CSV", function () {
        saveText(filename + ".csv", toCsv(spec.table), "text/csv;charset=utf-8");
      }));
      ["png", "svg"].forEach(function (format) {
        tools.appendChild(button(format.toUpperCase(), "Download the image as " + format.toUpperCase(),
          function () {
            Plotly.downloadImage(plot, { format: format, filename: filename,
                                         width: plot.clientWidth || 900,
                                         height: spec.figure.layout.height || 500 });
          }));
      });
      if (spec.sort_columns) sortControl(plot, spec, tools);
      container.dataset.rendered = "1";
    });
  }

  window.ValuePortraitCharts = { toCsv: toCsv, render: render };
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      render(el).catch(function (error) {
        el.dataset.rendered = "error";
        el.querySelector(".chart-tools").textContent = "The chart could not be drawn: " + error;
      });
    });
  });
})();
