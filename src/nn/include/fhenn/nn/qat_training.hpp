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

// The fastest accurate configuration found for "100 hidden pruned to 20, 3-bit activations, with rounding": what
// the encrypted demo runs. Ternary (2-bit) weights, so a lookup's squared weight norm is its non-zero count
// (<= 20); the input quantizer unsigned on [0, 1] at 2 bits (the guide's 3-bit integers on the board, half the
// declared range); rounding to 4 bits fitted per neuron; no weight decay (it kills neurons of a ternary layer).
// Every lookup then reads <= 4 bits (N = 2048 or 1024, one PBS level). Train it with the engine's lookup noise
// (QatNetOptions::lookup_noise, from the parameter set planned for the initial network) so that encrypted
// predictions agree with the clear circuit.
QatTrainOptions demo_qat_config();

}  // namespace fhenn::nn
