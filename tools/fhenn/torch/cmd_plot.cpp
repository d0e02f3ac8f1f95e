// `fhenn plot`: a PNG of a 2-feature model's decision regions over the unit square with the test points,
// the float model and the quantized model (its circuit run in the clear) side by side, written with libpng.
#include <png.h>

#include <array>
#include <cstdio>
#include <iostream>
#include <memory>

#include "command.hpp"
#include "fhenn/common/error.hpp"
#include "fhenn/common/parallel.hpp"
#include "fhenn/compiler/model_io.hpp"
#include "fhenn/nn/mlp.hpp"
#include "fhenn/runtime/executor.hpp"
#include "output.hpp"
#include "workflow.hpp"

namespace fhenn::cli {
namespace {

using Rgb = std::array<uint8_t, 3>;

constexpr int kPanel = 400;     // pixels per side of one panel (the unit square)
constexpr int kMargin = 16;     // around and between panels
constexpr int kTitle = 22;      // the strip above each panel for its caption
constexpr int kGlyphScale = 2;  // caption glyphs are 5 x 7 font pixels, drawn 2 x 2

// An RGB image, row-major.
struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;
  Image(int w, int h) : width(w), height(h), pixels(static_cast<size_t>(w) * h * 3, 255) {}
  void set(int x, int y, const Rgb& c) {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    std::copy(c.begin(), c.end(), pixels.begin() + (static_cast<ptrdiff_t>(y) * width + x) * 3);
  }
};

// Light region colours and dark point colours per class (cycled beyond 6 classes).
const std::array<Rgb, 6> kRegion = {
    {{198, 219, 239}, {253, 208, 162}, {199, 233, 192}, {218, 218, 235}, {252, 187, 161}, {217, 217, 217}}};
const std::array<Rgb, 6> kPoint = {
    {{33, 102, 172}, {217, 95, 2}, {35, 139, 69}, {106, 81, 163}, {203, 24, 29}, {82, 82, 82}}};

// A 5 x 7 bitmap font for the captions: each glyph is 7 rows of 5 columns ('#' = ink).
const std::vector<std::pair<char, std::array<const char*, 7>>> kFont = {
    {'0', {" ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### "}},
    {'1', {"  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "}},
    {'2', {" ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####"}},
    {'3', {"#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### "}},
    {'4', {"   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # "}},
    {'5', {"#####", "#    ", "#### ", "    #", "    #", "#   #", " ### "}},
    {'6', {"  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### "}},
    {'7', {"#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   "}},
    {'8', {" ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### "}},
    {'9', {" ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  "}},
    {'.', {"     ", "     ", "     ", "     ", "     ", " ##  ", " ##  "}},
    {'%', {"##   ", "##  #", "   # ", "  #  ", " #   ", "#  ##", "   ##"}},
    {'-', {"     ", "     ", "     ", "#####", "     ", "     ", "     "}},
    {'(', {"   # ", "  #  ", " #   ", " #   ", " #   ", "  #  ", "   # "}},
    {')', {" #   ", "  #  ", "   # ", "   # ", "   # ", "  #  ", " #   "}},
    {'A', {" ### ", "#   #", "#   #", "#####", "#   #", "#   #", "#   #"}},
    {'B', {"#### ", "#   #", "#   #", "#### ", "#   #", "#   #", "#### "}},
    {'C', {" ### ", "#   #", "#    ", "#    ", "#    ", "#   #", " ### "}},
    {'D', {"#### ", "#   #", "#   #", "#   #", "#   #", "#   #", "#### "}},
    {'E', {"#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#####"}},
    {'F', {"#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#    "}},
    {'I', {" ### ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "}},
    {'L', {"#    ", "#    ", "#    ", "#    ", "#    ", "#    ", "#####"}},
    {'N', {"#   #", "##  #", "# # #", "#  ##", "#   #", "#   #", "#   #"}},
    {'O', {" ### ", "#   #", "#   #", "#   #", "#   #", "#   #", " ### "}},
    {'P', {"#### ", "#   #", "#   #", "#### ", "#    ", "#    ", "#    "}},
    {'Q', {" ### ", "#   #", "#   #", "#   #", "# # #", "#  # ", " ## #"}},
    {'R', {"#### ", "#   #", "#   #", "#### ", "# #  ", "#  # ", "#   #"}},
    {'S', {" ####", "#    ", "#    ", " ### ", "    #", "    #", "#### "}},
    {'T', {"#####", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  "}},
    {'U', {"#   #", "#   #", "#   #", "#   #", "#   #", "#   #", " ### "}},
    {'Z', {"#####", "    #", "   # ", "  #  ", " #   ", "#    ", "#####"}},
};

void draw_text(Image& image, int x, int y, const std::string& text) {
  for (const char ch : text) {
    const auto glyph = std::ranges::find(kFont, ch, &std::pair<char, std::array<const char*, 7>>::first);
    if (glyph != kFont.end()) {
      for (int row = 0; row < 7; ++row) {
        for (int col = 0; col < 5; ++col) {
          if (glyph->second[row][col] != '#') continue;
          for (int d = 0; d < kGlyphScale * kGlyphScale; ++d) {
            image.set(x + col * kGlyphScale + d % kGlyphScale, y + row * kGlyphScale + d / kGlyphScale, {0, 0, 0});
          }
        }
      }
    }
    x += 6 * kGlyphScale;
  }
}

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

std::vector<int64_t> float_predictions(const compiler::FloatMlp& model, const Matrix& points) {
  torch::NoGradGuard no_grad;
  auto torch_model = nn::import_float_mlp(model);
  const auto predicted = torch_model->forward(nn::to_tensor(points)).argmax(1).contiguous();
  return {predicted.data_ptr<int64_t>(), predicted.data_ptr<int64_t>() + predicted.numel()};
}

// The circuit in the clear (equal, bit for bit, to the fake-quantized model).
std::vector<int64_t> quantized_predictions(const compiler::CompiledModel& compiled, const Matrix& points) {
  runtime::IntMatrix inputs(points.rows, points.cols);
  inputs.values = compiled.client.quantize_rows(points);
  const auto outputs = runtime::ClearExecutor(default_thread_count()).run_batch(compiled.circuit, inputs);
  std::vector<int64_t> predicted(points.rows);
  for (size_t i = 0; i < points.rows; ++i) {
    predicted[i] = compiler::predicted_class(compiled.client.dequantize(outputs.row(i)));
  }
  return predicted;
}

int64_t accuracy_hits(const std::vector<int64_t>& predicted, const nn::LabelledSet& set) {
  int64_t hits = 0;
  for (size_t i = 0; i < set.size(); ++i) hits += predicted[i] == set.labels[i] ? 1 : 0;
  return hits;
}

// One panel at (left, top): regions, then the test points as 5-pixel diamonds with a dark outline.
void draw_panel(Image& image, int left, int top, const std::vector<int64_t>& regions, const nn::LabelledSet& test,
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

// The libpng calls alone: libpng reports errors by longjmp back into this frame, which holds no C++ objects.
bool encode_png(FILE* file, png_uint_32 width, png_uint_32 height, png_bytep* rows) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (png == nullptr) return false;
  png_infop info = png_create_info_struct(png);
  if (info == nullptr || setjmp(png_jmpbuf(png)) != 0) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_init_io(png, file);
  png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

void write_png(const Image& image, const std::string& path) {
  std::vector<png_bytep> rows(static_cast<size_t>(image.height));
  for (int y = 0; y < image.height; ++y) {
    rows[static_cast<size_t>(y)] =
        const_cast<png_bytep>(image.pixels.data() + static_cast<size_t>(y) * image.width * 3);
  }
  FILE* file = std::fopen(path.c_str(), "wb");
  FHENN_CHECK(file != nullptr, "cannot write the image '", path, "': check the directory and permissions");
  const bool encoded =
      encode_png(file, static_cast<png_uint_32>(image.width), static_cast<png_uint_32>(image.height), rows.data());
  const bool closed = std::fclose(file) == 0;
  FHENN_CHECK(encoded && closed, "writing the PNG '", path, "' failed (disk full or an unwritable file?)");
}

struct PlotCommand {
  std::string model;
  std::string compiled;
  DataOptions data;
  BitsOptions bits;
  std::string out;
};

std::string caption(const std::string& what, int64_t hits, size_t total) {
  return what + " " + percent(static_cast<double>(hits) / static_cast<double>(total));
}

void run_plot(const PlotCommand& c) {
  const AnyModel model = compiler::load_model(c.model);
  FHENN_CHECK(input_size_of(model) == 2, "fhenn plot draws decision regions over the unit square: it needs a model ",
              "with 2 input features, and ", c.model, " reads ", input_size_of(model));
  const auto data = c.data.load();
  check_model_fits_data(model, data, c.model);
  const auto compiled = c.compiled.empty() ? compile_model(model, data, c.bits) : compiler::load_compiled(c.compiled);
  if (!c.compiled.empty()) check_compiled_fits_data(compiled, data, c.compiled);

  const Matrix grid = pixel_centres();
  const auto* float_model = std::get_if<compiler::FloatMlp>(&model);
  const int panels = float_model != nullptr ? 2 : 1;
  Image image(kMargin + panels * (kPanel + kMargin), kMargin + kTitle + kPanel + kMargin);
  int left = kMargin;
  if (float_model != nullptr) {
    const auto hits = accuracy_hits(float_predictions(*float_model, data.test.features), data.test);
    draw_panel(image, left, kMargin, float_predictions(*float_model, grid), data.test,
               caption("FP32", hits, data.test.size()));
    left += kPanel + kMargin;
  }
  const auto hits = accuracy_hits(quantized_predictions(compiled, data.test.features), data.test);
  const std::string label = compiled.source == "qat" ? "QAT" : "PTQ";
  draw_panel(
      image, left, kMargin, quantized_predictions(compiled, grid), data.test,
      caption(label, hits, data.test.size()) + " (ACC " + std::to_string(compiled.report.accumulator_bits) + " BITS)");
  write_png(image, c.out);
  std::cout << "wrote " << c.out << " (" << image.width << " x " << image.height
            << "): " << (panels == 2 ? "float model left, quantized model right" : "the QAT model's circuit")
            << "; regions by predicted class, test points by true class\n";
}

void setup_plot(CLI::App& root) {
  auto* cmd = root.add_subcommand("plot",
                                  "Draw a 2-feature model's decision regions over the unit square with the "
                                  "test points (float and quantized side by side) as a PNG");
  auto c = std::make_shared<PlotCommand>();
  cmd->add_option("--model", c->model, "The trained model (fhenn train)")->required();
  cmd->add_option("--compiled", c->compiled, "The compiled model (fhenn compile); default: compile it now");
  c->data.add_to(*cmd);
  c->bits.add_to(*cmd);
  cmd->add_option("--out", c->out, "The PNG to write")->required();
  cmd->callback([c] { run_plot(*c); });
}

FHENN_REGISTER_COMMAND("13-plot", setup_plot);

}  // namespace
}  // namespace fhenn::cli
