// An RGB image with captions in a 5 x 7 bitmap font, written as a PNG with libpng: what `fhenn plot` draws on.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fhenn::cli {

using Rgb = std::array<uint8_t, 3>;

inline constexpr int kGlyphScale = 2;                  // caption glyphs are 5 x 7 font pixels, drawn 2 x 2
inline constexpr int kGlyphAdvance = 6 * kGlyphScale;  // pixels from one glyph to the next
inline constexpr int kGlyphHeight = 7 * kGlyphScale;

// An RGB image, row-major, white when made.
struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;
  Image(int w, int h) : width(w), height(h), pixels(static_cast<size_t>(w) * h * 3, 255) {}
  void set(int x, int y, const Rgb& c) {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    std::copy(c.begin(), c.end(), pixels.begin() + (static_cast<std::ptrdiff_t>(y) * width + x) * 3);
  }
};

// Draws `text` with its top left corner at (x, y) in `colour`: digits, . % - ( ) and the capitals the captions use
// (others are skipped, leaving their space).
void draw_text(Image& image, int x, int y, const std::string& text, const Rgb& colour = {0, 0, 0});

// Throws fhenn::Error naming `path` when it cannot be written.
void write_png(const Image& image, const std::string& path);

}  // namespace fhenn::cli
