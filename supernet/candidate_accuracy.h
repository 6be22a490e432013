// How well each operator of each block is trained inside the supernet: the accuracy on held-out images of paths
// that run that operator (at its widest) in that block and a sampled operator and width everywhere else. After the
// warm-up it shows whether every candidate was trained enough to be judged fairly (a candidate far behind the
// others was starved, not necessarily worse).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "supernet/dataset.h"
#include "supernet/rng.h"
#include "supernet/supernet.h"

namespace nas::supernet {

struct CandidateAccuracy {
  std::string block, op;
  double accuracy = 0;  // mean over the sampled paths, in [0, 1]
};

// The held-out accuracy of the supernet's selected path (its blocks' selections, in BlockMode::sampled) on the
// first `images` held-out images, BatchNorm in training mode over batches of `batch_size` (as the weights were
// trained). Weights and BatchNorm statistics are left as they were.
double path_accuracy(SuperNet& net, const Dataset& holdout, int32_t images, int32_t batch_size);

// The same pass, with the mean cross-entropy too (the fix step's operator upgrade compares losses: on a few
// thousand images they separate candidates that accuracy ties).
struct PathScore {
  double loss = 0;      // mean softmax cross-entropy
  double accuracy = 0;  // in [0, 1]
};
PathScore path_score(SuperNet& net, const Dataset& holdout, int32_t images, int32_t batch_size);

// `paths` sampled paths per candidate, each run in training mode (batch statistics of `batch_size` images, as the
// weights were trained) on the first `images` held-out images. Weights and BatchNorm statistics are left as they
// were; the blocks' selections are not.
std::vector<CandidateAccuracy> candidate_accuracies(SuperNet& net, const Dataset& holdout, int32_t paths,
                                                    int32_t images, int32_t batch_size, Rng& rng);

}  // namespace nas::supernet
