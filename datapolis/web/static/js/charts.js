// Draws every <div data-chart-option="{...}"> from the ECharts option in that attribute. Runs on
// page load and on content htmx swaps in; the CSP allows no inline script.
(function () {
  "use strict";

  function draw(root) {
    if (typeof echarts === "undefined" || !root.querySelectorAll) {
      return;
    }
    root.querySelectorAll("[data-chart-option]").forEach(function (element) {
      if (echarts.getInstanceByDom(element)) {
        return;
      }
      var chart = echarts.init(element, null, { renderer: "canvas" });
      // Marked ready once drawn and animated, so tests and screenshots see the final chart.
      chart.on("finished", function () {
        element.dataset.chartReady = "true";
      });
      chart.setOption(JSON.parse(element.dataset.chartOption));
    });
  }

  function resizeAll() {
    document.querySelectorAll("[data-chart-option]").forEach(function (element) {
      var chart = echarts.getInstanceByDom(element);
      if (chart) {
        chart.resize();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    draw(document);
  });
  // After an outerHTML swap the event's target is the element that left the page, so look
  // for new charts everywhere (drawn ones are skipped), and free the charts that left.
  document.addEventListener("htmx:afterSettle", function () {
    draw(document);
  });
  document.addEventListener("htmx:beforeCleanupElement", function (event) {
    if (typeof echarts === "undefined") {
      return;
    }
    var chart = echarts.getInstanceByDom(event.target);
    if (chart) {
      chart.dispose();
    }
  });
  window.addEventListener("resize", resizeAll);
})();
