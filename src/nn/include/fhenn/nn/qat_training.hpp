// Quantization-aware (and rounding-aware) training of a QatNet with pruning: what `fhenn train --qat` and
// `fhenn experiment qat` run.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "fhenn/nn/dataset.hpp"
#include "fhenn/nn/pruning.hpp"
#include "fhenn/nn/qat_network.hpp"
#include "fhenn/nn/training.hpp"

namespace fhenn::nn {

struct QatTrainOptions {
  QatNetOptions net;
  TrainOptions train;
  int max_non_zero = 0;  // pruning: non-zero weights kept per neuron (0: no pruning)
  PruneMode prune_mode = PruneMode::layer;
  size_t calibration_samples = 300;  // rows used to initialise the data-driven scales (Brevitas: 300 steps)
};

struct QatTrainResult {
  QatNet net;
  TrainResult training;
  double train_accuracy = 0.0;      // exact forward pass (no noise) on the training set
  double test_accuracy = 0.0;       // the same on the test set: what the compiled circuit must reproduce
  int max_non_zero_per_neuron = 0;  // over all layers, after pruning
};

// Builds a QatNet (seeded initial weights), calibrates its data-driven scales on the training set, computes the
// pruning masks from the initial weights (as the reference) and trains with them held, then makes the pruning
// permanent. options.net.input_size / num_classes are taken from the data. Throws fhenn::Error on bad options.
QatTrainResult train_qat(const Dataset& data, QatTrainOptions options);

// The network train_qat starts from: built, calibrated and pruned, untrained (e.g. to plan it for the engine and
// derive the lookup noise to train with). Throws fhenn::Error on bad options.
QatNet initial_qat_net(const Dataset& data, QatTrainOptions options);

// One row of `fhenn experiment qat`: the guide's network with a pruning level and an optional rounding.
struct QatExperimentRow {
  std::string label;
  QatTrainOptions options;
};

// The guide's experiment (100 hidden, 3 bits; pruned to 30 and to 20 non-zero weights per neuron; and with
// rounding to 5 and 4 bits), with our training settings. `epochs` <= 0 keeps the default.
std::vector<QatExperimentRow> qat_experiment_rows(uint64_t seed, int epochs);

// The fastest accurate configuration found that the encrypted runtime computes exactly: what the encrypted demo
// runs (seed 2). The guide's 100 x 2 hidden network with ternary (2-bit) weights, 2-bit activations (learned
// QuantReLU, 0..3) and the input quantizer unsigned on [0, 1] at 2 bits (the board's cells exactly), no pruning,
// no rounding, no weight decay (it kills neurons of a ternary layer). With two 2-bit inputs the circuit's ranges
// are exact (ir::exhaustive_element_ranges over the 16 possible inputs), and every neuron's accumulator then
// spans at most 4 bits: each lookup reads its whole accumulator, so encrypted predictions equal the clear
// circuit's (up to the failure probability), at the cost of one N = 2048 bootstrap per neuron.
QatTrainOptions demo_qat_config();

// The same network at 3-bit activations, pruned to 20 non-zero weights per neuron, with rounding to 4 bits fitted
// per neuron: its lookups read 3 bits of up to 7-bit accumulators (N = 1024), approximately near the rounding
// boundaries. Trained with the engine's lookup noise (QatNetOptions::lookup_noise), it is what `fhenn bench
// inference` times "with rounding" beside demo_qat_config.
QatTrainOptions demo_rounding_qat_config();

}  // namespace fhenn::nn
