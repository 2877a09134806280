// CPU implementation of actfit::rational_fwd / rational_bwd (schema defined here, once).
//
// The element math is rational.h, the header the CUDA op compiles too. Elements are processed in
// fixed chunks of kChunk (independent of the thread count), each chunk in lanes of kLanes so that
// the per-coefficient sums vectorise without reassociation; chunk partial sums are combined in
// float64 in chunk order, so coefficient gradients are bitwise identical run to run and for any
// number of threads.
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/zeros.h>
#include <torch/library.h>

#include <algorithm>
#include <string>
#include <vector>

#include "ops.h"
#include "rational.h"

namespace actfit {

int parse_form(c10::string_view form) {
  if (form == "plain") return kPlain;
  if (form == "safe") return kSafe;
  if (form == "abs") return kAbs;
  TORCH_CHECK(false, "actfit: unknown denominator form '", std::string(form),
              "'; expected 'plain', 'safe' or 'abs'");
}

void check_inputs(const at::Tensor& x, const at::Tensor& a, const at::Tensor& b) {
  TORCH_CHECK(x.is_floating_point(), "actfit: x must be a floating-point tensor, got ",
              x.scalar_type());
  const auto ct = x.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  TORCH_CHECK(a.dim() == 1 && b.dim() == 1,
              "actfit: numerator and denominator must be 1-D coefficient tensors");
  TORCH_CHECK(a.numel() >= 1 && a.numel() <= kMaxDegree + 1,
              "actfit: numerator degree must be in 0..", kMaxDegree, ", got ", a.numel() - 1);
  TORCH_CHECK(b.numel() <= kMaxDegree, "actfit: denominator degree must be in 0..", kMaxDegree,
              ", got ", b.numel());
  TORCH_CHECK(a.scalar_type() == ct && b.scalar_type() == ct, "actfit: coefficients must be ",
              ct, " for ", x.scalar_type(), " input (cast them first), got ", a.scalar_type(),
              " and ", b.scalar_type());
  TORCH_CHECK(a.device() == x.device() && b.device() == x.device(),
              "actfit: x and the coefficients must be on the same device");
}

void check_bwd_inputs(const at::Tensor& grad, const at::Tensor& x, const at::Tensor& a,
                      const at::Tensor& b) {
  check_inputs(x, a, b);
  TORCH_CHECK(grad.sizes() == x.sizes() && grad.scalar_type() == x.scalar_type(),
              "actfit: grad must have the shape and dtype of x");
  TORCH_CHECK(grad.device() == x.device(), "actfit: grad and x must be on the same device");
}

namespace {

constexpr int64_t kChunk = 16384;
constexpr int kLanes = 64;

// Column view of a [kAcc][kLanes] accumulator block: element k of lane l.
template <typename T>
struct LaneAcc {
  T* p;
  T& operator[](int k) const { return p[k * kLanes]; }
};

// True when every lane takes the direct branch (|x| <= thr), so the 1/x code can be skipped.
template <typename R, typename T>
inline bool all_direct(const R& r, const T* xs) {
  bool ok = true;
  for (int l = 0; l < kLanes; ++l) ok &= !(abs_(xs[l]) > r.thr);
  return ok;
}

template <typename R, typename scalar_t, typename T>
void fwd_loop(const R& r, const scalar_t* xp, scalar_t* yp, int64_t numel) {
  at::parallel_for(0, (numel + kChunk - 1) / kChunk, 1, [&](int64_t c0, int64_t c1) {
    T xs[kLanes];
    T ys[kLanes];
    for (int64_t i = c0 * kChunk; i < std::min(numel, c1 * kChunk); i += kLanes) {
      const int len = static_cast<int>(std::min<int64_t>(kLanes, numel - i));
      for (int l = 0; l < kLanes; ++l) xs[l] = l < len ? static_cast<T>(xp[i + l]) : T(0);
      if (all_direct(r, xs)) {
#pragma omp simd
        for (int l = 0; l < kLanes; ++l) ys[l] = r.forward_direct(xs[l]);
      } else {
#pragma omp simd
        for (int l = 0; l < kLanes; ++l) ys[l] = r.forward(xs[l]);
      }
      for (int l = 0; l < len; ++l) yp[i + l] = static_cast<scalar_t>(ys[l]);
    }
  });
}

template <bool kCoeffGrad, typename R, typename scalar_t, typename T>
void bwd_loop(const R& r, const scalar_t* gp, const scalar_t* xp, scalar_t* dxp, int64_t numel,
              double* partial) {
  constexpr int kAcc = R::kCapAcc;
  const int nacc = r.num_acc();
  at::parallel_for(0, (numel + kChunk - 1) / kChunk, 1, [&](int64_t c0, int64_t c1) {
    T xs[kLanes];
    T gs[kLanes];
    T dx[kLanes];
    T acc[kAcc][kLanes];
    for (int64_t c = c0; c < c1; ++c) {
      for (int k = 0; k < kAcc; ++k)
        for (int l = 0; l < kLanes; ++l) acc[k][l] = T(0);
      const int64_t end = std::min(numel, (c + 1) * kChunk);
      for (int64_t i = c * kChunk; i < end; i += kLanes) {
        const int len = static_cast<int>(std::min<int64_t>(kLanes, end - i));
        for (int l = 0; l < kLanes; ++l) {
          xs[l] = l < len ? static_cast<T>(xp[i + l]) : T(0);
          gs[l] = l < len ? static_cast<T>(gp[i + l]) : T(0);
        }
        if (all_direct(r, xs)) {
          // Lane l accumulates straight into column l of acc: unit-stride across lanes, so the
          // lanes vectorise (a per-lane scratch array transposed afterwards does not).
#pragma omp simd
          for (int l = 0; l < kLanes; ++l) {
            dx[l] = r.template backward<kCoeffGrad, false>(xs[l], gs[l], LaneAcc<T>{&acc[0][l]});
          }
        } else {
#pragma omp simd
          for (int l = 0; l < kLanes; ++l) {
            T a_l[kAcc];
            for (int k = 0; k < kAcc; ++k) a_l[k] = T(0);
            dx[l] = r.template backward<kCoeffGrad, true>(xs[l], gs[l], a_l);
            if (kCoeffGrad) {
              for (int k = 0; k < kAcc; ++k) acc[k][l] += a_l[k];
            }
          }
        }
        for (int l = 0; l < len; ++l) dxp[i + l] = static_cast<scalar_t>(dx[l]);
      }
      if (kCoeffGrad) {
        for (int k = 0; k < nacc; ++k) {
          double s = 0.0;
          for (int l = 0; l < kLanes; ++l) s += static_cast<double>(acc[k][l]);
          partial[c * nacc + k] = s;
        }
      }
    }
  });
}

// Calls f(Rational<T, FORM, MC, NC>) for the fast path matching (m, n), whatever the effective
// denominator degree, or the generic one.
template <typename T, int FORM, typename F>
void with_rational(const T* ra, int m, const T* rb, int n, F&& f) {
  if (m == 5 && n == 4) {
    Rational<T, FORM, 5, 4> r;
    r.load(ra, m, rb, n);
    f(r);
  } else if (m == 3 && n == 2) {
    Rational<T, FORM, 3, 2> r;
    r.load(ra, m, rb, n);
    f(r);
  } else {
    Rational<T, FORM, -1, -1> r;
    r.load(ra, m, rb, n);
    f(r);
  }
}

template <typename T, typename F>
void with_form(int form, const T* ra, int m, const T* rb, int n, F&& f) {
  switch (form) {
    case kPlain:
      with_rational<T, kPlain>(ra, m, rb, n, f);
      break;
    case kSafe:
      with_rational<T, kSafe>(ra, m, rb, n, f);
      break;
    default:
      with_rational<T, kAbs>(ra, m, rb, n, f);
      break;
  }
}

at::Tensor rational_fwd_cpu(const at::Tensor& x, const at::Tensor& a, const at::Tensor& b,
                            c10::string_view form) {
  check_inputs(x, a, b);
  const int f = parse_form(form);
  const at::Tensor xc = x.contiguous();
  const at::Tensor ac = a.contiguous();
  const at::Tensor bc = b.contiguous();
  at::Tensor y = at::empty(x.sizes(), x.options());
  const int m = static_cast<int>(a.numel()) - 1;
  const int n = static_cast<int>(b.numel());
  const int64_t numel = x.numel();
  if (numel == 0) return y;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "rational_fwd", [&] {
    using T = std::conditional_t<std::is_same_v<scalar_t, double>, double, float>;
    with_form<T>(f, ac.data_ptr<T>(), m, bc.data_ptr<T>(), n, [&](const auto& r) {
      using R = std::decay_t<decltype(r)>;
      fwd_loop<R, scalar_t, T>(r, xc.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), numel);
    });
  });
  return y;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> rational_bwd_cpu(const at::Tensor& grad,
                                                                 const at::Tensor& x,
                                                                 const at::Tensor& a,
                                                                 const at::Tensor& b,
                                                                 c10::string_view form,
                                                                 bool coeff_grad) {
  check_bwd_inputs(grad, x, a, b);
  const int f = parse_form(form);
  const at::Tensor gc = grad.contiguous();
  const at::Tensor xc = x.contiguous();
  const at::Tensor ac = a.contiguous();
  const at::Tensor bc = b.contiguous();
  at::Tensor dx = at::empty(x.sizes(), x.options());
  at::Tensor da = at::zeros(a.sizes(), a.options());
  at::Tensor db = at::zeros(b.sizes(), b.options());
  const int m = static_cast<int>(a.numel()) - 1;
  const int n = static_cast<int>(b.numel());
  const int nacc = m + 1 + n;
  const int64_t numel = x.numel();
  if (numel == 0) return {dx, da, db};
  const int64_t nchunks = (numel + kChunk - 1) / kChunk;
  std::vector<double> partial(coeff_grad ? nchunks * nacc : 0);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "rational_bwd", [&] {
    using T = std::conditional_t<std::is_same_v<scalar_t, double>, double, float>;
    const T* bp = bc.data_ptr<T>();
    with_form<T>(f, ac.data_ptr<T>(), m, bp, n, [&](const auto& r) {
      using R = std::decay_t<decltype(r)>;
      if (coeff_grad) {
        bwd_loop<true, R, scalar_t, T>(r, gc.data_ptr<scalar_t>(), xc.data_ptr<scalar_t>(),
                                       dx.data_ptr<scalar_t>(), numel, partial.data());
      } else {
        bwd_loop<false, R, scalar_t, T>(r, gc.data_ptr<scalar_t>(), xc.data_ptr<scalar_t>(),
                                        dx.data_ptr<scalar_t>(), numel, nullptr);
      }
    });
    if (coeff_grad) {
      // Second pass: chunk partials in chunk order, in float64.
      std::vector<double> sum(nacc, 0.0);
      for (int64_t c = 0; c < nchunks; ++c)
        for (int k = 0; k < nacc; ++k) sum[k] += partial[c * nacc + k];
      T* dap = da.data_ptr<T>();
      T* dbp = db.data_ptr<T>();
      for (int k = 0; k <= m; ++k) dap[k] = static_cast<T>(sum[k]);
      for (int k = 1; k <= n; ++k)
        dbp[k - 1] = finish_b<T>(f, static_cast<T>(sum[m + k]), bp[k - 1]);
    }
  });
  return {dx, da, db};
}

}  // namespace

TORCH_LIBRARY(actfit, m) {
  m.def("rational_fwd(Tensor x, Tensor numerator, Tensor denominator, str form) -> Tensor");
  m.def(
      "rational_bwd(Tensor grad, Tensor x, Tensor numerator, Tensor denominator, str form, "
      "bool coeff_grad) -> (Tensor, Tensor, Tensor)");
}

TORCH_LIBRARY_IMPL(actfit, CPU, m) {
  m.impl("rational_fwd", &rational_fwd_cpu);
  m.impl("rational_bwd", &rational_bwd_cpu);
}

}  // namespace actfit
