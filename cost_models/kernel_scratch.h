// Scratch buffer bytes of each int8 kernel path, the CMSIS-NN way: except for depthwise (our own kernel), the formulas
// follow what CMSIS-NN's `*_get_buffer_size` functions return for a core with the DSP extension (written here from
// their documented behaviour, not copied). They are the larger (DSP) sizes on purpose, so one lowered graph serves every target
// and never under-reserves the arena. The kernels' own `mcunas_*_scratch_bytes` (deploy/kernels) return the same
// sizes; they are written twice because these must also take the search's soft channel counts (Dual), and
// tests/deploy/scratch_bytes_test.cpp holds the two equal.
#pragma once

namespace nas::cost_models::scratch {

// General k×k convolution: the im2col buffer holds two columns of Cin·kh·kw int16 values (CMSIS-NN
// arm_convolve_s8 processes two output pixels per pass against its int16-expanded patches).
template <class S>
S conv_bytes(const S& in_channels, int kernel) {
  return in_channels * static_cast<double>(2 * kernel * kernel * 2);
}

// 1×1 convolution (arm_convolve_1x1_s8_fast): multiplies the input in place, no buffer.
template <class S>
S conv1x1_bytes(const S&) {
  return S(0.0);
}

// Depthwise k×k (ours, not CMSIS-NN's: deploy/kernels/depthwise_dsp.h works one channel at a time): that channel's
// input padded, as int16, rows of an even pitch with one spare column, plus 4 bytes to word-align it. It does not
// depend on the channel count, so the search sees no price on a depthwise layer's width here.
template <class S>
S depthwise_bytes(int in_h, int in_w, int pad) {
  const int pitch = (in_w + 2 * pad + 2) & ~1;
  return S(static_cast<double>(2 * (in_h + 2 * pad) * pitch + 4));
}

// Average pooling, global included (arm_avgpool_s8): one int32 accumulator per channel.
template <class S>
S avg_pool_bytes(const S& channels) {
  return channels * 4.0;
}

// Fully connected, max pooling and add need no scratch.
template <class S>
S none() {
  return S(0.0);
}

}  // namespace nas::cost_models::scratch
