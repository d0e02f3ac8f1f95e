// libFuzzer target: the CSV reader (parse_csv_text, what read_csv_table runs on a file's text) and the feature
// matrix, with and without a dropped column (`fhenn encrypt --drop-column`).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fhenn/common/csv.hpp"
#include "fhenn/common/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const fhenn::CsvTable table = fhenn::parse_csv_text(text, "fuzz.csv");
    try {
      fhenn::csv_feature_matrix(table, std::nullopt);
    } catch (const fhenn::Error&) {
    }
    if (!table.header.empty()) fhenn::csv_feature_matrix(table, table.find_column(table.header.back()));
  } catch (const fhenn::Error&) {
  }
  return 0;
}
