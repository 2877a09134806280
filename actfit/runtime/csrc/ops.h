// Argument checks shared by the CPU and CUDA implementations (defined in rational_cpu.cpp).
#pragma once
#include <ATen/core/Tensor.h>

namespace actfit {

// "plain" | "safe" | "abs" -> Form; TORCH_CHECK on anything else.
int parse_form(c10::string_view form);

// TORCH_CHECKs on dtypes, degrees, devices and group shapes of x and the coefficient tensors.
void check_inputs(const at::Tensor& x, const at::Tensor& a, const at::Tensor& b);

// Grouped coefficients ([G, m+1] and [G, n], G > 1) apply row g to x viewed as [..., G, L]:
// group g owns the segments of L contiguous elements at g, g + G, g + 2G, ... (in segments).
// Ungrouped is G = 1 with one segment of all the elements.
struct Layout {
  int64_t groups;     // G
  int64_t seg;        // L
  int64_t per_group;  // elements per group (numel / G)
};
Layout layout_of(const at::Tensor& x, const at::Tensor& a);

// check_inputs plus the upstream gradient: same shape, dtype and device as x.
void check_bwd_inputs(const at::Tensor& grad, const at::Tensor& x, const at::Tensor& a,
                      const at::Tensor& b);

}  // namespace actfit
