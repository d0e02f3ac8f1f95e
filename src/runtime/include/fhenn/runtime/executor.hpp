// Executors run an integer circuit: in the clear here (the reference's "Virtual Library"); simulated and
// encrypted executors implement the same interface.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fhenn/ir/circuit.hpp"
#include "fhenn/ir/ranges.hpp"

namespace fhenn::runtime {

// A batch of integer vectors, row-major: rows x cols.
struct IntMatrix {
  size_t rows = 0;
  size_t cols = 0;
  std::vector<int64_t> values;

  IntMatrix() = default;
  IntMatrix(size_t r, size_t c) : rows(r), cols(c), values(r * c, 0) {}
  std::span<const int64_t> row(size_t i) const { return {values.data() + i * cols, cols}; }
  std::span<int64_t> row(size_t i) { return {values.data() + i * cols, cols}; }
};

class Executor {
 public:
  virtual ~Executor() = default;
  // The output nodes' values (in order) for one sample's inputs (the input nodes' values, in order).
  virtual std::vector<int64_t> run(const ir::Circuit& circuit, std::span<const int64_t> inputs) = 0;
  // One row of outputs per row of inputs. The default runs the samples one by one.
  virtual IntMatrix run_batch(const ir::Circuit& circuit, const IntMatrix& inputs);
  virtual std::string name() const = 0;

 protected:
  // run() for executors whose natural unit is a batch (simulated, encrypted): one sample as a one-row batch.
  std::vector<int64_t> run_as_batch(const ir::Circuit& circuit, std::span<const int64_t> inputs);
};

// Throws fhenn::Error unless there are circuit.input_width() inputs, each in its input node's declared range
// (naming the input node, the element, the value and the range). `sample` is named in the message if >= 0.
void check_inputs(const ir::Circuit& circuit, std::span<const int64_t> inputs, long sample = -1);

// Runs the circuit on integers exactly (formulas (C1)-(C5) of docs/circuit.md), checking the inputs.
// Batches run on `threads` workers with one value buffer per worker (no allocation per sample).
class ClearExecutor final : public Executor {
 public:
  explicit ClearExecutor(int threads = 1) : threads_(threads) {}
  std::vector<int64_t> run(const ir::Circuit& circuit, std::span<const int64_t> inputs) override;
  IntMatrix run_batch(const ir::Circuit& circuit, const IntMatrix& inputs) override;
  // As run_batch, and records every node's values into `seen` (for bit widths, ir/bit_widths.hpp).
  IntMatrix run_batch_observed(const ir::Circuit& circuit, const IntMatrix& inputs, ir::SeenRanges& seen);
  std::string name() const override { return "clear"; }

 private:
  int threads_;
};

// ClearExecutor{}.run(circuit, inputs).
std::vector<int64_t> run_clear(const ir::Circuit& circuit, std::span<const int64_t> inputs);

}  // namespace fhenn::runtime
