// Tests of the checkerboard data set (Concrete ML documentation) and of the CSV loader's checks.
#include "fhenn/nn/dataset.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <string>

#include "fhenn/common/error.hpp"
#include "fhenn/nn/random.hpp"
#include "test_support.hpp"

namespace fhenn::nn {
namespace {

using fhenn::testing::expect_error_containing;

int64_t label_before_noise(double x, double y) {
  return (static_cast<int64_t>(std::nearbyint(3 * x)) % 2) ^ (static_cast<int64_t>(std::nearbyint(3 * y)) % 2);
}

// Distance from v to the nearest band edge of the board (rint(3v) changes at 1/6, 1/2, 5/6).
double distance_to_band_edge(double v) {
  return std::min({std::abs(v - 1.0 / 6), std::abs(v - 0.5), std::abs(v - 5.0 / 6)});
}

TEST(Checkerboard, HasTheReferenceSizesAndBalancedClasses) {
  const auto data = make_checkerboard(7);
  EXPECT_EQ(data.num_features, 2);
  EXPECT_EQ(data.num_classes, 2);
  EXPECT_EQ(data.train.size(), 9500u);
  EXPECT_EQ(data.test.size(), 500u);
  EXPECT_EQ(data.train.features.rows, 9500u);
  EXPECT_EQ(data.train.features.cols, 2u);
  int64_t ones = 0;
  for (auto l : data.train.labels) ones += l;
  for (auto l : data.test.labels) ones += l;
  EXPECT_EQ(ones, 5000);  // the 4 x 4 board with uneven bands is exactly balanced on the 100 x 100 grid
}

TEST(Checkerboard, LabelsFollowTheFormulaBeforeNoise) {
  // Noise (std 0.01) is added after labelling: a point more than 5 std from every band edge keeps the label of its
  // noisy position; points near an edge may have crossed it, but only a few percent of them.
  const auto data = make_checkerboard(3);
  size_t far_from_edges = 0, near_edges_disagreeing = 0;
  for (const auto* set : {&data.train, &data.test}) {
    for (size_t i = 0; i < set->size(); ++i) {
      const double x = set->features.at(i, 0), y = set->features.at(i, 1);
      const bool agrees = label_before_noise(x, y) == set->labels[i];
      if (std::min(distance_to_band_edge(x), distance_to_band_edge(y)) > 0.05) {
        ++far_from_edges;
        EXPECT_TRUE(agrees) << "point (" << x << ", " << y << ") has label " << set->labels[i];
      } else if (!agrees) {
        ++near_edges_disagreeing;
      }
    }
  }
  EXPECT_GT(far_from_edges, 4000u);
  EXPECT_GT(near_edges_disagreeing, 0u);    // labels were set before the noise
  EXPECT_LT(near_edges_disagreeing, 500u);  // about 0.4 grid columns cross each of the 6 edge lines
}

TEST(Checkerboard, PointsStayNearTheUnitSquare) {
  const auto data = make_checkerboard(11);
  for (double v : data.train.features.values) {
    EXPECT_GT(v, -0.06);
    EXPECT_LT(v, 1.06);
  }
}

TEST(SplitMix64, NormalDrawsHaveZeroMeanAndUnitVariance) {
  SplitMix64 rng(9);
  constexpr int n = 200000;
  double sum = 0, sum_sq = 0;
  for (int i = 0; i < n; ++i) {
    const double v = rng.normal();
    sum += v;
    sum_sq += v * v;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sum_sq / n, 1.0, 0.01);
}

TEST(Checkerboard, IsReproducibleForASeedAndDiffersForAnother) {
  const auto a = make_checkerboard(42);
  const auto b = make_checkerboard(42);
  const auto c = make_checkerboard(43);
  EXPECT_EQ(a.train.features.values, b.train.features.values);
  EXPECT_EQ(a.test.labels, b.test.labels);
  EXPECT_NE(a.train.features.values, c.train.features.values);
  EXPECT_NE(a.test.features.values, c.test.features.values);
}

TEST(SplitMix64, MatchesThePublishedSequence) {
  // The generator is defined in fhenn, not by the standard library: its outputs must match the reference ones.
  SplitMix64 rng(0);
  EXPECT_EQ(rng.next(), 0xE220A8397B1DCDAFULL);  // the published first outputs of SplitMix64 seeded with 0
  EXPECT_EQ(rng.next(), 0x6E789E6AA1B965F4ULL);
}

TEST(RandomPermutation, IsAPermutation) {
  SplitMix64 rng(5);
  const auto p = random_permutation(1000, rng);
  std::set<size_t> distinct(p.begin(), p.end());
  EXPECT_EQ(distinct.size(), 1000u);
  EXPECT_EQ(*distinct.rbegin(), 999u);
}

// ---- CSV ----------------------------------------------------------------------------------------------------

class CsvTest : public ::testing::Test {
 protected:
  std::filesystem::path write(const std::string& name, const std::string& text) {
    const auto dir = std::filesystem::temp_directory_path() / ("fhenn_csv_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto path = dir / name;
    std::ofstream(path) << text;
    return path;
  }
  // The message of the fhenn::Error that loading `text` throws ("" when it loads).
  std::string error_of(const std::string& text, const std::string& label_column = "") {
    const auto path = write("data.csv", text);
    try {
      load_csv(path, label_column, 0.25, 1);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
};

TEST_F(CsvTest, LoadsAHeaderedFileByLabelName) {
  const auto path = write("ok.csv", "a,label,b\n1,0,2\n3,1,4\n5,2,6\n7,0,8\n");
  const auto data = load_csv(path, "label", 0.25, 1);
  EXPECT_EQ(data.num_features, 2);
  EXPECT_EQ(data.num_classes, 3);
  EXPECT_EQ(data.train.size(), 3u);
  EXPECT_EQ(data.test.size(), 1u);
  // Row "a=3, b=4" has label 1 wherever it landed.
  for (const auto* set : {&data.train, &data.test}) {
    for (size_t i = 0; i < set->size(); ++i) {
      EXPECT_EQ(set->features.at(i, 1), set->features.at(i, 0) + 1);
      if (set->features.at(i, 0) == 3) {
        EXPECT_EQ(set->labels[i], 1);
      }
    }
  }
}

TEST_F(CsvTest, UsesTheLastColumnWithoutHeader) {
  const auto path = write("noheader.csv", "0.5,1.5,1\n-2e-1,3,0\n\n4,5,1\n6,7,0\n");
  const auto data = load_csv(path, "", 0.5, 1);
  EXPECT_EQ(data.num_features, 2);
  EXPECT_EQ(data.num_classes, 2);
  EXPECT_EQ(data.train.size() + data.test.size(), 4u);
}

TEST_F(CsvTest, RejectsAnEmptyFile) {
  EXPECT_NE(error_of("").find("is empty"), std::string::npos);
  EXPECT_NE(error_of("\n  \n").find("is empty"), std::string::npos);
  EXPECT_NE(error_of("x,label\n", "label").find("no data rows"), std::string::npos);
}

TEST_F(CsvTest, RejectsARaggedRowNamingTheLine) {
  const auto message = error_of("x,y,label\n1,2,0\n3,4\n5,6,1\n", "label");
  EXPECT_NE(message.find("data.csv:3"), std::string::npos) << message;
  EXPECT_NE(message.find("ragged"), std::string::npos) << message;
}

TEST_F(CsvTest, RejectsANonNumberNamingLineAndColumn) {
  const auto message = error_of("x,y,label\n1,2,0\n3,abc,1\n", "label");
  EXPECT_NE(message.find("data.csv:3"), std::string::npos) << message;
  EXPECT_NE(message.find("column 2 ('y')"), std::string::npos) << message;
  EXPECT_NE(message.find("'abc' is not a number"), std::string::npos) << message;
  EXPECT_NE(error_of("x,y,label\n1,,0\n3,4,1\n", "label").find("'' is not a number"), std::string::npos);
}

TEST_F(CsvTest, RejectsNanAndInfinity) {
  for (const std::string bad : {"nan", "NaN", "inf", "-inf", "1e999"}) {
    const auto message = error_of("x,label\n1,0\n" + bad + ",1\n", "label");
    EXPECT_NE(message.find("data.csv:3"), std::string::npos) << bad << ": " << message;
    EXPECT_NE(message.find("not a finite number"), std::string::npos) << bad << ": " << message;
  }
}

TEST_F(CsvTest, RejectsAMissingLabelColumn) {
  const auto message = error_of("x,y,class\n1,2,0\n3,4,1\n", "label");
  EXPECT_NE(message.find("no column named 'label'"), std::string::npos) << message;
  EXPECT_NE(message.find("x, y, class"), std::string::npos) << message;
  const auto headerless = error_of("1,2,0\n3,4,1\n", "label");
  EXPECT_NE(headerless.find("no header row"), std::string::npos) << headerless;
}

TEST_F(CsvTest, RejectsLabelsThatAreNotClassNumbers) {
  for (const std::string bad : {"0.5", "-1", "cat", "nan"}) {
    const auto message = error_of("x,label\n1,0\n2," + bad + "\n3,1\n", "label");
    EXPECT_NE(message.find("data.csv:3"), std::string::npos) << bad << ": " << message;
    EXPECT_NE(message.find("is not a class number"), std::string::npos) << bad << ": " << message;
  }
}

TEST_F(CsvTest, RejectsASingleClassAndTooFewRows) {
  EXPECT_NE(error_of("x,label\n1,0\n2,0\n", "label").find("at least two classes"), std::string::npos);
  EXPECT_NE(error_of("x,label\n1,1\n", "label").find("cannot be split"), std::string::npos);
  EXPECT_NE(error_of("label\n1\n0\n", "label").find("at least one feature"), std::string::npos);
}

TEST_F(CsvTest, RejectsAMissingFileAndABadTestFraction) {
  EXPECT_THROW(load_csv("/nonexistent/fhenn/data.csv", "", 0.2, 1), Error);
  const auto path = write("fraction.csv", "1,0\n2,1\n");
  EXPECT_THROW(load_csv(path, "", 0.0, 1), Error);
  EXPECT_THROW(load_csv(path, "", 1.0, 1), Error);
}

TEST(FashionMnist, ReadsDebiansPackageAsPixelsInTheUnitInterval) {
  const Dataset data = load_fashion_mnist(kFashionMnistDir, 300, 200);
  EXPECT_EQ(data.num_features, 784);
  EXPECT_EQ(data.num_classes, 10);
  ASSERT_EQ(data.train.size(), 300u);
  ASSERT_EQ(data.test.size(), 200u);
  EXPECT_EQ(data.train.features.cols, 784u);
  double lo = 1.0, hi = 0.0;
  for (double v : data.train.features.values) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_EQ(lo, 0.0);  // the background
  EXPECT_EQ(hi, 1.0);  // some pixel is white
  std::vector<int> per_class(10, 0);
  for (int64_t label : data.train.labels) ++per_class.at(static_cast<size_t>(label));
  for (int count : per_class) EXPECT_GT(count, 10);  // the first 300 images hold every class
  // The whole test split: 10,000 images.
  EXPECT_EQ(load_fashion_mnist(kFashionMnistDir, 1, 0).test.size(), 10000u);
  EXPECT_THROW(load_fashion_mnist("/nonexistent/fashion-mnist"), Error);
}

// Column sums over both splits, and how many samples carry each label.
std::vector<double> column_sums(const Dataset& data) {
  std::vector<double> sums(static_cast<size_t>(data.num_features), 0.0);
  for (const LabelledSet* set : {&data.train, &data.test}) {
    for (size_t r = 0; r < set->size(); ++r) {
      for (size_t c = 0; c < sums.size(); ++c) sums[c] += set->features.at(r, c);
    }
  }
  return sums;
}

std::vector<int> class_counts(const Dataset& data) {
  std::vector<int> counts(static_cast<size_t>(data.num_classes), 0);
  for (const LabelledSet* set : {&data.train, &data.test}) {
    for (int64_t label : set->labels) ++counts.at(static_cast<size_t>(label));
  }
  return counts;
}

TEST(SklearnData, IrisIsTheShippedTableSplitBySeed) {
  const Dataset data = load_iris(0.2, 3);
  EXPECT_EQ(data.num_features, 4);
  EXPECT_EQ(data.num_classes, 3);
  EXPECT_EQ(data.test.size(), 30u);
  EXPECT_EQ(data.train.size(), 120u);
  const std::vector<double> sums = column_sums(data);  // known sums of scikit-learn's iris.csv (cm)
  const double expected[] = {876.5, 458.6, 563.7, 179.9};
  for (size_t c = 0; c < 4; ++c) EXPECT_NEAR(sums[c], expected[c], 1e-9) << c;
  EXPECT_EQ(class_counts(data), (std::vector<int>{50, 50, 50}));
  EXPECT_EQ(load_iris(0.2, 3).test.features.values, data.test.features.values);  // seeded
  EXPECT_NE(load_iris(0.2, 4).test.features.values, data.test.features.values);
  expect_error_containing([] { load_iris(0.2, 3, "/nonexistent/sklearn"); }, "/nonexistent/sklearn/iris.csv");
}

TEST(SklearnData, DigitsArePixelsInTheUnitIntervalWithKnownSums) {
  const Dataset data = load_digits(0.2, 3);
  EXPECT_EQ(data.num_features, 64);
  EXPECT_EQ(data.num_classes, 10);
  EXPECT_EQ(data.train.size() + data.test.size(), 1797u);
  double total = 0.0;
  for (double s : column_sums(data)) total += s;
  EXPECT_NEAR(total * 16.0, 561718.0, 1e-6);  // the pixel sum of digits.csv.gz
  EXPECT_EQ(class_counts(data), (std::vector<int>{178, 182, 177, 183, 181, 182, 181, 179, 174, 180}));
  // The file's first image (a 0 whose pixels sum to 294) is in one of the splits, scaled by 1/16.
  bool found = false;
  for (const LabelledSet* set : {&data.train, &data.test}) {
    for (size_t r = 0; r < set->size(); ++r) {
      const auto row = set->features.row(r);
      const double sum = std::accumulate(row.begin(), row.end(), 0.0) * 16.0;
      found = found ||
              (set->labels[r] == 0 && std::abs(sum - 294.0) < 1e-9 && row[2] * 16.0 == 5.0 && row[3] * 16.0 == 13.0);
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(CsvTest, ReadsGzippedFilesAndRefusesCorruptedOnes) {
  const std::string text = "x,y,label\n1,2,0\n3,4,1\n5,6,1\n";
  const auto plain = write("plain.csv", text);
  const Dataset from_plain = load_csv(plain, "label", 0.34, 1);
  const auto gz = plain.parent_path() / "data.csv.gz";
  ASSERT_EQ(std::system(("gzip -c " + plain.string() + " > " + gz.string()).c_str()), 0);
  const Dataset from_gz = load_csv(gz, "label", 0.34, 1);
  EXPECT_EQ(from_gz.train.features.values, from_plain.train.features.values);
  EXPECT_EQ(from_gz.test.labels, from_plain.test.labels);
  const auto bad = write("bad.csv.gz", text);  // not gzip
  expect_error_containing([&] { load_csv(bad, "label", 0.34, 1); }, "bad.csv.gz");
}

}  // namespace
}  // namespace fhenn::nn
