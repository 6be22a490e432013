// An SVG picture of Pareto fronts, one series per target board (`nas pareto --plot front.svg`). The document is
// written as plain text with no drawing library: a fixed canvas, axes with 1/2/5 x 10^k ticks, a legend to the right
// of the plot area, and a tooltip (<title>) on every point. The output is a pure function of the input, byte for byte.
#pragma once

#include <string>
#include <vector>

namespace nas::results {

struct PlotPoint {
  double x = 0, y = 0;
  bool dominated = false;  // drawn faintly and left off the front's step line
};

struct PlotSeries {
  std::string name;  // shown in the legend and the tooltips; any text (it is escaped)
  std::vector<PlotPoint> points;
};

struct FrontPlot {
  std::string title;             // e.g. "Fashion-MNIST: accuracy vs latency"
  std::string x_label, y_label;  // with units, e.g. "latency per inference [ms]", "test accuracy [%]"
  std::vector<PlotSeries> series;
  bool log_x = false;  // for x ranges spanning more than ~20x; every x must then be > 0
};

// The whole SVG document (starting "<svg", ending "</svg>\n"). The front is read as "minimise x, maximise y": the
// non-dominated points of a series are joined by a staircase in x order. Every <circle> is a data point (legend
// markers are drawn otherwise), so a document has exactly as many circles as the plot has points.
// Throws nas::Error (bad input) when no series has a point, when an x or y is not finite, or when log_x is set and
// an x is <= 0.
std::string front_svg(const FrontPlot& plot);

}  // namespace nas::results
