// CUDA implementation of actfit::rational_fwd / rational_bwd; the element math is rational.h.
//
// Forward: grid-stride elementwise kernel with 16-byte loads and stores.
// Backward: each thread keeps the m+1+n coefficient sums in registers; a block reduces them with
// warp shuffles and shared memory in a fixed order and writes one row of a [blocks, m+1+n]
// buffer; a second kernel sums the rows in block order (float64). No atomics: the coefficient
// gradients are bitwise identical run to run.
//
// The fast paths (compile-time degrees) need the top denominator coefficient to be non-zero,
// which only the device knows; both the fast and the generic kernel are launched and exactly one
// of them does the work (the other returns at once), so no host synchronisation is needed.
#include <ATen/Dispatch.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/zeros.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "ops.h"
#include "rational.h"

namespace actfit {
namespace {

constexpr int kThreads = 256;
// The compile-time fast path of the CUDA op (PAU's and KAT's default order).
constexpr int kFastM = 5;
constexpr int kFastN = 4;

template <typename scalar_t>
struct Vec {
  static constexpr int kSize = 16 / sizeof(scalar_t);
  struct alignas(16) Type {
    scalar_t v[kSize];
  };
};

// Loads the coefficients and tells whether this kernel variant applies.
template <typename R, typename T>
__device__ __forceinline__ bool load_rational(R& r, const T* a, int m, const T* b, int n) {
  r.load(a, m, b, n);
  const int ne = effective_degree(b, n);
  if (R::kM >= 0) return m == R::kM && n == R::kN && ne == R::kN;
  return !(m == kFastM && n == kFastN && ne == kFastN);
}

template <typename scalar_t, typename T, typename R>
__global__ void __launch_bounds__(kThreads) fwd_kernel(const scalar_t* __restrict__ x,
                                                       scalar_t* __restrict__ y, int64_t numel,
                                                       const T* __restrict__ a, int m,
                                                       const T* __restrict__ b, int n,
                                                       bool vec_ok) {
  R r;
  if (!load_rational(r, a, m, b, n)) return;
  using V = typename Vec<scalar_t>::Type;
  constexpr int kV = Vec<scalar_t>::kSize;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t tid = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t done = 0;
  if (vec_ok) {
    const int64_t nvec = numel / kV;
    const V* xv = reinterpret_cast<const V*>(x);
    V* yv = reinterpret_cast<V*>(y);
    for (int64_t i = tid; i < nvec; i += stride) {
      V in = xv[i];
      V out;
#pragma unroll
      for (int j = 0; j < kV; ++j) out.v[j] = static_cast<scalar_t>(r.forward(static_cast<T>(in.v[j])));
      yv[i] = out;
    }
    done = nvec * kV;
  }
  for (int64_t i = done + tid; i < numel; i += stride) {
    y[i] = static_cast<scalar_t>(r.forward(static_cast<T>(x[i])));
  }
}

template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  return v;
}

template <typename scalar_t, typename T, typename R, bool kCoeffGrad>
__global__ void __launch_bounds__(kThreads) bwd_kernel(const scalar_t* __restrict__ g,
                                                       const scalar_t* __restrict__ x,
                                                       scalar_t* __restrict__ dx, int64_t numel,
                                                       const T* __restrict__ a, int m,
                                                       const T* __restrict__ b, int n,
                                                       bool vec_ok, T* __restrict__ partial) {
  R r;
  if (!load_rational(r, a, m, b, n)) return;
  constexpr int kAcc = R::kCapAcc;
  T acc[kAcc];
#pragma unroll
  for (int k = 0; k < kAcc; ++k) acc[k] = T(0);
  using V = typename Vec<scalar_t>::Type;
  constexpr int kV = Vec<scalar_t>::kSize;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t tid = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  int64_t done = 0;
  if (vec_ok) {
    const int64_t nvec = numel / kV;
    const V* xv = reinterpret_cast<const V*>(x);
    const V* gv = reinterpret_cast<const V*>(g);
    V* dv = reinterpret_cast<V*>(dx);
    for (int64_t i = tid; i < nvec; i += stride) {
      const V xin = xv[i];
      const V gin = gv[i];
      V out;
#pragma unroll
      for (int j = 0; j < kV; ++j) {
        out.v[j] = static_cast<scalar_t>(r.template backward<kCoeffGrad>(
            static_cast<T>(xin.v[j]), static_cast<T>(gin.v[j]), acc));
      }
      dv[i] = out;
    }
    done = nvec * kV;
  }
  for (int64_t i = done + tid; i < numel; i += stride) {
    dx[i] = static_cast<scalar_t>(
        r.template backward<kCoeffGrad>(static_cast<T>(x[i]), static_cast<T>(g[i]), acc));
  }
  if (!kCoeffGrad) return;
  // Block reduction in a fixed order: warp shuffles, then warp sums in warp order.
  __shared__ T smem[kThreads / 32][kAcc];
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  const int nacc = r.num_acc();
#pragma unroll
  for (int k = 0; k < kAcc; ++k) {
    if (k < nacc) {
      const T s = warp_sum(acc[k]);
      if (lane == 0) smem[warp][k] = s;
    }
  }
  __syncthreads();
  if (threadIdx.x < nacc) {
    T s = T(0);
    for (int w = 0; w < kThreads / 32; ++w) s += smem[w][threadIdx.x];
    partial[static_cast<int64_t>(blockIdx.x) * nacc + threadIdx.x] = s;
  }
}

// Second pass: column k of partial summed over blocks in a fixed order, in float64.
template <typename T>
__global__ void finish_kernel(const T* __restrict__ partial, int nblocks, int m, int n,
                              const T* __restrict__ b, int form, T* __restrict__ da,
                              T* __restrict__ db) {
  __shared__ double s[kThreads];
  const int k = blockIdx.x;
  const int nacc = m + 1 + n;
  double v = 0.0;
  for (int i = threadIdx.x; i < nblocks; i += blockDim.x) v += static_cast<double>(partial[i * nacc + k]);
  s[threadIdx.x] = v;
  __syncthreads();
  for (int off = blockDim.x / 2; off > 0; off >>= 1) {
    if (threadIdx.x < off) s[threadIdx.x] += s[threadIdx.x + off];
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    const T total = static_cast<T>(s[0]);
    if (k <= m) {
      da[k] = total;
    } else {
      db[k - m - 1] = finish_b<T>(form, total, b[k - m - 1]);
    }
  }
}

int grid_for(int64_t work, int per_sm) {
  int dev = 0;
  int sms = 0;
  C10_CUDA_CHECK(cudaGetDevice(&dev));
  C10_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  const int64_t want = (work + kThreads - 1) / kThreads;
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(want, int64_t(sms) * per_sm)));
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// Launches f.template operator()<R>() for the fast [5,4] variant (when m == 5 and n == 4) and
// for the generic one; the kernels themselves decide which of them works.
template <typename T, int FORM, typename F>
void launch_variants(int m, int n, F&& f) {
  if (m == kFastM && n == kFastN) f(Rational<T, FORM, kFastM, kFastN>{});
  f(Rational<T, FORM, -1, -1>{});
}

template <typename T, typename F>
void launch_forms(int form, int m, int n, F&& f) {
  switch (form) {
    case kPlain:
      launch_variants<T, kPlain>(m, n, f);
      break;
    case kSafe:
      launch_variants<T, kSafe>(m, n, f);
      break;
    default:
      launch_variants<T, kAbs>(m, n, f);
      break;
  }
}

at::Tensor rational_fwd_cuda(const at::Tensor& x, const at::Tensor& a, const at::Tensor& b,
                             c10::string_view form) {
  check_inputs(x, a, b);
  const int f = parse_form(form);
  const c10::cuda::CUDAGuard guard(x.device());
  const at::Tensor xc = x.contiguous();
  const at::Tensor ac = a.contiguous();
  const at::Tensor bc = b.contiguous();
  at::Tensor y = at::empty(x.sizes(), x.options());
  const int m = static_cast<int>(a.numel()) - 1;
  const int n = static_cast<int>(b.numel());
  const int64_t numel = x.numel();
  if (numel == 0) return y;
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream().stream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "rational_fwd", [&] {
    using T = std::conditional_t<std::is_same_v<scalar_t, double>, double, float>;
    const bool vec_ok = aligned16(xc.data_ptr()) && aligned16(y.data_ptr());
    const int grid = grid_for((numel + Vec<scalar_t>::kSize - 1) / Vec<scalar_t>::kSize, 32);
    launch_forms<T>(f, m, n, [&](auto proto) {
      using R = decltype(proto);
      fwd_kernel<scalar_t, T, R><<<grid, kThreads, 0, stream>>>(
          xc.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), numel, ac.data_ptr<T>(), m,
          bc.data_ptr<T>(), n, vec_ok);
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    });
  });
  return y;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> rational_bwd_cuda(const at::Tensor& grad,
                                                                  const at::Tensor& x,
                                                                  const at::Tensor& a,
                                                                  const at::Tensor& b,
                                                                  c10::string_view form,
                                                                  bool coeff_grad) {
  check_inputs(x, a, b);
  TORCH_CHECK(grad.sizes() == x.sizes() && grad.scalar_type() == x.scalar_type(),
              "actfit: grad must have the shape and dtype of x");
  TORCH_CHECK(grad.device() == x.device(), "actfit: grad and x must be on the same device");
  const int f = parse_form(form);
  const c10::cuda::CUDAGuard guard(x.device());
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
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream().stream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "rational_bwd", [&] {
    using T = std::conditional_t<std::is_same_v<scalar_t, double>, double, float>;
    const bool vec_ok =
        aligned16(xc.data_ptr()) && aligned16(gc.data_ptr()) && aligned16(dx.data_ptr());
    const int grid = grid_for((numel + Vec<scalar_t>::kSize - 1) / Vec<scalar_t>::kSize, 8);
    at::Tensor partial;
    T* pp = nullptr;
    if (coeff_grad) {
      partial = at::empty({grid, nacc}, a.options());
      pp = partial.data_ptr<T>();
    }
    launch_forms<T>(f, m, n, [&](auto proto) {
      using R = decltype(proto);
      if (coeff_grad) {
        bwd_kernel<scalar_t, T, R, true><<<grid, kThreads, 0, stream>>>(
            gc.data_ptr<scalar_t>(), xc.data_ptr<scalar_t>(), dx.data_ptr<scalar_t>(), numel,
            ac.data_ptr<T>(), m, bc.data_ptr<T>(), n, vec_ok, pp);
      } else {
        bwd_kernel<scalar_t, T, R, false><<<grid, kThreads, 0, stream>>>(
            gc.data_ptr<scalar_t>(), xc.data_ptr<scalar_t>(), dx.data_ptr<scalar_t>(), numel,
            ac.data_ptr<T>(), m, bc.data_ptr<T>(), n, vec_ok, nullptr);
      }
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    });
    if (coeff_grad) {
      finish_kernel<T><<<nacc, kThreads, 0, stream>>>(pp, grid, m, n, bc.data_ptr<T>(), f,
                                                       da.data_ptr<T>(), db.data_ptr<T>());
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    }
  });
  return {dx, da, db};
}

}  // namespace

TORCH_LIBRARY_IMPL(actfit, CUDA, m) {
  m.impl("rational_fwd", &rational_fwd_cuda);
  m.impl("rational_bwd", &rational_bwd_cuda);
}

}  // namespace actfit
