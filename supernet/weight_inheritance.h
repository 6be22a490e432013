// Starting a fixed network's fine-tuning from the supernet's weights: the chosen op's convolution weights for the
// kept input and output channels, its BatchNorm parameters and running statistics for the kept channels, and the
// head's linear weights for the kept input channels. Channels the supernet masked are zero in its activations, so
// dropping them changes nothing, with one exception handled here: a depthwise convolution turns a zero input
// channel into the constant ReLU(BN(0)), which the pointwise convolution after it adds to every output; that
// constant is folded into the pointwise BatchNorm's running mean, so inference of the fixed net equals the
// supernet's (argmax ops, inference mode) exactly up to rounding. In training mode BatchNorm removes the constant
// by itself.
#pragma once

#include "supernet/network.h"
#include "supernet/search_space.h"
#include "supernet/supernet.h"

namespace nas::supernet {

// `fixed` was built by build_network(fixed_model_yaml(arch), supernet.input_shape(), supernet.num_classes(), …).
// `arch` is supernet.fix(), or that with some blocks' channel counts changed (a budget repair removes channels, the
// fit step adds back masked ones) or other candidate ops: a block keeps its first `out` channels
// (SearchableBlock::strongest_channels), and only for arch == fix() is the function preserved exactly. Throws
// nas::Error naming the block when an op is not a candidate or a block asks for more channels than it has.
void inherit_weights(const SuperNet& supernet, const FixedArch& arch, Network& fixed);

// The other way, for a search that starts from a network of its own (nas search --seed-run): `supernet` has one
// block per block of `arch`, with `arch`'s operator as its only candidate and its channels as the largest width
// (seed_run_space), and takes `fixed`'s weights and BatchNorm statistics as they are, its head too. Throws nas::Error
// naming the layer when a size differs.
void seed_supernet(const Network& fixed, const FixedArch& arch, SuperNet& supernet);

}  // namespace nas::supernet
