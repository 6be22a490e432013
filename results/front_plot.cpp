// SVG writer for Pareto-front plots: ranges, 1/2/5 ticks (linear or log x), the drawing and its legend.
#include "results/front_plot.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <string_view>
#include <tuple>
#include <utility>

#include "common/error.h"

namespace nas::results {
namespace {

constexpr std::string_view kWhere = "front plot";

// Canvas layout in SVG user units (px). The legend gets its own column right of the plot area, so it can never
// hide a point or an axis, whatever the data.
constexpr double kWidth = 760, kHeight = 480;
constexpr double kTop = 48, kBottom = 410;  // plot area, vertically
constexpr double kLegendWidth = 200;
constexpr double kLegendX = kWidth - kLegendWidth - 8;
constexpr double kPlotRight = kLegendX - 16;
constexpr double kTitleFont = 16, kLabelFont = 13, kTickFont = 11, kLegendFont = 12;
constexpr double kTickLength = 5;
constexpr double kRadius = 4.5;
constexpr double kLegendRow = 20;
// Average advance of a sans-serif character as a fraction of the font size. There is no font metrics here, so text
// widths are estimated with it, generously, to keep labels apart and inside the canvas.
constexpr double kCharWidth = 0.6;
constexpr const char* kFaintOpacity = "0.25";

// Distinguishable on white and for the common colour-vision deficiencies (Okabe-Ito, with its yellow, too pale on
// white, replaced by greys and brown); cycled when there are more series.
constexpr const char* kPalette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                    "#E69F00", "#56B4E9", "#555555", "#8C564B"};
constexpr size_t kPaletteSize = std::size(kPalette);

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // Control characters other than tab and newline are not allowed in XML 1.0 at all, even escaped; one in a
        // board name would make the whole file unreadable.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') {
          out += '?';
        } else {
          out += c;
        }
    }
  }
  return out;
}

// Characters, not bytes, of UTF-8 text: widths are estimated per character.
size_t char_count(std::string_view text) {
  return static_cast<size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

double text_width(std::string_view text, double font) {
  return static_cast<double>(char_count(text)) * font * kCharWidth;
}

// The first `keep` characters of UTF-8 text, never splitting a multi-byte character.
std::string utf8_prefix(std::string_view text, size_t keep) {
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && chars++ == keep) return std::string(text.substr(0, i));
  }
  return std::string(text);
}

// A font size at which `text` fits `room` px, at most `font`: long titles shrink instead of running off the canvas.
double fitting_font(std::string_view text, double font, double room) {
  const double width = text_width(text, font);
  return width <= room ? font : std::max(7.0, font * room / width);
}

std::string num(double v) { return fmt::format("{:.1f}", v); }

// Values in tooltips: enough digits to tell points apart, none of the binary noise of a full double.
std::string value_text(double v) { return fmt::format("{:.6g}", v); }

struct Tick {
  double value;
  std::string label;
};

// One axis: its shown range (in log10 units on a log axis) and the pixels it spans.
struct Axis {
  bool log = false;
  bool horizontal = true;
  double lo = 0, hi = 1;
  double px_lo = 0, px_hi = 1;

  double map(double v) const {
    const double t = log ? std::log10(v) : v;
    return px_lo + (t - lo) / (hi - lo) * (px_hi - px_lo);
  }
};

// The range [lo, hi] of the values (of their log10 on a log axis), widened by 5% on each side so that no point sits
// on the frame. Identical values get a made-up span, so the mapping never divides by zero.
std::pair<double, double> padded_range(double min, double max, bool log) {
  double lo = log ? std::log10(min) : min;
  double hi = log ? std::log10(max) : max;
  const double magnitude = std::max(std::abs(lo), std::abs(hi));
  // Relative test: 1e9 and 1e9 + 1e-3 are "identical" too, their ticks would need more digits than a double has.
  if (hi - lo <= 1e-9 * magnitude || hi == lo) {
    const double half = log ? 0.5 : (magnitude > 0 ? 0.05 * magnitude : 1.0);
    lo -= half;
    hi += half;
  }
  const double pad = 0.05 * (hi - lo);
  return {lo - pad, hi + pad};
}

// m x 10^e, computed so that negative powers are exact divisions (0.3, not 0.30000000000000004).
double scaled(double m, int e) { return e >= 0 ? m * std::pow(10.0, e) : m / std::pow(10.0, -e); }

std::string decimal_label(double value, int exponent) {
  const int decimals = std::max(0, -exponent);
  return fmt::format("{:.{}f}", value, decimals);
}

// Whether neighbouring tick labels leave a gap: on x their estimated widths, on y the line height.
bool labels_fit(const Axis& axis, const std::vector<Tick>& ticks) {
  for (size_t i = 1; i < ticks.size(); ++i) {
    const double gap = std::abs(axis.map(ticks[i].value) - axis.map(ticks[i - 1].value));
    const double need =
        axis.horizontal ? (text_width(ticks[i].label, kTickFont) + text_width(ticks[i - 1].label, kTickFont)) / 2 + 8
                        : kTickFont * 1.6;
    if (gap < need) return false;
  }
  return true;
}

// Multiples of step = m x 10^e within [lo, hi] (values, not log units).
std::vector<Tick> linear_candidate(double lo, double hi, double m, int e) {
  const double step = scaled(m, e);
  const auto first = static_cast<int64_t>(std::ceil(lo / step - 1e-9));
  const auto last = static_cast<int64_t>(std::floor(hi / step + 1e-9));
  std::vector<Tick> ticks;
  for (int64_t i = first; i <= last; ++i) {
    // The value from an integer multiple, so 0 is exactly 0 (never "-0.0").
    const double value = scaled(m * static_cast<double>(i), e);
    if (value < lo || value > hi) continue;  // guard the 1e-9 slack above
    ticks.push_back({value, decimal_label(value, e)});
  }
  return ticks;
}

// Evenly spaced 1/2/5 x 10^k ticks over values [lo, hi]: 4 to 8 of them, labels not touching, as close to 6 as
// possible; on a tie the finer step, since more reference lines help reading values off.
std::vector<Tick> linear_ticks(const Axis& axis, double lo, double hi) {
  const int top = static_cast<int>(std::floor(std::log10(hi - lo)));
  std::vector<Tick> best;
  int best_score = 0;
  for (int e = top - 2; e <= top + 1; ++e) {
    for (const double m : {1.0, 2.0, 5.0}) {
      auto ticks = linear_candidate(lo, hi, m, e);
      const int count = static_cast<int>(ticks.size());
      const int score = (labels_fit(axis, ticks) ? 0 : 100) + (count >= 4 && count <= 8 ? 0 : 10) + std::abs(count - 6);
      if (best.empty() || score < best_score) {
        best = std::move(ticks);
        best_score = score;
      }
    }
  }
  return best;
}

std::string power_label(double m, int k) {
  // Past a million (or below a thousandth) the digits of a plain decimal are harder to read than an exponent.
  if (k >= 6 || k <= -4) return fmt::format("{}e{}", static_cast<int>(m), k);
  return decimal_label(scaled(m, k), k);
}

// Ticks of a log axis (axis.lo/hi in log10 units): 1, 2 and 5 in every decade when they fit; else the powers of ten
// alone, every n-th decade when there are many; for a range within about a decade, evenly spaced nice values (still
// placed logarithmically), since a log axis with one tick cannot be read.
std::vector<Tick> log_ticks(const Axis& axis) {
  const int k_lo = static_cast<int>(std::floor(axis.lo));
  const int k_hi = static_cast<int>(std::ceil(axis.hi));
  const auto inside = [&](double value) {
    const double t = std::log10(value);
    return t >= axis.lo - 1e-12 && t <= axis.hi + 1e-12;
  };

  std::vector<Tick> all;
  for (int k = k_lo; k <= k_hi; ++k) {
    for (const double m : {1.0, 2.0, 5.0}) {
      const double value = scaled(m, k);
      if (inside(value)) all.push_back({value, power_label(m, k)});
    }
  }
  if (all.size() >= 3 && all.size() <= 10 && labels_fit(axis, all)) return all;

  for (int stride = 1; stride <= k_hi - k_lo + 1; ++stride) {
    std::vector<Tick> decades;
    for (int k = k_lo; k <= k_hi; ++k) {
      // k % stride == 0 keeps 1 (10^0) among the ticks whatever the stride, so decades line up across plots.
      if (((k % stride) + stride) % stride == 0 && inside(scaled(1, k)))
        decades.push_back({scaled(1, k), power_label(1, k)});
    }
    if (decades.size() < 2) break;
    if (decades.size() <= 8 && labels_fit(axis, decades)) return decades;
  }
  return linear_ticks(axis, std::pow(10.0, axis.lo), std::pow(10.0, axis.hi));
}

void check_points(const FrontPlot& plot) {
  bool any = false;
  for (const auto& s : plot.series) {
    for (size_t i = 0; i < s.points.size(); ++i) {
      const auto& p = s.points[i];
      const auto which = [&] { return fmt::format("series \"{}\", point {}", s.name, i); };
      if (!std::isfinite(p.x)) throw Error(kWhere, fmt::format("{}: x is not a finite number (got {})", which(), p.x));
      if (!std::isfinite(p.y)) throw Error(kWhere, fmt::format("{}: y is not a finite number (got {})", which(), p.y));
      if (plot.log_x && p.x <= 0) {
        throw Error(kWhere, fmt::format("{}: a log-scale x axis needs x > 0 (got {}, expected > 0)", which(), p.x));
      }
      any = true;
    }
  }
  if (!any) {
    throw Error(kWhere, fmt::format("nothing to plot (got {} series with no points, expected at least one point)",
                                    plot.series.size()));
  }
}

const char* colour(size_t series) { return kPalette[series % kPaletteSize]; }

std::string tooltip(const FrontPlot& plot, const PlotSeries& s, const PlotPoint& p) {
  return xml_escape(fmt::format("{}\n{}: {}\n{}: {}\n{}", s.name, plot.x_label.empty() ? "x" : plot.x_label,
                                value_text(p.x), plot.y_label.empty() ? "y" : plot.y_label, value_text(p.y),
                                p.dominated ? "dominated" : "on the front"));
}

// The legend's marker: a square with fully rounded corners, which looks like the plot's circles but keeps <circle>
// for data points only (one circle = one point, each with its tooltip).
void legend_marker(std::string& out, double cx, double cy, const char* fill, bool faint) {
  fmt::format_to(std::back_inserter(out),
                 "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{}\" fill=\"{}\"{}/>\n", num(cx - kRadius),
                 num(cy - kRadius), num(2 * kRadius), num(2 * kRadius), num(kRadius), fill,
                 faint ? fmt::format(" fill-opacity=\"{}\" stroke=\"{}\" stroke-opacity=\"0.5\"", kFaintOpacity, fill)
                       : std::string(" stroke=\"#ffffff\""));
}

}  // namespace

std::string front_svg(const FrontPlot& plot) {
  check_points(plot);

  double x_min = INFINITY, x_max = -INFINITY, y_min = INFINITY, y_max = -INFINITY;
  for (const auto& s : plot.series) {
    for (const auto& p : s.points) {
      x_min = std::min(x_min, p.x);
      x_max = std::max(x_max, p.x);
      y_min = std::min(y_min, p.y);
      y_max = std::max(y_max, p.y);
    }
  }

  // y first: its tick labels decide how wide the left margin must be, which sets where the x axis starts.
  Axis y_axis;
  y_axis.horizontal = false;
  std::tie(y_axis.lo, y_axis.hi) = padded_range(y_min, y_max, false);
  y_axis.px_lo = kBottom;
  y_axis.px_hi = kTop;
  const auto y_ticks = linear_ticks(y_axis, y_axis.lo, y_axis.hi);
  double widest_y_label = 0;
  for (const auto& t : y_ticks) widest_y_label = std::max(widest_y_label, text_width(t.label, kTickFont));
  // Room, from the canvas edge: the rotated y title, a gap, the tick labels, the tick marks.
  const double left = std::max(64.0, 8 + kLabelFont + 10 + widest_y_label + 4 + kTickLength);

  Axis x_axis;
  x_axis.log = plot.log_x;
  std::tie(x_axis.lo, x_axis.hi) = padded_range(x_min, x_max, plot.log_x);
  x_axis.px_lo = left;
  x_axis.px_hi = kPlotRight;
  const auto x_ticks = plot.log_x ? log_ticks(x_axis) : linear_ticks(x_axis, x_axis.lo, x_axis.hi);

  // The legend: one row per series, then two rows telling front from dominated. Many series make it taller than
  // the plot; the canvas then grows rather than cut rows off.
  const double legend_height = kLegendRow * static_cast<double>(plot.series.size() + 2) + 16;
  const double height = std::max(kHeight, kTop + legend_height + 8);

  std::string out;
  auto it = std::back_inserter(out);
  fmt::format_to(it,
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
                 "font-family=\"sans-serif\">\n",
                 num(kWidth), num(height));
  // An explicit white background: viewers with a dark theme or a transparent default would hide the black text.
  fmt::format_to(it, "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");

  const double font_title = fitting_font(plot.title, kTitleFont, kWidth - 20);
  fmt::format_to(it,
                 "<text class=\"title\" x=\"{}\" y=\"28\" font-size=\"{}\" font-weight=\"bold\" text-anchor=\"middle\" "
                 "fill=\"#222222\">{}</text>\n",
                 num(kWidth / 2), num(font_title), xml_escape(plot.title));

  // Grid and ticks, under everything else.
  fmt::format_to(it, "<g class=\"grid\" stroke=\"#e0e0e0\" stroke-width=\"1\">\n");
  for (const auto& t : x_ticks) {
    const double x = x_axis.map(t.value);
    fmt::format_to(it, "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>\n", num(x), num(kTop), num(kBottom));
  }
  for (const auto& t : y_ticks) {
    const double y = y_axis.map(t.value);
    fmt::format_to(it, "<line x1=\"{1}\" y1=\"{0}\" x2=\"{2}\" y2=\"{0}\"/>\n", num(y), num(left), num(kPlotRight));
  }
  fmt::format_to(it, "</g>\n");

  fmt::format_to(
      it, "<rect class=\"frame\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#444444\"/>\n",
      num(left), num(kTop), num(kPlotRight - left), num(kBottom - kTop));

  fmt::format_to(it, "<g class=\"ticks\" stroke=\"#444444\" stroke-width=\"1\">\n");
  for (const auto& t : x_ticks) {
    const double x = x_axis.map(t.value);
    fmt::format_to(it, "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\"/>\n", num(x), num(kBottom),
                   num(kBottom + kTickLength));
  }
  for (const auto& t : y_ticks) {
    const double y = y_axis.map(t.value);
    fmt::format_to(it, "<line x1=\"{1}\" y1=\"{0}\" x2=\"{2}\" y2=\"{0}\"/>\n", num(y), num(left - kTickLength),
                   num(left));
  }
  fmt::format_to(it, "</g>\n");

  fmt::format_to(it, "<g font-size=\"{}\" fill=\"#222222\">\n", num(kTickFont));
  for (const auto& t : x_ticks) {
    fmt::format_to(it, "<text class=\"xtick\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                   num(x_axis.map(t.value)), num(kBottom + kTickLength + 4 + kTickFont), xml_escape(t.label));
  }
  for (const auto& t : y_ticks) {
    // 0.35 em down centres digits on the grid line (dominant-baseline is not honoured by every renderer).
    fmt::format_to(it, "<text class=\"ytick\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n",
                   num(left - kTickLength - 3), num(y_axis.map(t.value) + 0.35 * kTickFont), xml_escape(t.label));
  }
  fmt::format_to(it, "</g>\n");

  const std::string x_title = plot.log_x ? plot.x_label + " (log scale)" : plot.x_label;
  const double x_title_x = (left + kPlotRight) / 2, y_title_y = (kTop + kBottom) / 2;
  fmt::format_to(
      it,
      "<text class=\"xlabel\" x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"middle\" fill=\"#222222\">{}</text>\n",
      num(x_title_x), num(kBottom + 44), num(fitting_font(x_title, kLabelFont, kPlotRight - left + 40)),
      xml_escape(x_title));
  fmt::format_to(it,
                 "<text class=\"ylabel\" x=\"{0}\" y=\"{1}\" font-size=\"{2}\" text-anchor=\"middle\" fill=\"#222222\" "
                 "transform=\"rotate(-90 {0} {1})\">{3}</text>\n",
                 num(8 + kLabelFont), num(y_title_y), num(fitting_font(plot.y_label, kLabelFont, kBottom - kTop + 40)),
                 xml_escape(plot.y_label));

  // Dominated points first, then the fronts' lines, then the front points: the front stays on top where they overlap.
  fmt::format_to(it, "<g class=\"dominated\">\n");
  for (size_t si = 0; si < plot.series.size(); ++si) {
    const auto& s = plot.series[si];
    for (const auto& p : s.points) {
      if (!p.dominated) continue;
      fmt::format_to(it,
                     "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\" fill-opacity=\"{}\" stroke=\"{}\" "
                     "stroke-opacity=\"0.5\"><title>{}</title></circle>\n",
                     num(x_axis.map(p.x)), num(y_axis.map(p.y)), num(kRadius), colour(si), kFaintOpacity, colour(si),
                     tooltip(plot, s, p));
    }
  }
  fmt::format_to(it, "</g>\n");

  // The staircase of "minimise x, maximise y": the best y reachable at an x budget stays flat until the next
  // front point's x, then jumps to its y. Hence horizontal first, then vertical.
  std::vector<std::vector<const PlotPoint*>> fronts(plot.series.size());
  for (size_t si = 0; si < plot.series.size(); ++si) {
    for (const auto& p : plot.series[si].points) {
      if (!p.dominated) fronts[si].push_back(&p);
    }
    std::stable_sort(fronts[si].begin(), fronts[si].end(),
                     [](const PlotPoint* a, const PlotPoint* b) { return a->x != b->x ? a->x < b->x : a->y < b->y; });
  }
  fmt::format_to(it, "<g class=\"fronts\" fill=\"none\" stroke-width=\"2\" stroke-linejoin=\"round\">\n");
  for (size_t si = 0; si < fronts.size(); ++si) {
    if (fronts[si].size() < 2) continue;
    std::string d = fmt::format("M{} {}", num(x_axis.map(fronts[si][0]->x)), num(y_axis.map(fronts[si][0]->y)));
    for (size_t i = 1; i < fronts[si].size(); ++i) {
      d += fmt::format(" H{} V{}", num(x_axis.map(fronts[si][i]->x)), num(y_axis.map(fronts[si][i]->y)));
    }
    fmt::format_to(it, "<path d=\"{}\" stroke=\"{}\"/>\n", d, colour(si));
  }
  fmt::format_to(it, "</g>\n");

  fmt::format_to(it, "<g class=\"front-points\">\n");
  for (size_t si = 0; si < plot.series.size(); ++si) {
    for (const PlotPoint* p : fronts[si]) {
      // A thin white ring keeps neighbouring front points of different boards apart.
      fmt::format_to(
          it, "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\" stroke=\"#ffffff\"><title>{}</title></circle>\n",
          num(x_axis.map(p->x)), num(y_axis.map(p->y)), num(kRadius), colour(si), tooltip(plot, plot.series[si], *p));
    }
  }
  fmt::format_to(it, "</g>\n");

  // Legend, in its own column right of the plot area.
  fmt::format_to(it, "<g class=\"legend\" transform=\"translate({} {})\" font-size=\"{}\" fill=\"#222222\">\n",
                 num(kLegendX), num(kTop), num(kLegendFont));
  fmt::format_to(it, "<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\" stroke=\"#bbbbbb\"/>\n",
                 num(kLegendWidth), num(legend_height));
  constexpr double kTextX = 34;
  // Names longer than the column are cut with an ellipsis; the row's tooltip keeps the whole name.
  const auto max_chars = static_cast<size_t>((kLegendWidth - kTextX - 6) / (kLegendFont * kCharWidth));
  double row = 16;
  for (size_t si = 0; si < plot.series.size(); ++si, row += kLegendRow) {
    const std::string& name = plot.series[si].name;
    const std::string shown = char_count(name) <= max_chars ? name : utf8_prefix(name, max_chars - 1) + "\u2026";
    fmt::format_to(it, "<g class=\"legend-entry\"><title>{}</title>\n", xml_escape(name));
    fmt::format_to(it, "<line x1=\"8\" y1=\"{0}\" x2=\"26\" y2=\"{0}\" stroke=\"{1}\" stroke-width=\"2\"/>\n", num(row),
                   colour(si));
    legend_marker(out, 17, row, colour(si), false);
    fmt::format_to(it, "<text x=\"{}\" y=\"{}\">{}</text>\n</g>\n", num(kTextX), num(row + 0.35 * kLegendFont),
                   xml_escape(shown));
  }
  // How to read the markers, in a neutral grey so it is not taken for another series.
  fmt::format_to(it, "<line x1=\"8\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"#dddddd\"/>\n",
                 num(row - kLegendRow / 2 + 2), num(kLegendWidth - 8));
  fmt::format_to(it, "<g class=\"legend-note\" fill=\"#555555\">\n");
  legend_marker(out, 17, row + 2, "#777777", false);
  fmt::format_to(it, "<text x=\"{}\" y=\"{}\">front (step line)</text>\n", num(kTextX),
                 num(row + 2 + 0.35 * kLegendFont));
  row += kLegendRow;
  legend_marker(out, 17, row + 2, "#777777", true);
  fmt::format_to(it, "<text x=\"{}\" y=\"{}\">faint: dominated</text>\n", num(kTextX),
                 num(row + 2 + 0.35 * kLegendFont));
  fmt::format_to(it, "</g>\n</g>\n</svg>\n");
  return out;
}

}  // namespace nas::results
