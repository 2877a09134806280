// CUDA implementation of actfit::rational_fwd / rational_bwd; the element math is rational.h.
//
// Both kernels are grid-stride loops over 16-byte vectors (4 float32, 8 bfloat16/float16 elements)
// with kUnroll vectors per thread loaded before any is used, so that enough bytes are in flight to
// keep HBM busy; the grid is one wave (blocks resident per SM times SMs). A vector whose elements
// all satisfy |x| <= thr (every realistic input) takes the direct branch only: no 1/x code, no
// per-element branching, one approximate reciprocal per element.
// Backward: each thread keeps the m+1+n coefficient sums in registers across all its elements;
// a block reduces them once with warp shuffles and shared memory in a fixed order and writes one
// row of a [blocks, m+1+n] buffer; a second kernel sums the rows in block order (float64). No
// atomics: the coefficient gradients are bitwise identical run to run.
//
// The fast path (compile-time degrees [5,4]) is chosen on the host from the tensor shapes alone:
// it is exact for any coefficient values (a zero top denominator coefficient included, see
// rational.h), so no coefficient has to be read back from the device.
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

#include <algorithm>
#include <cstdlib>
#include <type_traits>

#include "ops.h"
#include "rational.h"

namespace actfit {
namespace {

constexpr int kThreads = 256;

// Launch shapes of the fast path for half types (threads per block, resident blocks per SM asked
// of the compiler, L2 prefetch of the next grid-stride vector). Index 0 is the shape of the
// generic kernels and of float32; ACTFIT_CUDA_FWD_CFG / ACTFIT_CUDA_BWD_CFG (read once per process)
// pick another. Defaults from one H200 run (benchmarks/gpu_shapes.sh, runtime-notes.md): forward
// 128-thread blocks, backward 256 threads capped at 48 registers (5 blocks/SM) with L2 prefetch.
struct Shape {
  int threads, min_blocks;
  bool prefetch;
};
constexpr Shape kFwdShapes[] = {{256, 6, false}, {256, 6, true}, {128, 12, false}};
constexpr Shape kBwdShapes[] = {
    {256, 4, false}, {128, 8, false}, {256, 4, true}, {128, 9, true}, {256, 5, true}, {128, 9, false}};
constexpr int kNumFwd = sizeof(kFwdShapes) / sizeof(Shape);
constexpr int kNumBwd = sizeof(kBwdShapes) / sizeof(Shape);
constexpr int kDefaultFwd = 2;
constexpr int kDefaultBwd = 4;

int shape_from_env(const char* name, int def, int count) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return def;
  const int i = std::atoi(v);
  return i >= 0 && i < count ? i : def;
}

__device__ __forceinline__ void prefetch_l2(const void* p) {
  asm volatile("prefetch.global.L2 [%0];" ::"l"(p));
}
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

// Vector element kSize values from / to the compute type; half types are packed two at a time.
template <typename scalar_t, typename T, typename V>
__device__ __forceinline__ void unpack(const V& in, T* out) {
#pragma unroll
  for (int j = 0; j < Vec<scalar_t>::kSize; ++j) out[j] = static_cast<T>(in.v[j]);
}

template <typename scalar_t, typename T, typename V>
__device__ __forceinline__ void pack(const T* in, V& out) {
  constexpr int kV = Vec<scalar_t>::kSize;
  if constexpr (std::is_same_v<scalar_t, c10::BFloat16>) {
    auto* o = reinterpret_cast<__nv_bfloat162*>(out.v);
#pragma unroll
    for (int j = 0; j < kV / 2; ++j) o[j] = __floats2bfloat162_rn(in[2 * j], in[2 * j + 1]);
  } else if constexpr (std::is_same_v<scalar_t, c10::Half>) {
    auto* o = reinterpret_cast<__half2*>(out.v);
#pragma unroll
    for (int j = 0; j < kV / 2; ++j) o[j] = __floats2half2_rn(in[2 * j], in[2 * j + 1]);
  } else {
#pragma unroll
    for (int j = 0; j < kV; ++j) out.v[j] = static_cast<scalar_t>(in[j]);
  }
}

template <typename R, typename T, int K>
__device__ __forceinline__ bool all_direct(const R& r, const T (&xs)[K]) {
  bool ok = true;
#pragma unroll
  for (int j = 0; j < K; ++j) ok &= !(abs_(xs[j]) > r.thr);
  return ok;
}

// Vectors per thread per loop step: two 16-byte loads per input in flight for the fast path,
// except in the half-type backward, whose 8-element vectors already need many registers.
template <typename R, typename scalar_t, bool kBackward>
constexpr int unroll_for() {
  if (R::kM < 0) return 1;
  return kBackward && sizeof(scalar_t) < 4 ? 1 : 2;
}

// Resident blocks per SM asked of the compiler for the forward's fast path: 6 (40 registers)
// for half types, which otherwise take 48 and keep too few bytes in flight; 8 (32, what it takes
// anyway) for float32.
template <typename R, typename scalar_t>
constexpr int fwd_min_blocks() {
  if (R::kM < 0) return 1;
  return sizeof(scalar_t) == 2 ? 6 : (sizeof(scalar_t) == 4 ? 8 : 1);
}

template <typename R, typename scalar_t, int kS>
constexpr int fwd_min_blocks_s() {
  return (R::kM >= 0 && sizeof(scalar_t) == 2) ? kFwdShapes[kS].min_blocks
                                               : fwd_min_blocks<R, scalar_t>();
}

template <typename scalar_t, typename T, typename R, int kS = 0>
__global__ void __launch_bounds__(kFwdShapes[kS].threads, (fwd_min_blocks_s<R, scalar_t, kS>())) fwd_kernel(const scalar_t* __restrict__ x,
                                                       scalar_t* __restrict__ y, int64_t numel,
                                                       const T* __restrict__ a, int m,
                                                       const T* __restrict__ b, int n,
                                                       bool vec_ok) {
  R r;
  r.load(a, m, b, n);
  using V = typename Vec<scalar_t>::Type;
  constexpr int kV = Vec<scalar_t>::kSize;
  constexpr int kU = unroll_for<R, scalar_t, false>();
  const int64_t tid = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  int64_t done = 0;
  if (vec_ok) {
    const int64_t nvec = numel / kV;
    const V* xv = reinterpret_cast<const V*>(x);
    V* yv = reinterpret_cast<V*>(y);
    for (int64_t base = static_cast<int64_t>(blockIdx.x) * blockDim.x * kU + threadIdx.x;
         base < nvec; base += stride * kU) {
      V in[kU];
#pragma unroll
      for (int u = 0; u < kU; ++u) {
        const int64_t i = base + static_cast<int64_t>(u) * blockDim.x;
        if (i < nvec) in[u] = xv[i];
      }
      if constexpr (kFwdShapes[kS].prefetch) {
#pragma unroll
        for (int u = 0; u < kU; ++u) {
          const int64_t i = base + stride * kU + static_cast<int64_t>(u) * blockDim.x;
          if (i < nvec) prefetch_l2(xv + i);
        }
      }
#pragma unroll
      for (int u = 0; u < kU; ++u) {
        const int64_t i = base + static_cast<int64_t>(u) * blockDim.x;
        if (i < nvec) {
          T xs[kV];
          T ys[kV];
          unpack<scalar_t>(in[u], xs);
          if (all_direct(r, xs)) {
#pragma unroll
            for (int j = 0; j < kV; ++j) ys[j] = r.forward_direct(xs[j]);
          } else {
#pragma unroll
            for (int j = 0; j < kV; ++j) ys[j] = r.forward(xs[j]);
          }
          V out;
          pack<scalar_t>(ys, out);
          yv[i] = out;
        }
      }
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

template <typename scalar_t, typename T, typename R, bool kCoeffGrad, int kS = 0>
__global__ void __launch_bounds__(kBwdShapes[kS].threads, (R::kM >= 0 ? kBwdShapes[kS].min_blocks : 1)) bwd_kernel(const scalar_t* __restrict__ g,
                                                       const scalar_t* __restrict__ x,
                                                       scalar_t* __restrict__ dx, int64_t numel,
                                                       const T* __restrict__ a, int m,
                                                       const T* __restrict__ b, int n,
                                                       bool vec_ok, T* __restrict__ partial) {
  R r;
  r.load(a, m, b, n);
  constexpr int kAcc = R::kCapAcc;
  T acc[kAcc];
#pragma unroll
  for (int k = 0; k < kAcc; ++k) acc[k] = T(0);
  using V = typename Vec<scalar_t>::Type;
  constexpr int kV = Vec<scalar_t>::kSize;
  constexpr int kU = unroll_for<R, scalar_t, true>();
  const int64_t tid = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  int64_t done = 0;
  if (vec_ok) {
    const int64_t nvec = numel / kV;
    const V* xv = reinterpret_cast<const V*>(x);
    const V* gv = reinterpret_cast<const V*>(g);
    V* dv = reinterpret_cast<V*>(dx);
    auto load = [&](int64_t at, V* xo, V* go) {
#pragma unroll
      for (int u = 0; u < kU; ++u) {
        const int64_t i = at + static_cast<int64_t>(u) * blockDim.x;
        if (i < nvec) {
          xo[u] = xv[i];
          go[u] = gv[i];
        }
      }
    };
    for (int64_t base = static_cast<int64_t>(blockIdx.x) * blockDim.x * kU + threadIdx.x;
         base < nvec; base += stride * kU) {
      V xin[kU];
      V gin[kU];
      load(base, xin, gin);
      if constexpr (kBwdShapes[kS].prefetch) {
#pragma unroll
        for (int u = 0; u < kU; ++u) {
          const int64_t i = base + stride * kU + static_cast<int64_t>(u) * blockDim.x;
          if (i < nvec) {
            prefetch_l2(xv + i);
            prefetch_l2(gv + i);
          }
        }
      }
#pragma unroll
      for (int u = 0; u < kU; ++u) {
        const int64_t i = base + static_cast<int64_t>(u) * blockDim.x;
        if (i < nvec) {
          T xs[kV];
          T gs[kV];
          T ds[kV];
          unpack<scalar_t>(xin[u], xs);
          unpack<scalar_t>(gin[u], gs);
          if (all_direct(r, xs)) {
#pragma unroll
            for (int j = 0; j < kV; ++j)
              ds[j] = r.template backward<kCoeffGrad, false>(xs[j], gs[j], acc);
          } else {
#pragma unroll
            for (int j = 0; j < kV; ++j)
              ds[j] = r.template backward<kCoeffGrad, true>(xs[j], gs[j], acc);
          }
          V out;
          pack<scalar_t>(ds, out);
          dv[i] = out;
        }
      }
    }
    done = nvec * kV;
  }
  for (int64_t i = done + tid; i < numel; i += stride) {
    dx[i] = static_cast<scalar_t>(
        r.template backward<kCoeffGrad>(static_cast<T>(x[i]), static_cast<T>(g[i]), acc));
  }
  if (!kCoeffGrad) return;
  // Block reduction in a fixed order: warp shuffles, then warp sums in warp order.
  constexpr int kThr = kBwdShapes[kS].threads;
  __shared__ T smem[kThr / 32][kAcc];
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
    for (int w = 0; w < kThr / 32; ++w) s += smem[w][threadIdx.x];
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

// One wave of blocks (resident blocks per SM for this kernel, times SMs), or fewer for small work
// (work counted in vectors).
template <typename K>
int grid_for(K kernel, int64_t work, int threads = kThreads) {
  int dev = 0;
  int sms = 0;
  int per_sm = 0;
  C10_CUDA_CHECK(cudaGetDevice(&dev));
  C10_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  C10_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, threads, 0));
  const int64_t want = (work + threads - 1) / threads;
  const int64_t wave = int64_t(sms) * std::max(per_sm, 1);
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(want, wave)));
}

// Calls f(std::integral_constant<int, S>{}) for the run-time shape index i (0 <= i < N).
template <int N, int S = 0, typename F>
void with_shape(int i, F&& f) {
  if constexpr (S + 1 < N) {
    if (i != S) return with_shape<N, S + 1>(i, f);
  }
  f(std::integral_constant<int, S>{});
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// Calls f(R{}) with the fast [5,4] variant when m == 5 and n == 4, else with the generic one.
template <typename T, int FORM, typename F>
void launch_variants(int m, int n, F&& f) {
  if (m == kFastM && n == kFastN) {
    f(Rational<T, FORM, kFastM, kFastN>{});
  } else {
    f(Rational<T, FORM, -1, -1>{});
  }
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
    const int64_t nvec = (numel + Vec<scalar_t>::kSize - 1) / Vec<scalar_t>::kSize;
    int grid = 0;
    static const int fwd_shape = shape_from_env("ACTFIT_CUDA_FWD_CFG", kDefaultFwd, kNumFwd);
    launch_forms<T>(f, m, n, [&](auto proto) {
      using R = decltype(proto);
      const int shape = (R::kM >= 0 && sizeof(scalar_t) == 2) ? fwd_shape : 0;
      with_shape<kNumFwd>(shape, [&](auto sc) {
        constexpr int kS = decltype(sc)::value;
        if constexpr (kS == 0 || (R::kM >= 0 && sizeof(scalar_t) == 2)) {
          constexpr int threads = kFwdShapes[kS].threads;
          grid = grid_for(fwd_kernel<scalar_t, T, R, kS>, nvec, threads);
          fwd_kernel<scalar_t, T, R, kS><<<grid, threads, 0, stream>>>(
              xc.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), numel, ac.data_ptr<T>(), m,
              bc.data_ptr<T>(), n, vec_ok);
          C10_CUDA_KERNEL_LAUNCH_CHECK();
        }
      });
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
  check_bwd_inputs(grad, x, a, b);
  const int f = parse_form(form);
  const c10::cuda::CUDAGuard guard(x.device());
  const at::Tensor gc = grad.contiguous();
  const at::Tensor xc = x.contiguous();
  const at::Tensor ac = a.contiguous();
  const at::Tensor bc = b.contiguous();
  at::Tensor dx = at::empty(x.sizes(), x.options());
  // finish_kernel writes every coefficient gradient; zeros only where nothing else will.
  const int64_t numel = x.numel();
  const bool fill = !coeff_grad || numel == 0;
  at::Tensor da = fill ? at::zeros(a.sizes(), a.options()) : at::empty(a.sizes(), a.options());
  at::Tensor db = fill ? at::zeros(b.sizes(), b.options()) : at::empty(b.sizes(), b.options());
  const int m = static_cast<int>(a.numel()) - 1;
  const int n = static_cast<int>(b.numel());
  const int nacc = m + 1 + n;
  if (numel == 0) return {dx, da, db};
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream().stream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "rational_bwd", [&] {
    using T = std::conditional_t<std::is_same_v<scalar_t, double>, double, float>;
    const bool vec_ok =
        aligned16(xc.data_ptr()) && aligned16(gc.data_ptr()) && aligned16(dx.data_ptr());
    const int64_t nvec = (numel + Vec<scalar_t>::kSize - 1) / Vec<scalar_t>::kSize;
    int grid = 0;
    at::Tensor partial;
    T* pp = nullptr;
    static const int bwd_shape = shape_from_env("ACTFIT_CUDA_BWD_CFG", kDefaultBwd, kNumBwd);
    launch_forms<T>(f, m, n, [&](auto proto) {
      using R = decltype(proto);
      const int shape = (R::kM >= 0 && sizeof(scalar_t) == 2) ? bwd_shape : 0;
      with_shape<kNumBwd>(shape, [&](auto sc) {
        constexpr int kS = decltype(sc)::value;
        if constexpr (kS == 0 || (R::kM >= 0 && sizeof(scalar_t) == 2)) {
          constexpr int threads = kBwdShapes[kS].threads;
          grid = coeff_grad ? grid_for(bwd_kernel<scalar_t, T, R, true, kS>, nvec, threads)
                            : grid_for(bwd_kernel<scalar_t, T, R, false, kS>, nvec, threads);
          if (coeff_grad) {
            partial = at::empty({grid, nacc}, a.options());
            pp = partial.data_ptr<T>();
            bwd_kernel<scalar_t, T, R, true, kS><<<grid, threads, 0, stream>>>(
                gc.data_ptr<scalar_t>(), xc.data_ptr<scalar_t>(), dx.data_ptr<scalar_t>(),
                numel, ac.data_ptr<T>(), m, bc.data_ptr<T>(), n, vec_ok, pp);
          } else {
            bwd_kernel<scalar_t, T, R, false, kS><<<grid, threads, 0, stream>>>(
                gc.data_ptr<scalar_t>(), xc.data_ptr<scalar_t>(), dx.data_ptr<scalar_t>(),
                numel, ac.data_ptr<T>(), m, bc.data_ptr<T>(), n, vec_ok, nullptr);
          }
          C10_CUDA_KERNEL_LAUNCH_CHECK();
        }
      });
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
