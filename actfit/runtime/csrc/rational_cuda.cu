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
// Per-group coefficients (ops.h, Layout): blockIdx.y is the group; its blocks run the same loops
// over the group's elements, addressed by a GroupWalk that steps from segment to segment (one
// division per thread, not per vector), and each block's sums fill its own row of partial,
// combined per group in the second pass; ungrouped launches compile the grouping away.
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
#include <limits>
#include <type_traits>

#include "ops.h"
#include "rational.h"

namespace actfit {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ void prefetch_l2(const void* p) {
  asm volatile("prefetch.global.L2 [%0];" ::"l"(p));
}
// Grid-stride addressing of group g's units (vectors or elements) i, i + step, i + 2 step, ...:
// the group's units lie in segments of `seg` units, one in every `groups` segments. A position
// is (address, offset in its segment), advanced without division; ungrouped launches do not
// use it (the address is the index).
struct GroupWalk {
  int64_t step_at;  // address change of one step within a segment row: (step / seg) rows + rest
  int64_t jump;     // extra address change when the offset wraps: one row minus one segment
  int seg, dr;      // segment length, step % seg

  __device__ __forceinline__ GroupWalk(int64_t step, int64_t seg_, int64_t groups) {
    const int64_t dq = step / seg_;
    seg = static_cast<int>(seg_);
    dr = static_cast<int>(step - dq * seg_);
    step_at = dq * groups * seg_ + dr;
    jump = (groups - 1) * seg_;
  }
  // Position of unit i of group g.
  __device__ __forceinline__ void start(int64_t i, int64_t groups, int64_t g, int64_t& at,
                                        int& e) const {
    const int64_t o = i / seg;
    e = static_cast<int>(i - o * seg);
    at = (o * groups + g) * seg + e;
  }
  __device__ __forceinline__ void advance(int64_t& at, int& e) const {
    at += step_at;
    e += dr;
    if (e >= seg) {
      e -= seg;
      at += jump;
    }
  }
};

// Where each of a thread's kU unrolled vectors lies: grouped, a GroupWalk position per slot
// (vector first + u blockDim of the group, then one grid stride on per loop step); ungrouped,
// the vector index itself, and nothing is kept.
template <bool kGrouped, int kU>
struct VecSlots {
  GroupWalk walk;
  int64_t at[kU];
  int off[kU];

  __device__ __forceinline__ VecSlots(int64_t first, int64_t step, int64_t segv, int64_t groups,
                                      int64_t g)
      : walk(kGrouped ? step : 1, kGrouped ? segv : 1, groups) {
    if constexpr (kGrouped) {
#pragma unroll
      for (int u = 0; u < kU; ++u) walk.start(first + u * blockDim.x, groups, g, at[u], off[u]);
    }
  }
  // Address of slot u's vector, whose index is i.
  __device__ __forceinline__ int64_t addr(int u, int64_t i) const {
    if constexpr (kGrouped) return at[u];
    return i;
  }
  // Address of slot u's next vector (index i), for a prefetch.
  __device__ __forceinline__ int64_t next_addr(int u, int64_t i) const {
    if constexpr (!kGrouped) return i;
    int e = off[u];
    int64_t w = at[u];
    walk.advance(w, e);
    return w;
  }
  __device__ __forceinline__ void advance(int u) {
    if constexpr (kGrouped) walk.advance(at[u], off[u]);
  }
};

// Where group g's element i lies (scalar paths only: one division).
template <bool kGrouped>
__device__ __forceinline__ int64_t element_at(int64_t i, int64_t seg, int64_t groups, int64_t g) {
  if constexpr (!kGrouped) return i;
  const int64_t o = i / seg;
  return (o * groups + g) * seg + (i - o * seg);
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

// Launch shapes: threads per block, resident blocks per SM asked of the compiler
// (__launch_bounds__), and whether the backward prefetches its next grid-stride vectors to L2.
// The half-type fast path ([5,4], compile-time degrees) takes the shapes that timed fastest on an
// H200 (benchmarks/gpu_shapes.sh, benchmarks/results/runtime-notes.md): a forward of 128-thread
// blocks, 12 per SM; a backward of 256 threads, 5 blocks per SM (48 registers), with L2 prefetch.
// Everything else: 256 threads; the float32 fast path asks for 8 (forward) and 4 (backward)
// blocks per SM, the run-time-degree kernels for none. (gpu_shapes.sh times other values by
// rewriting these four lines in a copy of the sources.)
constexpr int kHalfFwdThreads = 128;
constexpr int kHalfFwdBlocks = 12;
constexpr int kHalfBwdBlocks = 5;
constexpr bool kHalfBwdPrefetch = true;

template <typename R, typename scalar_t>
constexpr bool half_fast() {
  return R::kM >= 0 && sizeof(scalar_t) == 2;
}

template <typename R, typename scalar_t>
constexpr int fwd_threads() {
  return half_fast<R, scalar_t>() ? kHalfFwdThreads : kThreads;
}

template <typename R, typename scalar_t>
constexpr int fwd_min_blocks() {
  if (R::kM < 0) return 1;
  return sizeof(scalar_t) == 2 ? kHalfFwdBlocks : (sizeof(scalar_t) == 4 ? 8 : 1);
}

template <typename R, typename scalar_t>
constexpr int bwd_min_blocks() {
  if (R::kM < 0) return 1;
  return half_fast<R, scalar_t>() ? kHalfBwdBlocks : 4;
}

template <typename R, typename scalar_t>
constexpr bool bwd_prefetch() {
  return kHalfBwdPrefetch && half_fast<R, scalar_t>();
}

// Grouped kernels keep a segment position per unrolled vector: a third fewer resident blocks
// asked of the compiler, which leaves room for it without spills (ptxas -v, sm_90).
constexpr int grouped_blocks(int min_blocks, bool grouped) {
  return grouped && min_blocks > 1 ? (min_blocks * 2) / 3 : min_blocks;
}

// Grouped (kGrouped): numel, a and b are the whole tensors; block row blockIdx.y = g evaluates
// group g's numel / groups elements with coefficient rows a[g], b[g].
template <typename scalar_t, typename T, typename R, bool kGrouped = false>
__global__ void __launch_bounds__(
    (fwd_threads<R, scalar_t>()), (grouped_blocks(fwd_min_blocks<R, scalar_t>(), kGrouped)))
    fwd_kernel(const scalar_t* __restrict__ x, scalar_t* __restrict__ y, int64_t numel,
               const T* __restrict__ a, int m, const T* __restrict__ b, int n, bool vec_ok,
               int64_t groups = 1, int64_t seg = 1) {
  const int64_t g = kGrouped ? blockIdx.y : 0;
  if constexpr (kGrouped) {
    numel /= groups;
    a += g * (m + 1);
    b += g * n;
  }
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
    const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x * kU + threadIdx.x;
    VecSlots<kGrouped, kU> slot(first, stride * kU, seg / kV, groups, g);
    for (int64_t base = first; base < nvec; base += stride * kU) {
      V in[kU];
#pragma unroll
      for (int u = 0; u < kU; ++u) {
        const int64_t i = base + static_cast<int64_t>(u) * blockDim.x;
        if (i < nvec) in[u] = xv[slot.addr(u, i)];
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
          yv[slot.addr(u, i)] = out;
        }
        slot.advance(u);
      }
    }
    done = nvec * kV;
  }
  for (int64_t i = done + tid; i < numel; i += stride) {
    const int64_t w = element_at<kGrouped>(i, seg, groups, g);
    y[w] = static_cast<scalar_t>(r.forward(static_cast<T>(x[w])));
  }
}

template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
  return v;
}

template <typename scalar_t, typename T, typename R, bool kCoeffGrad, bool kGrouped = false>
__global__ void __launch_bounds__(kThreads,
                                  (grouped_blocks(bwd_min_blocks<R, scalar_t>(), kGrouped)))
    bwd_kernel(const scalar_t* __restrict__ g, const scalar_t* __restrict__ x,
               scalar_t* __restrict__ dx, int64_t numel, const T* __restrict__ a, int m,
               const T* __restrict__ b, int n, bool vec_ok, T* __restrict__ partial,
               int64_t groups = 1, int64_t seg = 1) {
  const int64_t grp = kGrouped ? blockIdx.y : 0;
  if constexpr (kGrouped) {
    numel /= groups;
    a += grp * (m + 1);
    b += grp * n;
  }
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
    const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x * kU + threadIdx.x;
    VecSlots<kGrouped, kU> slot(first, stride * kU, seg / kV, groups, grp);
    auto load = [&](int64_t from, V* xo, V* go) {
#pragma unroll
      for (int u = 0; u < kU; ++u) {
        const int64_t i = from + static_cast<int64_t>(u) * blockDim.x;
        if (i < nvec) {
          const int64_t w = slot.addr(u, i);
          xo[u] = xv[w];
          go[u] = gv[w];
        }
      }
    };
    for (int64_t base = first; base < nvec; base += stride * kU) {
      V xin[kU];
      V gin[kU];
      load(base, xin, gin);
      if constexpr (bwd_prefetch<R, scalar_t>()) {
#pragma unroll
        for (int u = 0; u < kU; ++u) {
          const int64_t i = base + stride * kU + static_cast<int64_t>(u) * blockDim.x;
          if (i < nvec) {
            const int64_t w = slot.next_addr(u, i);
            prefetch_l2(xv + w);
            prefetch_l2(gv + w);
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
          dv[slot.addr(u, i)] = out;
        }
        slot.advance(u);
      }
    }
    done = nvec * kV;
  }
  for (int64_t i = done + tid; i < numel; i += stride) {
    const int64_t w = element_at<kGrouped>(i, seg, groups, grp);
    dx[w] = static_cast<scalar_t>(
        r.template backward<kCoeffGrad>(static_cast<T>(x[w]), static_cast<T>(g[w]), acc));
  }
  if (!kCoeffGrad) return;
  // Block reduction in a fixed order: warp shuffles, then warp sums in warp order.
  constexpr int kThr = kThreads;
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
    const int64_t row = static_cast<int64_t>(kGrouped ? blockIdx.y : 0) * gridDim.x + blockIdx.x;
    partial[row * nacc + threadIdx.x] = s;
  }
}

// Second pass: column k of partial summed over blocks in a fixed order, in float64; grouped,
// blockIdx.y = g sums group g's nblocks rows into da[g], db[g].
template <typename T>
__global__ void finish_kernel(const T* __restrict__ partial, int nblocks, int m, int n,
                              const T* __restrict__ b, int form, T* __restrict__ da,
                              T* __restrict__ db) {
  __shared__ double s[kThreads];
  const int k = blockIdx.x;
  const int64_t grp = blockIdx.y;
  const int nacc = m + 1 + n;
  partial += grp * nblocks * nacc;
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
      da[grp * (m + 1) + k] = total;
    } else {
      db[grp * n + k - m - 1] = finish_b<T>(form, total, b[grp * n + k - m - 1]);
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

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

// The CUDA op's compile-time fast path: [5,4] (PAU's and KAT's default order).
template <typename T, typename F>
void launch_forms(int form, int m, int n, F&& f) {
  with_rational_type<T, Order<kFastM, kFastN>>(form, m, n, f);
}

// Grid of a launch: one wave in x (split between the groups), the groups in y.
template <typename K>
dim3 grid_of(K kernel, int64_t work, int threads, const Layout& lay) {
  const int64_t wave = grid_for(kernel, int64_t(1) << 40, threads);
  const int64_t want = (work + threads - 1) / threads;
  const int64_t per_group = std::max<int64_t>(1, wave / lay.groups);
  return dim3(static_cast<unsigned>(std::max<int64_t>(1, std::min(want, per_group))),
              static_cast<unsigned>(lay.groups));
}

// Grouped launches: the groups are grid rows; a segment position is an int.
void check_cuda_layout(const Layout& lay) {
  TORCH_CHECK(lay.groups <= 65535, "actfit: at most 65535 coefficient groups on CUDA, got ",
              lay.groups);
  TORCH_CHECK(lay.groups == 1 || lay.seg <= std::numeric_limits<int>::max(),
              "actfit: grouped input rows of at most 2^31 - 1 elements on CUDA, got ", lay.seg);
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
  const int m = static_cast<int>(a.size(-1)) - 1;
  const int n = static_cast<int>(b.size(-1));
  const int64_t numel = x.numel();
  if (numel == 0) return y;
  const Layout lay = layout_of(x, a);
  const bool grouped = lay.groups > 1;
  check_cuda_layout(lay);
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream().stream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "rational_fwd", [&] {
    using T = std::conditional_t<std::is_same_v<scalar_t, double>, double, float>;
    constexpr int kV = Vec<scalar_t>::kSize;
    const bool vec_ok = aligned16(xc.data_ptr()) && aligned16(y.data_ptr()) &&
                        (!grouped || lay.seg % kV == 0);
    const int64_t nvec = (lay.per_group + kV - 1) / kV;
    launch_forms<T>(f, m, n, [&](auto proto) {
      using R = decltype(proto);
      constexpr int threads = fwd_threads<R, scalar_t>();
      const scalar_t* xp = xc.data_ptr<scalar_t>();
      scalar_t* yp = y.data_ptr<scalar_t>();
      const T* ap = ac.data_ptr<T>();
      const T* bp = bc.data_ptr<T>();
      if (!grouped) {
        const int grid = grid_for(fwd_kernel<scalar_t, T, R>, nvec, threads);
        fwd_kernel<scalar_t, T, R><<<grid, threads, 0, stream>>>(xp, yp, numel, ap, m, bp, n,
                                                                 vec_ok);
      } else {
        const dim3 grid = grid_of(fwd_kernel<scalar_t, T, R, true>, nvec, threads, lay);
        fwd_kernel<scalar_t, T, R, true><<<grid, threads, 0, stream>>>(
            xp, yp, numel, ap, m, bp, n, vec_ok, lay.groups, lay.seg);
      }
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
  const int m = static_cast<int>(a.size(-1)) - 1;
  const int n = static_cast<int>(b.size(-1));
  const int nacc = m + 1 + n;
  if (numel == 0) return {dx, da, db};
  const Layout lay = layout_of(x, a);
  const bool grouped = lay.groups > 1;
  check_cuda_layout(lay);
  const cudaStream_t stream = c10::cuda::getCurrentCUDAStream().stream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "rational_bwd", [&] {
    using T = std::conditional_t<std::is_same_v<scalar_t, double>, double, float>;
    constexpr int kV = Vec<scalar_t>::kSize;
    const bool vec_ok = aligned16(xc.data_ptr()) && aligned16(gc.data_ptr()) &&
                        aligned16(dx.data_ptr()) && (!grouped || lay.seg % kV == 0);
    const int64_t nvec = (lay.per_group + kV - 1) / kV;
    dim3 grid;
    at::Tensor partial;
    T* pp = nullptr;
    launch_forms<T>(f, m, n, [&](auto proto) {
      using R = decltype(proto);
      // Calls kernel<kCoeffGrad, kGrouped> of this launch's variant.
      auto run = [&](auto kernel) {
        grid = grouped ? grid_of(kernel, nvec, kThreads, lay)
                       : dim3(static_cast<unsigned>(grid_for(kernel, nvec, kThreads)));
        if (coeff_grad) {
          partial = at::empty({int64_t(grid.x) * grid.y, nacc}, a.options());
          pp = partial.data_ptr<T>();
        }
        kernel<<<grid, kThreads, 0, stream>>>(gc.data_ptr<scalar_t>(), xc.data_ptr<scalar_t>(),
                                              dx.data_ptr<scalar_t>(), numel, ac.data_ptr<T>(), m,
                                              bc.data_ptr<T>(), n, vec_ok, pp, lay.groups,
                                              lay.seg);
        C10_CUDA_KERNEL_LAUNCH_CHECK();
      };
      if (grouped) {
        if (coeff_grad) run(bwd_kernel<scalar_t, T, R, true, true>);
        else run(bwd_kernel<scalar_t, T, R, false, true>);
      } else {
        if (coeff_grad) run(bwd_kernel<scalar_t, T, R, true>);
        else run(bwd_kernel<scalar_t, T, R, false>);
      }
    });
    if (coeff_grad) {
      finish_kernel<T><<<dim3(nacc, grid.y), kThreads, 0, stream>>>(
          pp, static_cast<int>(grid.x), m, n, bc.data_ptr<T>(), f, da.data_ptr<T>(),
          db.data_ptr<T>());
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
