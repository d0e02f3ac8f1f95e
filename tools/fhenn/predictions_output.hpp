// Writing decrypted (or clear, or simulated) predictions as CSV or JSON: shared by `decrypt` and `predict`.
#pragma once

#include <string>

#include "fhenn/deploy/client.hpp"

namespace fhenn::cli {

// format "csv": a header "sample,class,score_0,..." and one row per sample; "json": {"predictions": [{"class",
// "scores"}...]} plus {"mode": mode} when mode is not empty. `out` is a path or "-" for stdout.
void write_predictions(const deploy::Predictions& predictions, const std::string& format, const std::string& out,
                       const std::string& mode = "");

}  // namespace fhenn::cli
