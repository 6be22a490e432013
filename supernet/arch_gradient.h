// Estimators of the task loss's gradient with respect to a supernet's architecture parameters θ_a (every block's
// operator and width logits), on one batch. Each WRITES arch().grads() (zeroed first) and leaves the supernet in
// BlockMode::sampled. The BatchNorm layers run in training mode and update their running statistics: callers that
// must not change the weights' state save and restore weights().state() around the call.
//
// What they estimate: the gradient of the expected loss over the architecture distribution,
//     ∇_θ E_{a ~ P_θ}[L(a)],  P_θ(a) = Π_b softmax(θ_b/τ)[op_b] · softmax(φ_b/τ)[width_b],
// the quantity tests/supernet/arch_gradient_test.cpp computes exactly on a small supernet and holds them to.
// GDAS's straight-through gradient (the sampled path's backward, searchable_block.h) is not one of them: behind
// BatchNorm it is blind to accuracy (that test measures it at 3e-6 of the true gradient).
#pragma once

#include <cstdint>
#include <span>

#include "supernet/rng.h"
#include "supernet/supernet.h"
#include "supernet/tensor.h"

namespace nas::supernet {

// REINFORCE with a leave-one-out baseline (Kool, van Hoof and Welling, "Buy 4 REINFORCE samples, get a baseline for
// free!", ICLR 2019 workshop): `samples` ≥ 2 architectures a_k drawn from P_θ (Gumbel-max, temperature τ), each
// run forward on the batch as the weights were trained (one path), and
//     ĝ = 1/K Σ_k (L(a_k) − mean_{j≠k} L(a_j)) ∇_θ log P_θ(a_k),
// an unbiased estimate. Forward passes only: about K/3 of a training step's work.
void reinforce_gradient(SuperNet& net, const Tensor& images, std::span<const int32_t> labels, int32_t samples,
                        double tau, Rng& rng);

// The DARTS / FBNet relaxation: every block outputs the mixture Σ_i p_i op_i(x) ⊙ M (searchable_block.h), and θ's
// gradient is that of the mixture's loss. A first-order stand-in for ∇E[L] that needs no sampling but runs every
// candidate forward and backward. `grad` is scratch for the logits' gradient.
void mixture_gradient(SuperNet& net, const Tensor& images, std::span<const int32_t> labels, double tau, Tensor& grad);

}  // namespace nas::supernet
