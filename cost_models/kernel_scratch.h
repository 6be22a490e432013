// Scratch buffer bytes of each int8 kernel path, the CMSIS-NN way: except for depthwise, conv_planar and 1×1 (our
// own layouts), the formulas follow what CMSIS-NN's `*_get_buffer_size` functions return for a core with the DSP
// extension (written here from their documented behaviour, not copied). They are the larger (DSP) sizes on purpose,
// so one lowered graph serves every target and never under-reserves the arena. The kernels' own
// `mcunas_*_scratch_bytes` (deploy/kernels) return the same sizes; they are written twice because these must also
// take the search's soft channel counts (Dual), and tests/deploy/scratch_bytes_test.cpp holds the two equal.
#pragma once

namespace nas::cost_models::scratch {

// The value of a byte count that may be a Dual (the choice between two layouts carries no gradient).
inline double value(double v) { return v; }
template <class S>
double value(const S& v) {
  return v.v;
}

// General k×k convolution: the im2col buffer holds two columns of Cin·kh·kw int16 values (CMSIS-NN
// arm_convolve_s8 processes two output pixels per pass against its int16-expanded patches).
template <class S>
S conv_bytes(const S& in_channels, int kernel) {
  return in_channels * static_cast<double>(2 * kernel * kernel * 2);
}

// The row pitch, in int16 values, of a plane of an in_w-wide input padded by `pad`: the padded width, a spare
// column, rounded down to even (mcunas_plane_pitch in deploy/kernels/plane_dsp.h).
inline int plane_pitch(int in_w, int pad) { return (in_w + 2 * pad + 2) & ~1; }

// One int16 plane of an in_h × in_w input padded by `pad`: its rows (deploy/kernels/plane_dsp.h).
inline double plane_bytes(int in_h, int in_w, int pad) { return 2.0 * (in_h + 2 * pad) * plane_pitch(in_w, pad); }

// A convolution with few input channels (conv_planar, ours): one plane per input channel, plus 4 bytes to align
// them, or the im2col columns if larger (its fallback for kernels too large for the planes).
template <class S>
S conv_planar_bytes(const S& in_channels, int in_h, int in_w, int kernel) {
  const S planes = in_channels * plane_bytes(in_h, in_w, kernel / 2) + 4.0;
  const S columns = conv_bytes(in_channels, kernel);
  return value(planes) >= value(columns) ? planes : columns;
}

// 1×1 convolution: the two pixels of a pass split once into int16 columns (Cin values each) for every output
// channel's loop (deploy/kernels/conv_dsp.h); an input of one pixel is read in place, as fully connected is.
template <class S>
S conv1x1_bytes(const S& in_channels, int in_h, int in_w) {
  return in_h * in_w == 1 ? S(0.0) : in_channels * 4.0;
}

// Depthwise k×k (ours, not CMSIS-NN's: deploy/kernels/depthwise_dsp.h works one channel at a time): that channel's
// input padded, as int16, rows of an even pitch with one spare column, plus 4 bytes to word-align it. It does not
// depend on the channel count, so the search sees no price on a depthwise layer's width here.
template <class S>
S depthwise_bytes(int in_h, int in_w, int pad) {
  return S(plane_bytes(in_h, in_w, pad) + 4.0);
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
