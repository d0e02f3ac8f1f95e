// Writing predictions as CSV or JSON (see predictions_output.hpp).
#include "predictions_output.hpp"

#include <fstream>
#include <iostream>

#include "fhenn/common/error.hpp"
#include "output.hpp"

namespace fhenn::cli {

void write_predictions(const deploy::Predictions& p, const std::string& format, const std::string& out,
                       const std::string& mode) {
  if (format == "json") {
    nlohmann::json rows = nlohmann::json::array();
    for (size_t s = 0; s < p.classes.size(); ++s) {
      const auto scores = p.scores.row(s);
      rows.push_back({{"class", p.classes[s]}, {"scores", std::vector<double>(scores.begin(), scores.end())}});
    }
    nlohmann::json document{{"predictions", rows}};
    if (!mode.empty()) document["mode"] = mode;
    write_json(document, out);
    return;
  }
  std::ofstream file;
  if (out != "-") {
    file.open(out);
    FHENN_CHECK(file.good(), "cannot write '", out, "': check the directory and permissions");
  }
  std::ostream& stream = out == "-" ? std::cout : file;
  stream << "sample,class";
  for (size_t c = 0; c < p.scores.cols; ++c) stream << ",score_" << c;
  stream << "\n";
  for (size_t s = 0; s < p.classes.size(); ++s) {
    stream << s << "," << p.classes[s];
    for (double v : p.scores.row(s)) stream << "," << v;
    stream << "\n";
  }
}

}  // namespace fhenn::cli
