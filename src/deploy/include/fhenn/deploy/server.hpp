// The server of an encrypted model: runs the circuit on a client's ciphertexts with evaluation keys only.
#pragma once

#include "fhenn/common/progress.hpp"
#include "fhenn/deploy/artifacts.hpp"

namespace fhenn::deploy {

class Server {
 public:
  explicit Server(ServerPart part);

  // Checks that inputs and keys belong to this model and to each other, then evaluates. Throws fhenn::Error
  // naming the mismatch (another model, another key, a wrong width).
  EncryptedBatch run(const EncryptedBatch& inputs, const EvaluationKeys& keys, int threads,
                     bool show_progress) const;

  const ServerPart& part() const { return part_; }

 private:
  ServerPart part_;
};

}  // namespace fhenn::deploy
