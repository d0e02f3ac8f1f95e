// Tests of the CSV reader: headers, features, and every malformed input named with file, line and column.
#include "fhenn/common/csv.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fhenn/common/error.hpp"

namespace fhenn {
namespace {

std::filesystem::path write_temp(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("fhenn_csv_test_" + name + ".csv");
  std::ofstream(path) << text;
  return path;
}

std::string error_of(const std::filesystem::path& path, std::optional<std::string> skip = std::nullopt) {
  try {
    const auto table = read_csv_table(path);
    csv_feature_matrix(table, skip ? std::optional(table.find_column(*skip)) : std::nullopt);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Csv, ReadsFeaturesWithAHeaderAndSkipsTheLabelColumn) {
  const auto table = read_csv_table(write_temp("ok", "x,label,y\n0.5,1,2\n-1e-3,0,+4\n"));
  const auto m = csv_feature_matrix(table, table.find_column("label"));
  ASSERT_EQ(m.rows, 2u);
  ASSERT_EQ(m.cols, 2u);
  EXPECT_DOUBLE_EQ(m.at(0, 0), 0.5);
  EXPECT_DOUBLE_EQ(m.at(0, 1), 2.0);
  EXPECT_DOUBLE_EQ(m.at(1, 0), -1e-3);
  EXPECT_DOUBLE_EQ(m.at(1, 1), 4.0);
}

TEST(Csv, MalformedInputsAreNamedPrecisely) {
  EXPECT_NE(error_of(write_temp("empty", "")).find("empty"), std::string::npos);
  EXPECT_NE(error_of(write_temp("header_only", "a,b\n")).find("no data rows"), std::string::npos);
  EXPECT_NE(error_of(write_temp("ragged", "1,2\n3\n")).find(":2: ragged row"), std::string::npos);
  EXPECT_NE(error_of(write_temp("text", "1,2\n3,abc\n")).find(":2: column 2: 'abc' is not a number"),
            std::string::npos);
  EXPECT_NE(error_of(write_temp("nan", "a,b\n1,nan\n")).find("not a finite number"), std::string::npos);
  EXPECT_NE(error_of(write_temp("inf", "a,b\n1,inf\n")).find("not a finite number"), std::string::npos);
  EXPECT_NE(error_of(write_temp("no_column", "a,b\n1,2\n"), "label").find("no column named 'label'"),
            std::string::npos);
  EXPECT_NE(error_of(std::filesystem::path("/nonexistent/x.csv")).find("cannot open"), std::string::npos);
}

TEST(Csv, ParsesTextInMemoryLikeAFile) {
  const auto table = parse_csv_text("a,b\r\n\n1,2\n3,4", "memory.csv");
  EXPECT_EQ(table.header, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(table.rows.size(), 2u);
  EXPECT_EQ(table.rows[1].number, 4u);
  EXPECT_EQ(table.path, "memory.csv");
}

TEST(Csv, OverlongLinesAreRefusedNamingTheLine) {
  const std::string text = "1,2\n" + std::string(kMaxCsvLineBytes + 1, '7') + "\n";
  try {
    parse_csv_text(text, "long.csv");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("long.csv:2: the line is"), std::string::npos) << e.what();
  }
}

TEST(Csv, RaggedRowsAreRefusedBeforeTheMatrixIsAllocated) {
  // A first row of 2^17 fields and 2^17 rows of one: rows x width would be 2^34 doubles (128 GiB).
  std::string text;
  for (int k = 0; k < (1 << 17); ++k) text += k == 0 ? "1" : ",1";
  text += "\n";
  for (int k = 0; k < (1 << 17); ++k) text += "1\n";
  const auto table = parse_csv_text(text, "ragged.csv");
  try {
    csv_feature_matrix(table, std::nullopt);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("ragged.csv:2: ragged row"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace fhenn
