// CPU implementation of actfit::rational_fwd / rational_bwd (schema defined here, once).
//
// The element math is rational.h, the header the CUDA op compiles too. Elements are processed in
// fixed chunks of kChunk (independent of the thread count), each chunk in lanes of kLanes so that
// the per-coefficient sums vectorise without reassociation; chunk partial sums are combined in
// float64 in chunk order, so coefficient gradients are bitwise identical run to run and for any
// number of threads. With per-group coefficients (ops.h, Layout) the chunks run over each
// group's elements, gathered from its segments, and the sums are combined per group.
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
  TORCH_CHECK((a.dim() == 1 && b.dim() == 1) || (a.dim() == 2 && b.dim() == 2),
              "actfit: numerator and denominator must be 1-D coefficient tensors, or both "
              "[groups, k] for per-group coefficients");
  if (a.dim() == 2) {
    TORCH_CHECK(a.size(0) >= 1 && a.size(0) == b.size(0),
                "actfit: numerator and denominator must have the same number of groups, got ",
                a.size(0), " and ", b.size(0));
    TORCH_CHECK(x.dim() >= 2 && x.size(-2) == a.size(0), "actfit: ", a.size(0),
                " coefficient groups need x shaped [..., ", a.size(0), ", L], got ", x.sizes());
  }
  const int64_t na = a.size(-1);
  const int64_t nb = b.size(-1);
  TORCH_CHECK(na >= 1 && na <= kMaxDegree + 1, "actfit: numerator degree must be in 0..",
              kMaxDegree, ", got ", na - 1);
  TORCH_CHECK(nb <= kMaxDegree, "actfit: denominator degree must be in 0..", kMaxDegree,
              ", got ", nb);
  TORCH_CHECK(a.scalar_type() == ct && b.scalar_type() == ct, "actfit: coefficients must be ",
              ct, " for ", x.scalar_type(), " input (cast them first), got ", a.scalar_type(),
              " and ", b.scalar_type());
  TORCH_CHECK(a.device() == x.device() && b.device() == x.device(),
              "actfit: x and the coefficients must be on the same device");
}

Layout layout_of(const at::Tensor& x, const at::Tensor& a) {
  const int64_t groups = a.dim() == 2 ? a.size(0) : 1;
  if (groups == 1) return {1, x.numel(), x.numel()};
  return {groups, x.size(-1), x.numel() / groups};
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

// Work items: group g's elements (see Layout) in chunks; ungrouped, the chunks of x (kChunk).
// Piece p is chunk p / G of group p % G: consecutive pieces share one stretch of memory (the
// same rows), so what a thread's reads pull into cache for one group serves the next; grouped
// chunks are G times shorter (at least kMinChunk), so that stretch stays about kChunk long.
constexpr int64_t kMinChunk = 1024;
struct Pieces {
  int64_t chunk;      // elements per piece (a multiple of kLanes)
  int64_t per_group;  // chunks per group
  int64_t count;      // groups x per_group
  explicit Pieces(const Layout& lay)
      : chunk(std::max(kMinChunk, kChunk / lay.groups / kLanes * kLanes)),
        per_group((lay.per_group + chunk - 1) / chunk),
        count(lay.groups * per_group) {}
  static int64_t group(const Layout& lay, int64_t p) { return p % lay.groups; }
};

// The contiguous runs that a batch of lanes reads and writes: run r puts the elements at
// addresses at[r] .. at[r] + cnt[r] - 1 in lanes l0[r] ..; ungrouped, one run; grouped, one per
// segment the batch touches.
struct Runs {
  int n = 0;
  int l0[kLanes];
  int cnt[kLanes];
  int64_t at[kLanes];
};

// Walks group g's element sequence batch by batch: the address and the offset in the current
// segment are advanced, not recomputed (no division per batch).
template <bool kGrouped>
struct Walker {
  const Layout& lay;
  int64_t at = 0, e = 0;

  Walker(const Layout& l, int64_t g, int64_t j) : lay(l) {
    if constexpr (kGrouped) {
      const int64_t o = j / lay.seg;
      e = j - o * lay.seg;
      at = (o * lay.groups + g) * lay.seg + e;
    } else {
      at = j;
    }
  }

  // The runs of the next len elements.
  void next(int len, Runs& runs) {
    runs.n = 0;
    if constexpr (!kGrouped) {
      runs.l0[0] = 0;
      runs.cnt[0] = len;
      runs.at[0] = at;
      runs.n = 1;
      at += len;
    } else {
      for (int l = 0; l < len;) {
        const int cnt = static_cast<int>(std::min<int64_t>(len - l, lay.seg - e));
        runs.l0[runs.n] = l;
        runs.cnt[runs.n] = cnt;
        runs.at[runs.n] = at;
        ++runs.n;
        l += cnt;
        e += cnt;
        at += cnt;
        if (e == lay.seg) {
          e = 0;
          at += (lay.groups - 1) * lay.seg;
        }
      }
    }
  }
};

// Lanes 0..len-1 from the runs, the rest 0.
template <typename scalar_t, typename T>
inline void gather(const Runs& runs, int len, const scalar_t* p, T* out) {
  for (int r = 0; r < runs.n; ++r) {
    const scalar_t* src = p + runs.at[r];
    T* dst = out + runs.l0[r];
    for (int l = 0; l < runs.cnt[r]; ++l) dst[l] = static_cast<T>(src[l]);
  }
  for (int l = len; l < kLanes; ++l) out[l] = T(0);
}

template <typename scalar_t, typename T>
inline void scatter(const Runs& runs, const T* in, scalar_t* p) {
  for (int r = 0; r < runs.n; ++r) {
    scalar_t* dst = p + runs.at[r];
    const T* src = in + runs.l0[r];
    for (int l = 0; l < runs.cnt[r]; ++l) dst[l] = static_cast<scalar_t>(src[l]);
  }
}

// Calls f(runs, len) for each batch of kLanes (or fewer, at the end) of piece p's elements.
template <bool kGrouped, typename F>
inline void for_each_batch(const Layout& lay, const Pieces& pieces, int64_t p, Runs& runs,
                           F&& f) {
  const int64_t c = p / lay.groups;
  const int64_t end = std::min(lay.per_group, (c + 1) * pieces.chunk);
  Walker<kGrouped> walk(lay, Pieces::group(lay, p), c * pieces.chunk);
  for (int64_t i = c * pieces.chunk; i < end; i += kLanes) {
    const int len = static_cast<int>(std::min<int64_t>(kLanes, end - i));
    walk.next(len, runs);
    f(runs, len);
  }
}

template <bool kGrouped, typename R, typename scalar_t, typename T = typename R::Scalar>
void fwd_loop(const R* rs, const Layout& lay, const scalar_t* xp, scalar_t* yp) {
  const Pieces pieces(lay);
  at::parallel_for(0, pieces.count, 1, [&](int64_t p0, int64_t p1) {
    T xs[kLanes];
    T ys[kLanes];
    Runs runs;
    for (int64_t p = p0; p < p1; ++p) {
      const R r = rs[Pieces::group(lay, p)];
      for_each_batch<kGrouped>(lay, pieces, p, runs, [&](const Runs& batch, int len) {
        gather(batch, len, xp, xs);
        if (all_direct(r, xs)) {
#pragma omp simd
          for (int l = 0; l < kLanes; ++l) ys[l] = r.forward_direct(xs[l]);
        } else {
#pragma omp simd
          for (int l = 0; l < kLanes; ++l) ys[l] = r.forward(xs[l]);
        }
        scatter(batch, ys, yp);
      });
    }
  });
}

// partial[p * nacc + k]: piece p's float64 sum of coefficient-gradient term k.
template <bool kGrouped, bool kCoeffGrad, typename R, typename scalar_t,
          typename T = typename R::Scalar>
void bwd_loop(const R* rs, const Layout& lay, const scalar_t* gp, const scalar_t* xp,
              scalar_t* dxp, double* partial) {
  constexpr int kAcc = R::kCapAcc;
  const int nacc = rs[0].num_acc();
  const Pieces pieces(lay);
  at::parallel_for(0, pieces.count, 1, [&](int64_t p0, int64_t p1) {
    T xs[kLanes];
    T gs[kLanes];
    T dx[kLanes];
    T acc[kAcc][kLanes];
    Runs runs;
    for (int64_t p = p0; p < p1; ++p) {
      const R r = rs[Pieces::group(lay, p)];
      for (int k = 0; k < kAcc; ++k)
        for (int l = 0; l < kLanes; ++l) acc[k][l] = T(0);
      for_each_batch<kGrouped>(lay, pieces, p, runs, [&](const Runs& batch, int len) {
        gather(batch, len, xp, xs);
        gather(batch, len, gp, gs);
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
        scatter(batch, dx, dxp);
      });
      if (kCoeffGrad) {
        for (int k = 0; k < nacc; ++k) {
          double s = 0.0;
          for (int l = 0; l < kLanes; ++l) s += static_cast<double>(acc[k][l]);
          partial[p * nacc + k] = s;
        }
      }
    }
  });
}

// The CPU's compile-time fast paths.
template <typename T, typename F>
void with_form(int form, int m, int n, F&& f) {
  with_rational_type<T, Order<5, 4>, Order<3, 2>>(form, m, n, f);
}

// One loaded Rational per group (coefficient rows a[g], b[g]).
template <typename R, typename T>
std::vector<R> load_groups(const T* a, int m, const T* b, int n, int64_t groups) {
  std::vector<R> rs(groups);
  for (int64_t g = 0; g < groups; ++g) rs[g].load(a + g * (m + 1), m, b + g * n, n);
  return rs;
}

at::Tensor rational_fwd_cpu(const at::Tensor& x, const at::Tensor& a, const at::Tensor& b,
                            c10::string_view form) {
  check_inputs(x, a, b);
  const int f = parse_form(form);
  const at::Tensor xc = x.contiguous();
  const at::Tensor ac = a.contiguous();
  const at::Tensor bc = b.contiguous();
  at::Tensor y = at::empty(x.sizes(), x.options());
  const int m = static_cast<int>(a.size(-1)) - 1;
  const int n = static_cast<int>(b.size(-1));
  if (x.numel() == 0) return y;
  const Layout lay = layout_of(x, a);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "rational_fwd", [&] {
    using T = std::conditional_t<std::is_same_v<scalar_t, double>, double, float>;
    with_form<T>(f, m, n, [&](auto proto) {
      using R = decltype(proto);
      const auto rs = load_groups<R>(ac.data_ptr<T>(), m, bc.data_ptr<T>(), n, lay.groups);
      if (lay.groups > 1) {
        fwd_loop<true>(rs.data(), lay, xc.data_ptr<scalar_t>(), y.data_ptr<scalar_t>());
      } else {
        fwd_loop<false>(rs.data(), lay, xc.data_ptr<scalar_t>(), y.data_ptr<scalar_t>());
      }
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
  const int m = static_cast<int>(a.size(-1)) - 1;
  const int n = static_cast<int>(b.size(-1));
  const int nacc = m + 1 + n;
  if (x.numel() == 0) return {dx, da, db};
  const Layout lay = layout_of(x, a);
  const Pieces pieces(lay);
  std::vector<double> partial(coeff_grad ? pieces.count * nacc : 0);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "rational_bwd", [&] {
    using T = std::conditional_t<std::is_same_v<scalar_t, double>, double, float>;
    const T* bp = bc.data_ptr<T>();
    with_form<T>(f, m, n, [&](auto proto) {
      using R = decltype(proto);
      const auto rs = load_groups<R>(ac.data_ptr<T>(), m, bp, n, lay.groups);
      const scalar_t* gp = gc.data_ptr<scalar_t>();
      const scalar_t* xp = xc.data_ptr<scalar_t>();
      scalar_t* dxp = dx.data_ptr<scalar_t>();
      double* pp = partial.data();
      if (lay.groups > 1) {
        if (coeff_grad) bwd_loop<true, true>(rs.data(), lay, gp, xp, dxp, pp);
        else bwd_loop<true, false>(rs.data(), lay, gp, xp, dxp, pp);
      } else {
        if (coeff_grad) bwd_loop<false, true>(rs.data(), lay, gp, xp, dxp, pp);
        else bwd_loop<false, false>(rs.data(), lay, gp, xp, dxp, pp);
      }
    });
    if (coeff_grad) {
      // Second pass: each group's piece partials in piece order, in float64.
      T* dap = da.data_ptr<T>();
      T* dbp = db.data_ptr<T>();
      std::vector<double> sum(nacc);
      for (int64_t g = 0; g < lay.groups; ++g) {
        std::fill(sum.begin(), sum.end(), 0.0);
        for (int64_t c = 0; c < pieces.per_group; ++c)
          for (int k = 0; k < nacc; ++k) sum[k] += partial[(c * lay.groups + g) * nacc + k];
        for (int k = 0; k <= m; ++k) dap[g * (m + 1) + k] = static_cast<T>(sum[k]);
        for (int k = 1; k <= n; ++k)
          dbp[g * n + k - 1] = finish_b<T>(f, static_cast<T>(sum[m + k]), bp[g * n + k - 1]);
      }
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
