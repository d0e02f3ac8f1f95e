// `fhenn plot`: a PNG of a 2-feature model's decision regions over the unit square with the test points, or of any
// model's confusion matrices on its test set: the float model and its circuit (run in the clear) side by side.
#include <iostream>
#include <memory>

#include "command.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/common/parallel.hpp"
#include "fhenn/compiler/model_io.hpp"
#include "output.hpp"
#include "png_image.hpp"
#include "workflow.hpp"

namespace fhenn::cli {
namespace {

constexpr int kPanel = 400;  // pixels per side of one panel (the unit square)
constexpr int kMargin = 16;  // around and between panels
constexpr int kTitle = 22;   // the strip above each panel for its caption

// Light region colours and dark point colours per class (cycled beyond 6 classes).
const std::array<Rgb, 6> kRegion = {
    {{198, 219, 239}, {253, 208, 162}, {199, 233, 192}, {218, 218, 235}, {252, 187, 161}, {217, 217, 217}}};
const std::array<Rgb, 6> kPoint = {
    {{33, 102, 172}, {217, 95, 2}, {35, 139, 69}, {106, 81, 163}, {203, 24, 29}, {82, 82, 82}}};

// The centre of every panel pixel in the unit square, row by row from the top (y = 1) down.
Matrix pixel_centres() {
  Matrix points(static_cast<size_t>(kPanel) * kPanel, 2);
  for (int py = 0; py < kPanel; ++py) {
    for (int px = 0; px < kPanel; ++px) {
      const size_t i = static_cast<size_t>(py) * kPanel + px;
      points.at(i, 0) = (px + 0.5) / kPanel;
      points.at(i, 1) = 1.0 - (py + 0.5) / kPanel;
    }
  }
  return points;
}

// One panel at (left, top): regions, then the test points as 5-pixel diamonds with a dark outline.
void draw_panel(Image& image, int left, int top, const std::vector<int>& regions, const nn::LabelledSet& test,
                const std::string& caption) {
  draw_text(image, left, top, caption);
  const int y0 = top + kTitle;
  for (int py = 0; py < kPanel; ++py) {
    for (int px = 0; px < kPanel; ++px) {
      image.set(left + px, y0 + py, kRegion[regions[static_cast<size_t>(py) * kPanel + px] % kRegion.size()]);
    }
  }
  for (size_t i = 0; i < test.size(); ++i) {
    const int cx = left + static_cast<int>(test.features.at(i, 0) * kPanel);
    const int cy = y0 + static_cast<int>((1.0 - test.features.at(i, 1)) * kPanel);
    for (int dy = -3; dy <= 3; ++dy) {
      for (int dx = -3; dx <= 3; ++dx) {
        const int d = std::abs(dx) + std::abs(dy);
        if (d <= 2) image.set(cx + dx, cy + dy, kPoint[test.labels[i] % kPoint.size()]);
        if (d == 3) image.set(cx + dx, cy + dy, {40, 40, 40});
      }
    }
  }
  for (int k = -1; k <= kPanel; ++k) {  // frame
    for (const auto& [x, y] :
         {std::pair{left + k, y0 - 1}, {left + k, y0 + kPanel}, {left - 1, y0 + k}, {left + kPanel, y0 + k}}) {
      image.set(x, y, {0, 0, 0});
    }
  }
}

// A confusion matrix at (left, top): one cell per (true class, predicted class), shaded by the fraction of the
// true class's samples it holds, with its count; class indices along the top and the left side.
constexpr int kCell = 52;  // room for a 4-digit count
void draw_confusion(Image& image, int left, int top, const std::vector<int>& predicted, const nn::LabelledSet& test,
                    int classes, const std::string& caption) {
  std::vector<int64_t> counts(static_cast<size_t>(classes) * classes, 0), per_class(static_cast<size_t>(classes), 0);
  for (size_t i = 0; i < test.size(); ++i) {
    ++counts[static_cast<size_t>(test.labels[i] * classes + predicted[i])];
    ++per_class[static_cast<size_t>(test.labels[i])];
  }
  draw_text(image, left, top, caption);
  const int x0 = left + kGlyphAdvance * 2 + 4, y0 = top + kTitle + kGlyphHeight + 4;
  for (int k = 0; k < classes; ++k) {
    draw_text(image, x0 + k * kCell + kCell / 2 - kGlyphAdvance / 2, y0 - kGlyphHeight - 2, std::to_string(k));
    draw_text(image, left, y0 + k * kCell + (kCell - kGlyphHeight) / 2, std::to_string(k));
  }
  for (int t = 0; t < classes; ++t) {
    for (int p = 0; p < classes; ++p) {
      const int64_t count = counts[static_cast<size_t>(t * classes + p)];
      const double share =
          per_class[static_cast<size_t>(t)] > 0 ? static_cast<double>(count) / per_class[static_cast<size_t>(t)] : 0;
      const auto shade = [share](int white, int full) { return static_cast<uint8_t>(white + share * (full - white)); };
      const Rgb fill{shade(255, 8), shade(255, 48), shade(255, 107)};
      for (int y = 1; y < kCell; ++y) {
        for (int x = 1; x < kCell; ++x) image.set(x0 + p * kCell + x, y0 + t * kCell + y, fill);
      }
      const std::string text = std::to_string(count);
      draw_text(image, x0 + p * kCell + (kCell - kGlyphAdvance * static_cast<int>(text.size())) / 2,
                y0 + t * kCell + (kCell - kGlyphHeight) / 2, text, share > 0.5 ? Rgb{255, 255, 255} : Rgb{0, 0, 0});
    }
  }
}

struct PlotCommand {
  std::string model;
  std::string compiled;
  DataOptions data;
  BitsOptions bits;
  bool confusion = false;
  std::string out;
};

std::string caption(const std::string& what, const std::vector<int>& predicted, const nn::LabelledSet& set) {
  return what + " " + percent(accuracy_of(predicted, set.labels));
}

// The float model's panel (none for a QAT model) and the circuit's, side by side: decision regions over the unit
// square for a 2-feature model, confusion matrices on the test set with --confusion.
void run_plot(const PlotCommand& c) {
  const AnyModel model = compiler::load_model(c.model);
  FHENN_CHECK(c.confusion || input_size_of(model) == 2,
              "fhenn plot draws decision regions over the unit square: it needs a model with 2 input features, and ",
              c.model, " reads ", input_size_of(model), "; add --confusion for a confusion matrix of its test set");
  const auto data = c.data.load();
  check_model_fits_data(model, data, c.model);
  const auto compiled = c.compiled.empty() ? compile_model(model, data, c.bits) : compiler::load_compiled(c.compiled);
  if (!c.compiled.empty()) check_compiled_fits_data(compiled, data, c.compiled);

  const int threads = default_thread_count();
  const std::optional<std::vector<int>> float_test = float_classes(model, data.test.features);
  const std::vector<int> circuit_test = circuit_classes(compiled, data.test.features, threads);
  const int panels = float_test ? 2 : 1;
  const int classes = output_size_of(model);
  const int panel = c.confusion ? kGlyphAdvance * 2 + 4 + classes * kCell : kPanel;
  const int panel_height = c.confusion ? kGlyphHeight + 4 + classes * kCell : kPanel;
  Image image(kMargin + panels * (panel + kMargin), kMargin + kTitle + panel_height + kMargin);
  const std::string circuit_caption = caption(compiled.source == "qat" ? "QAT" : "PTQ", circuit_test, data.test) +
                                      " (ACC " + std::to_string(compiled.report.accumulator_bits) + " BITS)";
  const int circuit_left = kMargin + (panels - 1) * (panel + kMargin);
  if (c.confusion) {
    if (float_test)
      draw_confusion(image, kMargin, kMargin, *float_test, data.test, classes, caption("FP32", *float_test, data.test));
    draw_confusion(image, circuit_left, kMargin, circuit_test, data.test, classes, circuit_caption);
  } else {
    const Matrix grid = pixel_centres();
    if (float_test) {
      draw_panel(image, kMargin, kMargin, *float_classes(model, grid), data.test,
                 caption("FP32", *float_test, data.test));
    }
    draw_panel(image, circuit_left, kMargin, circuit_classes(compiled, grid, threads), data.test, circuit_caption);
  }
  write_png(image, c.out);
  std::cout << "wrote " << c.out << " (" << image.width << " x " << image.height
            << "): " << (panels == 2 ? "float model left, quantized model right" : "the QAT model's circuit") << "; "
            << (c.confusion ? "rows: true class, columns: predicted class, on the " + std::to_string(data.test.size()) +
                                  " test samples"
                            : std::string("regions by predicted class, test points by true class"))
            << "\n";
}

void setup_plot(CLI::App& root) {
  auto* cmd = root.add_subcommand("plot",
                                  "Draw a 2-feature model's decision regions over the unit square with the "
                                  "test points, or any model's confusion matrices (--confusion): float and quantized "
                                  "side by side, as a PNG");
  auto c = std::make_shared<PlotCommand>();
  cmd->add_option("--model", c->model, "The trained model (fhenn train)")->required();
  cmd->add_option("--compiled", c->compiled, "The compiled model (fhenn compile); default: compile it now");
  c->data.add_to(*cmd);
  c->bits.add_to(*cmd);
  cmd->add_flag("--confusion", c->confusion,
                "Draw the confusion matrices of the test set instead (any model: rows true class, columns predicted)");
  cmd->add_option("--out", c->out, "The PNG to write")->required();
  cmd->callback([c] { run_plot(*c); });
}

FHENN_REGISTER_COMMAND("13-plot", setup_plot);

}  // namespace
}  // namespace fhenn::cli
