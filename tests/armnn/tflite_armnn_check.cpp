// A stored run's int8 network in Arm NN against our kernels, for networks too large for a unit test (the MLPerf Tiny
// reference models, searched networks): bench/tflite_armnn/run.sh runs it. The run is lowered to int8 as nas export
// does (an imported .tflite as it was imported), written as .tflite, loaded by Arm NN (CpuRef), and compared on the
// run's first test images and, op by op, on random int8 inputs. Prints one line per network:
//   armnn run=<id> ops=<n> images=<n> differing=<bytes>/<bytes> max_difference=<lsb> same_class=<n>
//         worst_op_share=<fraction> worst_op_difference=<lsb> padded_depthwise=<n>
// padded_depthwise counts the depthwise layers Arm NN 20.08 computes differently from TFLite: those written as a PAD
// and a VALID DEPTHWISE_CONV_2D (our padding is not TensorFlow's "same") on an input whose zero point is not 0, which
// its PAD fills with 0 instead of the zero point (tests/deploy/tflite_armnn_test.cpp,
// ArmNNPadsAnInt8DepthwiseInputWithZeroNotTheZeroPoint). The worst op is taken over the others.
//   tflite_armnn_check DB RUN [IMAGES=100] [CALIBRATION_IMAGES=512]
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <string>

#include "common/error.h"
#include "results/imported_models.h"
#include "results/stored_network.h"
#include "runner/int8_deployment.h"
#include "tests/armnn/armnn_compare.h"

int main(int argc, char** argv) {
  if (argc < 3 || argc > 5) {
    std::fprintf(stderr, "usage: tflite_armnn_check DB RUN [IMAGES=100] [CALIBRATION_IMAGES=512]\n");
    return 2;
  }
  try {
    const nas::results::ResultsDb db(argv[1], nas::results::ResultsDb::Access::read_only);
    const int64_t run = std::atoll(argv[2]);
    const int32_t images = argc > 3 ? std::atoi(argv[3]) : 100;
    nas::deploy::CalibrationSpec calibration;
    if (argc > 4) calibration.images = std::atoi(argv[4]);
    const auto imported = nas::results::imported_model_of_run(db, run);
    const nas::runner::Int8Deployment d =
        imported ? nas::runner::imported_int8(nas::results::load_stored_data(db, run), *imported)
                 : nas::runner::prepare_int8(nas::results::load_stored_network(db, run), calibration);
    const auto ops = nas::armnn_check::each_op_agreement(d.model, 20);
    double worst_share = 0;
    int32_t worst_difference = 0, padded_depthwise = 0;
    for (size_t i = 0; i < ops.size(); ++i) {
      if (nas::armnn_check::armnn_pads_with_zero(d.model, i)) {
        ++padded_depthwise;
        continue;
      }
      worst_share = std::max(worst_share, ops[i].share());
      worst_difference = std::max(worst_difference, ops[i].max_difference);
    }
    const auto a = nas::armnn_check::network_agreement(d.model, d.stored.data.test, images);
    std::printf("armnn run=%lld ops=%zu images=%d differing=%lld/%lld max_difference=%d same_class=%d "
                "worst_op_share=%.4f worst_op_difference=%d padded_depthwise=%d\n",
                static_cast<long long>(run), d.model.ops.size(), a.images, static_cast<long long>(a.differing),
                static_cast<long long>(a.bytes), a.max_difference, a.same_class, worst_share, worst_difference,
                padded_depthwise);
    return 0;
  } catch (const nas::Error& e) {
    std::fprintf(stderr, "tflite_armnn_check: %s\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tflite_armnn_check: %s\n", e.what());
    return 1;
  }
}
