// Argument checks shared by the CPU and CUDA implementations (defined in rational_cpu.cpp).
#pragma once
#include <ATen/core/Tensor.h>

namespace actfit {

// "plain" | "safe" | "abs" -> Form; TORCH_CHECK on anything else.
int parse_form(c10::string_view form);

// TORCH_CHECKs on dtypes, degrees and devices of x and the coefficient tensors.
void check_inputs(const at::Tensor& x, const at::Tensor& a, const at::Tensor& b);

// check_inputs plus the upstream gradient: same shape, dtype and device as x.
void check_bwd_inputs(const at::Tensor& grad, const at::Tensor& x, const at::Tensor& a,
                      const at::Tensor& b);

}  // namespace actfit
