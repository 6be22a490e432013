// The SVG Pareto-front plot: document structure, one circle per point with its tooltip, faint dominated points, the
// step line, legend, XML escaping, nice ticks, monotonic (and logarithmic) mapping, input errors, determinism.
#include "results/front_plot.h"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/common/test_support.h"

namespace nas::results {
namespace {

using test_support::contains;
using test_support::error_of;

// Three boards over latency 5-200 ms and accuracy 85-92 %, with both kinds of points, listed out of x order.
FrontPlot sample() {
  FrontPlot p;
  p.title = "Fashion-MNIST: accuracy vs latency";
  p.x_label = "latency per inference [ms]";
  p.y_label = "test accuracy [%]";
  p.series.push_back({"nano33",
                      {{90, 90.4, false},
                       {38, 87.1, false},
                       {160, 91.6, false},
                       {55, 88.9, false},
                       {70, 87.5, true},
                       {200, 90.9, true}}});
  p.series.push_back({"f746", {{5, 85.6, false}, {16, 90.1, false}, {9, 88.2, false}, {12, 86.9, true}}});
  p.series.push_back({"rp2040", {{24, 86.0, false}, {140, 91.9, false}, {60, 87.0, true}, {180, 91.0, true}}});
  return p;
}

size_t point_count(const FrontPlot& p) {
  size_t n = 0;
  for (const auto& s : p.series) n += s.points.size();
  return n;
}

size_t count_of(const std::string& text, const std::string& word) {
  size_t n = 0;
  for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) ++n;
  return n;
}

// The value of attribute `name` in the element text `element` ("" when absent).
std::string attr(const std::string& element, const std::string& name) {
  const std::string key = " " + name + "=\"";
  const size_t at = element.find(key);
  if (at == std::string::npos) return "";
  const size_t start = at + key.size();
  return element.substr(start, element.find('"', start) - start);
}

struct Circle {
  std::string open_tag;  // "<circle ...>"
  double cx = 0, cy = 0;
  std::string title;
};

std::vector<Circle> circles(const std::string& svg) {
  std::vector<Circle> out;
  for (size_t at = svg.find("<circle"); at != std::string::npos; at = svg.find("<circle", at + 1)) {
    Circle c;
    c.open_tag = svg.substr(at, svg.find('>', at) - at + 1);
    c.cx = std::stod(attr(c.open_tag, "cx"));
    c.cy = std::stod(attr(c.open_tag, "cy"));
    const size_t end = svg.find("</circle>", at);
    const size_t title = svg.find("<title>", at);
    if (title != std::string::npos && title < end) {
      c.title = svg.substr(title + 7, svg.find("</title>", title) - title - 7);
    }
    out.push_back(c);
  }
  return out;
}

// The circle whose tooltip names this point (the values as the tooltip prints them).
const Circle& circle_at(const std::vector<Circle>& all, const std::string& x_text, const std::string& y_text) {
  for (const auto& c : all) {
    if (contains(c.title, ": " + x_text + "\n") && contains(c.title, ": " + y_text + "\n")) return c;
  }
  ADD_FAILURE() << "no circle for (" << x_text << ", " << y_text << ")";
  static const Circle none;
  return none;
}

// The texts of <text class="<cls>"> elements, in document order.
std::vector<std::string> texts_of_class(const std::string& svg, const std::string& cls) {
  std::vector<std::string> out;
  const std::string key = "<text class=\"" + cls + "\"";
  for (size_t at = svg.find(key); at != std::string::npos; at = svg.find(key, at + 1)) {
    const size_t start = svg.find('>', at) + 1;
    out.push_back(svg.substr(start, svg.find("</text>", start) - start));
  }
  return out;
}

// Checks the tags nest (a tiny XML reader: our writer puts no '>' inside attribute values, they are escaped).
// Returns "" or what is wrong.
std::string nesting_error(const std::string& svg) {
  std::vector<std::string> open;
  int roots = 0;
  for (size_t at = svg.find('<'); at != std::string::npos; at = svg.find('<', at + 1)) {
    const size_t end = svg.find('>', at);
    if (end == std::string::npos) return "unterminated tag";
    const std::string tag = svg.substr(at + 1, end - at - 1);
    if (tag.empty()) return "empty tag";
    if (tag[0] == '/') {
      const std::string name = tag.substr(1);
      if (open.empty() || open.back() != name)
        return "</" + name + "> does not close " + (open.empty() ? "" : open.back());
      open.pop_back();
    } else if (tag.back() != '/') {
      if (open.empty()) ++roots;
      open.push_back(tag.substr(0, tag.find_first_of(" \n")));
    } else if (open.empty()) {
      return "self-closed element outside the root";
    }
  }
  if (!open.empty()) return "<" + open.back() + "> never closed";
  if (roots != 1) return "expected one root element, got " + std::to_string(roots);
  return "";
}

// The first coordinate attribute that is not a finite number printed with at most one decimal, or "".
std::string bad_coordinate(const std::string& svg) {
  for (const char* name : {"cx", "cy", "x", "y", "x1", "y1", "x2", "y2", "width", "height"}) {
    const std::string key = std::string(" ") + name + "=\"";
    for (size_t at = svg.find(key); at != std::string::npos; at = svg.find(key, at + 1)) {
      const size_t start = at + key.size();
      const std::string value = svg.substr(start, svg.find('"', start) - start);
      if (value == "100%") continue;  // the background
      size_t used = 0;
      double v = std::numeric_limits<double>::quiet_NaN();
      try {
        v = std::stod(value, &used);
      } catch (const std::exception&) {
      }
      const size_t dot = value.find('.');
      if (!std::isfinite(v) || used != value.size() || (dot != std::string::npos && value.size() - dot > 2)) {
        return std::string(name) + "=\"" + value + "\"";
      }
    }
  }
  return "";
}

// Whether step is 1, 2 or 5 times a power of ten (within printing precision).
bool nice_step(double step) {
  const double e = std::floor(std::log10(step) + 1e-9);
  const double m = step / std::pow(10.0, e);
  return std::abs(m - 1) < 1e-6 || std::abs(m - 2) < 1e-6 || std::abs(m - 5) < 1e-6;
}

// Every circle/path/line coordinate of the front points is inside the plot frame.
struct Frame {
  double left, top, right, bottom;
};
Frame frame_of(const std::string& svg) {
  const size_t at = svg.find("<rect class=\"frame\"");
  const std::string tag = svg.substr(at, svg.find('>', at) - at);
  const double x = std::stod(attr(tag, "x")), y = std::stod(attr(tag, "y"));
  return {x, y, x + std::stod(attr(tag, "width")), y + std::stod(attr(tag, "height"))};
}

TEST(FrontPlotTest, IsOneWellFormedSvgDocument) {
  const std::string svg = front_svg(sample());
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  ASSERT_GE(svg.size(), 7u);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  EXPECT_EQ(nesting_error(svg), "");
  EXPECT_EQ(count_of(svg, "<svg"), 1u);
  EXPECT_EQ(bad_coordinate(svg), "");
}

TEST(FrontPlotTest, NestingCheckerCatchesBrokenDocuments) {
  // The structural test above is only as good as this checker.
  EXPECT_NE(nesting_error("<svg><g></svg>"), "");
  EXPECT_NE(nesting_error("<svg></svg><svg></svg>"), "");
  EXPECT_NE(nesting_error("<svg><g>"), "");
  EXPECT_EQ(nesting_error("<svg><g><rect/></g></svg>"), "");
}

TEST(FrontPlotTest, ExactlyOneCirclePerPointEachWithTooltip) {
  // Legend markers are rounded <rect>s on purpose, so circles are data points only.
  const FrontPlot plot = sample();
  const std::string svg = front_svg(plot);
  const auto all = circles(svg);
  EXPECT_EQ(all.size(), point_count(plot));
  EXPECT_EQ(count_of(svg, "<circle"), point_count(plot));
  for (const auto& c : all) EXPECT_NE(c.title, "") << c.open_tag;

  const auto& p = circle_at(all, "38", "87.1");
  EXPECT_TRUE(contains(p.title, "nano33"));
  EXPECT_TRUE(contains(p.title, "latency per inference [ms]: 38\n"));
  EXPECT_TRUE(contains(p.title, "test accuracy [%]: 87.1\n"));
}

TEST(FrontPlotTest, DominatedPointsAreFaintFrontPointsOpaque) {
  const std::string svg = front_svg(sample());
  int faint = 0, opaque = 0;
  for (const auto& c : circles(svg)) {
    if (contains(c.title, "dominated")) {
      EXPECT_EQ(attr(c.open_tag, "fill-opacity"), "0.25") << c.title;
      ++faint;
    } else {
      EXPECT_TRUE(contains(c.title, "on the front")) << c.title;
      EXPECT_EQ(attr(c.open_tag, "fill-opacity"), "") << c.title;
      ++opaque;
    }
  }
  EXPECT_EQ(faint, 5);
  EXPECT_EQ(opaque, 9);
}

TEST(FrontPlotTest, FrontIsAStaircaseThroughItsPointsInXOrder) {
  FrontPlot plot;
  plot.series.push_back({"b", {{30, 3}, {10, 1}, {20, 2}, {15, 2.5, true}}});
  const std::string svg = front_svg(plot);
  const auto all = circles(svg);
  const Circle& p10 = circle_at(all, "10", "1");
  const Circle& p20 = circle_at(all, "20", "2");
  const Circle& p30 = circle_at(all, "30", "3");

  ASSERT_EQ(count_of(svg, "<path "), 1u);
  const size_t at = svg.find("<path ");
  const std::string d = attr(svg.substr(at, svg.find('>', at) - at), "d");
  const auto f = [](double v) { return fmt::format("{:.1f}", v); };
  // Horizontal to the next point's x, then up to its y, starting at the leftmost point; the dominated one is not on it.
  EXPECT_EQ(
      d, "M" + f(p10.cx) + " " + f(p10.cy) + " H" + f(p20.cx) + " V" + f(p20.cy) + " H" + f(p30.cx) + " V" + f(p30.cy));
  EXPECT_EQ(attr(svg.substr(at, svg.find('>', at) - at), "stroke"), attr(p10.open_tag, "fill"));
}

TEST(FrontPlotTest, SeriesWithOneFrontPointOrNoneDrawNoLine) {
  FrontPlot plot;
  plot.series.push_back({"one", {{1, 1}, {2, 0.5, true}}});
  plot.series.push_back({"all-dominated", {{3, 1, true}}});
  const std::string svg = front_svg(plot);
  EXPECT_EQ(count_of(svg, "<path "), 0u);
  EXPECT_EQ(count_of(svg, "<circle"), 3u);
}

TEST(FrontPlotTest, LegendNamesEverySeriesAndExplainsFaintPoints) {
  const std::string svg = front_svg(sample());
  const size_t legend = svg.find("<g class=\"legend\"");
  ASSERT_NE(legend, std::string::npos);
  const std::string rest = svg.substr(legend);
  for (const char* name : {"nano33", "f746", "rp2040"})
    EXPECT_TRUE(contains(rest, ">" + std::string(name) + "</text>")) << name;
  EXPECT_TRUE(contains(rest, "faint: dominated"));
  EXPECT_EQ(count_of(rest, "<circle"), 0u);
  // Series get distinct colours, and the legend uses the same ones.
  std::set<std::string> fills;
  for (const auto& c : circles(svg)) {
    if (contains(c.title, "nano33") || contains(c.title, "f746") || contains(c.title, "rp2040")) {
      fills.insert(attr(c.open_tag, "fill"));
    }
  }
  EXPECT_EQ(fills.size(), 3u);
  for (const auto& fill : fills) EXPECT_TRUE(contains(rest, "fill=\"" + fill + "\"")) << fill;
}

TEST(FrontPlotTest, LegendStaysOutsideThePlotArea) {
  const std::string svg = front_svg(sample());
  const Frame frame = frame_of(svg);
  const size_t legend = svg.find("<g class=\"legend\" transform=\"translate(");
  ASSERT_NE(legend, std::string::npos);
  const double legend_x =
      std::stod(svg.substr(legend + std::string("<g class=\"legend\" transform=\"translate(").size()));
  EXPECT_GT(legend_x, frame.right);
  for (const auto& c : circles(svg)) {
    EXPECT_GT(c.cx, frame.left);
    EXPECT_LT(c.cx, frame.right);
    EXPECT_GT(c.cy, frame.top);
    EXPECT_LT(c.cy, frame.bottom);
  }
}

TEST(FrontPlotTest, PaletteCyclesAfterEightSeries) {
  FrontPlot plot;
  for (int i = 0; i < 9; ++i) plot.series.push_back({"s" + std::to_string(i), {{static_cast<double>(i), 1.0 * i}}});
  const auto all = circles(front_svg(plot));
  ASSERT_EQ(all.size(), 9u);
  std::set<std::string> first_eight;
  for (int i = 0; i < 8; ++i) first_eight.insert(attr(all[static_cast<size_t>(i)].open_tag, "fill"));
  EXPECT_EQ(first_eight.size(), 8u);
  EXPECT_EQ(attr(all[8].open_tag, "fill"), attr(all[0].open_tag, "fill"));
}

TEST(FrontPlotTest, TitleAndAxisLabelsArePresent) {
  const std::string svg = front_svg(sample());
  EXPECT_EQ(texts_of_class(svg, "title"), std::vector<std::string>{"Fashion-MNIST: accuracy vs latency"});
  EXPECT_EQ(texts_of_class(svg, "xlabel"), std::vector<std::string>{"latency per inference [ms]"});
  EXPECT_EQ(texts_of_class(svg, "ylabel"), std::vector<std::string>{"test accuracy [%]"});
}

TEST(FrontPlotTest, EscapesUserTextForXml) {
  FrontPlot plot = sample();
  plot.series[0].name = "a<b & \"c\"";
  plot.title = "x > 'y'";
  const std::string svg = front_svg(plot);
  EXPECT_TRUE(contains(svg, ">a&lt;b &amp; &quot;c&quot;</text>"));
  EXPECT_TRUE(contains(svg, ">x &gt; &apos;y&apos;</text>"));
  EXPECT_FALSE(contains(svg, "a<b"));
  EXPECT_FALSE(contains(svg, "& \""));
  EXPECT_EQ(nesting_error(svg), "");
  // Tooltips carry the name escaped too.
  EXPECT_TRUE(contains(circle_at(circles(svg), "38", "87.1").title, "a&lt;b &amp; &quot;c&quot;"));
}

TEST(FrontPlotTest, TicksOfTheSampleAreRoundNumbers) {
  const std::string svg = front_svg(sample());
  EXPECT_EQ(texts_of_class(svg, "xtick"), (std::vector<std::string>{"0", "50", "100", "150", "200"}));
  EXPECT_EQ(texts_of_class(svg, "ytick"), (std::vector<std::string>{"86", "87", "88", "89", "90", "91", "92"}));
}

TEST(FrontPlotTest, TicksAreEvenOneTwoFiveStepsOverManyRanges) {
  const std::vector<std::pair<double, double>> ranges = {
      {0.81, 0.87}, {5, 200}, {-3, 2.5}, {0, 1}, {1234, 98765}, {0.0012, 0.0019}, {100, 100.4}, {7, 7}, {-50, -20}};
  for (const auto& [lo, hi] : ranges) {
    FrontPlot plot;
    plot.series.push_back({"s", {{lo, lo}, {hi, hi}}});
    const std::string svg = front_svg(plot);
    for (const char* cls : {"xtick", "ytick"}) {
      const auto labels = texts_of_class(svg, cls);
      SCOPED_TRACE(std::string(cls) + " over [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
      ASSERT_GE(labels.size(), 3u);
      EXPECT_LE(labels.size(), 9u);
      std::vector<double> values;
      for (const auto& l : labels) {
        EXPECT_LE(l.size(), 7u) << l;  // no long floats
        size_t used = 0;
        values.push_back(std::stod(l, &used));
        EXPECT_EQ(used, l.size()) << l;
      }
      const double step = values[1] - values[0];
      EXPECT_TRUE(nice_step(step)) << step;
      for (size_t i = 1; i < values.size(); ++i) EXPECT_NEAR(values[i] - values[i - 1], step, step * 1e-6);
      // Ticks are multiples of the step and lie within the shown range: the data padded by 5% a side (a single value
      // first widened by 5% of its magnitude a side).
      EXPECT_NEAR(values[0] / step, std::round(values[0] / step), 1e-6);
      const double shown_lo = hi > lo ? lo : lo - 0.05 * std::abs(lo),
                   shown_hi = hi > lo ? hi : hi + 0.05 * std::abs(hi);
      const double pad = 0.05 * (shown_hi - shown_lo) * 1.001;
      EXPECT_GE(values.front(), shown_lo - pad);
      EXPECT_LE(values.back(), shown_hi + pad);
    }
  }
}

TEST(FrontPlotTest, MappingIsMonotonic) {
  FrontPlot plot;
  plot.series.push_back({"s", {{3, 30}, {1, 50}, {2, 10}, {5, 20, true}, {4, 40, true}}});
  const auto all = circles(front_svg(plot));
  std::map<int, const Circle*> by_x, by_y;
  for (const auto& p : plot.series[0].points) {
    const Circle& c = circle_at(all, fmt::format("{:.6g}", p.x), fmt::format("{:.6g}", p.y));
    by_x[static_cast<int>(p.x)] = &c;
    by_y[static_cast<int>(p.y)] = &c;
  }
  for (auto it = std::next(by_x.begin()); it != by_x.end(); ++it) EXPECT_GT(it->second->cx, std::prev(it)->second->cx);
  for (auto it = std::next(by_y.begin()); it != by_y.end(); ++it) EXPECT_LT(it->second->cy, std::prev(it)->second->cy);
  // Tick labels are placed in the same order as their values.
  const std::string svg = front_svg(plot);
  double last = -1;
  for (size_t at = svg.find("<text class=\"xtick\""); at != std::string::npos;
       at = svg.find("<text class=\"xtick\"", at + 1)) {
    const double x = std::stod(attr(svg.substr(at, svg.find('>', at) - at), "x"));
    EXPECT_GT(x, last);
    last = x;
  }
}

TEST(FrontPlotTest, LogXPlacesEachDecadeTheSameDistanceApart) {
  FrontPlot plot;
  plot.log_x = true;
  plot.x_label = "latency [ms]";
  plot.series.push_back({"s", {{10, 1}, {100, 2}, {1000, 3}, {30, 1.5, true}}});
  const std::string svg = front_svg(plot);
  const auto all = circles(svg);
  const double x10 = circle_at(all, "10", "1").cx, x100 = circle_at(all, "100", "2").cx;
  const double x1000 = circle_at(all, "1000", "3").cx, x30 = circle_at(all, "30", "1.5").cx;
  EXPECT_GT(x100 - x10, 50);
  EXPECT_NEAR(x100 - x10, x1000 - x100, 0.15);  // coordinates are printed to 0.1 px
  EXPECT_NEAR(x30 - x10, (x100 - x10) * std::log10(3.0), 0.15);
  // Ticks at 1, 2 and 5 times powers of ten.
  EXPECT_EQ(texts_of_class(svg, "xtick"), (std::vector<std::string>{"10", "20", "50", "100", "200", "500", "1000"}));
  EXPECT_EQ(texts_of_class(svg, "xlabel"), std::vector<std::string>{"latency [ms] (log scale)"});
}

TEST(FrontPlotTest, LogXOverManyDecadesKeepsPowersOfTen) {
  FrontPlot plot;
  plot.log_x = true;
  plot.series.push_back({"s", {{0.01, 1}, {1e7, 2}}});
  const auto labels = texts_of_class(front_svg(plot), "xtick");
  ASSERT_GE(labels.size(), 3u);
  EXPECT_LE(labels.size(), 8u);
  for (const auto& l : labels) {
    const double v = std::stod(l);
    EXPECT_NEAR(std::log10(v), std::round(std::log10(v)), 1e-9) << l;
  }
}

TEST(FrontPlotTest, OnePointOrIdenticalValuesDoNotDivideByZero) {
  FrontPlot one;
  one.series.push_back({"s", {{5, 90}}});
  FrontPlot same;
  same.series.push_back({"s", {{0, 1}, {0, 1, true}, {0, 1}}});
  FrontPlot same_log;
  same_log.log_x = true;
  same_log.series.push_back({"s", {{20, 1}, {20, 2}}});
  for (const FrontPlot* plot : {&one, &same, &same_log}) {
    const std::string svg = front_svg(*plot);
    EXPECT_EQ(bad_coordinate(svg), "");
    const Frame frame = frame_of(svg);
    for (const auto& c : circles(svg)) {
      // Centred, since the made-up range is symmetric about the single value.
      EXPECT_NEAR(c.cx, (frame.left + frame.right) / 2, 0.1);
      if (plot != &same_log) {
        EXPECT_NEAR(c.cy, (frame.top + frame.bottom) / 2, 0.1);
      }
    }
    EXPECT_GE(texts_of_class(svg, "xtick").size(), 2u);
  }
}

TEST(FrontPlotTest, RejectsPlotsWithNothingToDraw) {
  FrontPlot none;
  EXPECT_TRUE(contains(error_of([&] { front_svg(none); }), "front plot: nothing to plot"));
  FrontPlot empty_series;
  empty_series.series.push_back({"nano33", {}});
  EXPECT_TRUE(contains(error_of([&] { front_svg(empty_series); }), "nothing to plot"));
}

TEST(FrontPlotTest, RejectsNonFiniteCoordinates) {
  FrontPlot nan_x = sample();
  nan_x.series[1].points[2].x = std::numeric_limits<double>::quiet_NaN();
  const std::string message = error_of([&] { front_svg(nan_x); });
  EXPECT_TRUE(contains(message, "series \"f746\", point 2: x is not a finite number (got nan)")) << message;

  FrontPlot inf_y = sample();
  inf_y.series[0].points[0].y = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(contains(error_of([&] { front_svg(inf_y); }), "y is not a finite number (got inf)"));
}

TEST(FrontPlotTest, RejectsNonPositiveXOnLogScale) {
  FrontPlot zero = sample();
  zero.log_x = true;
  zero.series[2].points[1].x = 0;
  EXPECT_TRUE(
      contains(error_of([&] { front_svg(zero); }), "series \"rp2040\", point 1: a log-scale x axis needs x > 0"));
  FrontPlot negative = sample();
  negative.log_x = true;
  negative.series[0].points[0].x = -1;
  EXPECT_TRUE(contains(error_of([&] { front_svg(negative); }), "(got -1, expected > 0)"));
  // The same points are fine on a linear axis.
  negative.log_x = false;
  EXPECT_EQ(error_of([&] { front_svg(negative); }), "");
}

TEST(FrontPlotTest, SameInputSameBytes) {
  const std::string first = front_svg(sample());
  EXPECT_EQ(front_svg(sample()), first);
  FrontPlot changed = sample();
  changed.series[0].points[0].y += 0.5;
  EXPECT_NE(front_svg(changed), first);
}

}  // namespace
}  // namespace nas::results
