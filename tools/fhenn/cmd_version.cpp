// `fhenn version`: version, build type, whether LibTorch is in, CPU features used.
#include <iostream>

#include "command.hpp"
#include "fhenn/common/parallel.hpp"
#include "fhenn/common/version.hpp"
#include "output.hpp"

namespace fhenn::cli {
namespace {

void setup_version(CLI::App& root) {
  auto* cmd = root.add_subcommand("version", "Print the version, build type, LibTorch support and CPU features");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print as JSON");
  cmd->callback([json] {
    const auto features = cpu_features_used();
    if (*json) {
      write_json({{"version", version_string()},
                  {"build_type", build_type()},
                  {"libtorch", built_with_torch()},
                  {"cpu_features", features},
                  {"threads", default_thread_count()}},
                 "-");
      return;
    }
    std::cout << "fhenn " << version_string() << "\n"
              << "build type:   " << build_type() << "\n"
              << "LibTorch:     " << (built_with_torch() ? "yes" : "no (built with FHENN_WITH_TORCH=OFF)") << "\n"
              << "CPU features: ";
    for (size_t i = 0; i < features.size(); ++i) std::cout << (i ? ", " : "") << features[i];
    std::cout << (features.empty() ? "none (portable kernels)" : "") << "\n"
              << "threads:      " << default_thread_count() << "\n";
  });
}

FHENN_REGISTER_COMMAND("00-version", setup_version);

}  // namespace
}  // namespace fhenn::cli
