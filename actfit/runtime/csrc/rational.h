// Per-element math of a rational activation y = P(x) / Q(x), shared by the host C++ compiler (the
// CPU op, OpenMP) and nvcc (the CUDA op): both backends run this very arithmetic.
//
//   P(x) = a0 + a1 x + ... + am x^m
//   plain: Q(x) = 1 + b1 x + ... + bn x^n
//   safe:  Q(x) = 1 + |b1| |x| + ... + |bn| |x|^n      (PAU / rational_activations "version A")
//   abs:   Q(x) = 1 + |b1 x + ... + bn x^n|            (version B, KAT)
//
// Overflow: for |x| > thr the polynomials are evaluated in t = 1/x, where
// thr = 2^floor(64 / max(m, n)) (Rational::thr: below it every power of x the direct Horner sums
// form stays under 2^64, far from overflow, so typical inputs never take the slower branch),
//   P(x) = x^m  Pt(t),   Pt(t) = sum_k a_k t^(m-k)
//   Q(x) = X^n  Qt(t),   X = x (plain) or |x| (safe, abs)
// so y = s * x^(m-n) * Pt(t) / Qt(t) with s = sign(x)^n for safe/abs, and every intermediate is as
// large as the result, never larger: a finite input gives a finite output wherever the float64
// value is finite in the compute type. Qt(0) is the leading denominator coefficient, so the
// denominator is trimmed to its effective degree ne (highest non-zero b_k) first.
//
// Gradients: dy/da_k = x^k / Q = w_k; dy/db_k = -y * dQ/db_k / Q with dQ/db_k / Q equal to
// w_k (plain), sign(b_k) |w_k| (safe) and sign(D) w_k (abs, D = b1 x + ... + bn x^n). sign(D) at
// D = 0 is 0, as in torch.sign and the gradient of torch.abs; the safe form's sign(b_k) is +1 at
// b_k = 0 (a subgradient, see finish_b), so that exact zeros in a table can train. The kernels accumulate
//   A_k = sum g w_k,   B_k = sum h u_k,   h = -g y (times sign(D) for abs), u_k = w_k or |w_k|
// and the sign(b_k) of the safe form is applied once, when the partial sums are combined.
//
// Template degrees MC, NC >= 0 give compile-time fast paths (fully unrolled, register arrays; the
// caller guarantees m == MC and n == NC). The direct branch runs with the full degree NC (a zero
// top coefficient only adds exact zero terms); the 1/x branch always uses the effective degree
// ne, so a table whose top denominator coefficient is 0 (effectively [5,3]) keeps the fast path.
// -1 means run-time degrees up to kMaxDegree.
//
// kMaxDegree comes from the build (-DACTFIT_MAX_DEGREE, actfit.runtime._build.RUNTIME_MAX_DEGREE);
// the default below is the same number, for builds outside actfit (a test checks they agree).
#pragma once

#include <cmath>

#if defined(__CUDACC__)
#define ACTFIT_HD __host__ __device__ __forceinline__
// Fully unrolled loops for the compile-time degrees, plain loops for run-time ones (nvcc would
// otherwise unroll 17 predicated steps everywhere: slow builds, spills).
#define ACTFIT_UNROLL _Pragma("unroll kUnroll")
#else
#define ACTFIT_HD inline __attribute__((always_inline))
#define ACTFIT_UNROLL
#endif

namespace actfit {

#ifndef ACTFIT_MAX_DEGREE
#define ACTFIT_MAX_DEGREE 16
#endif
constexpr int kMaxDegree = ACTFIT_MAX_DEGREE;

enum Form : int { kPlain = 0, kSafe = 1, kAbs = 2 };

// |v| and sign-copy through the math library, which compiles to operand modifiers and bit
// operations on both backends (a compare-and-select does not).
template <typename T>
ACTFIT_HD T abs_(T v) {
#if defined(__CUDA_ARCH__)
  if constexpr (sizeof(T) == 4) return fabsf(v);
  return fabs(v);
#else
  return std::fabs(v);
#endif
}

template <typename T>
ACTFIT_HD T copysign_(T mag, T sgn) {
#if defined(__CUDA_ARCH__)
  if constexpr (sizeof(T) == 4) return copysignf(mag, sgn);
  return copysign(mag, sgn);
#else
  return std::copysign(mag, sgn);
#endif
}

// 1/v correctly rounded; on the GPU without the general division's slow path for float.
template <typename T>
ACTFIT_HD T rcp_(T v) {
#if defined(__CUDA_ARCH__)
  if constexpr (sizeof(T) == 4) return __frcp_rn(v);
#endif
  return T(1) / v;
}

// 1/v for the direct branch, where v is a denominator Q(x) with |x| <= thr. On the GPU a single
// MUFU.RCP (rcp.approx.ftz, <= 1 ulp) instead of the correctly rounded sequence with its slow-path
// check: the per-element instruction count bounds the half-precision kernels. Q is 1 or more in
// the safe form; for plain/abs a subnormal Q (a pole) gives Inf, as 1/Q would overflow anyway.
template <typename T>
ACTFIT_HD T rcp_direct_(T v) {
#if defined(__CUDA_ARCH__)
  if constexpr (sizeof(T) == 4) {
    float r;
    asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(v));
    return r;
  }
#endif
  return T(1) / v;
}

// sign(v) as torch.sign: 0 for 0 (and NaN).
template <typename T>
ACTFIT_HD T sign_(T v) {
  return (v < T(0) || v > T(0)) ? copysign_(T(1), v) : T(0);
}

// Effective degree of the denominator: the highest k with b_k != 0 (0 if none).
template <typename T>
ACTFIT_HD int effective_degree(const T* b, int n) {
  int ne = 0;
  for (int k = 1; k <= n; ++k) {
    if (b[k - 1] != T(0)) ne = k;
  }
  return ne;
}

template <typename T, int FORM, int MC, int NC>
struct Rational {
  using Scalar = T;
  static constexpr int kCapA = (MC >= 0 ? MC : kMaxDegree) + 1;
  static constexpr int kCapB = (NC >= 0 ? NC : kMaxDegree) + 1;
  static constexpr int kCapW = kCapA > kCapB ? kCapA : kCapB;
  // Accumulators of the backward pass: A_0..A_m then B_1..B_n.
  static constexpr int kCapAcc = kCapA + kCapB - 1;
  static constexpr int kM = MC;
  static constexpr int kN = NC;
  static constexpr int kUnroll = (MC >= 0 && NC >= 0) ? 64 : 1;

  int m_rt, n_rt, ne_rt;  // run-time degrees (used where MC/NC < 0)
  // Direct evaluation for |x| <= thr = 2^floor(64 / max(m, n)): every power of x stays below
  // 2^64, far from overflow, and typical inputs never take the (slower) 1/x branch.
  T thr;
  T a[kCapA];             // a_k
  T b[kCapB];             // b_k, or |b_k| for safe (index 0 unused)

  ACTFIT_HD int m() const { return MC >= 0 ? MC : m_rt; }
  ACTFIT_HD int n() const { return NC >= 0 ? NC : n_rt; }
  ACTFIT_HD int ne() const { return NC >= 0 ? NC : ne_rt; }  // the direct branch's degree
  ACTFIT_HD int num_acc() const { return m() + 1 + n(); }

  // raw_a: m+1 numerator coefficients; raw_b: n denominator coefficients b1..bn (ascending).
  ACTFIT_HD void load(const T* raw_a, int m, const T* raw_b, int n) {
    m_rt = m;
    n_rt = n;
    ne_rt = effective_degree(raw_b, n);
    const int kk = m > n ? m : n;
    thr = T(1);
    for (int j = 0; j < (kk > 0 ? 64 / kk : 64); ++j) thr *= T(2);
ACTFIT_UNROLL
    for (int k = 0; k < kCapA; ++k) {
      const T v = k <= m ? raw_a[k] : T(0);
      a[k] = v;
    }
    b[0] = T(1);
ACTFIT_UNROLL
    for (int k = 1; k < kCapB; ++k) {
      T v = k <= n ? raw_b[k - 1] : T(0);
      if (FORM == kSafe) v = abs_(v);
      b[k] = v;
    }
  }

  // Shared core: Horner sums in z = x (|x| <= thr) or z = 1/x (|x| > thr).
  struct Core {
    T y;       // P/Q
    T dydx;    // dP/Q - y dQ/Q
    T invq;    // 1/Q (|x| <= thr) or 1/Qt (|x| > thr)
    T sadj;    // sign(x)^ne for safe/abs in the 1/x branch, else 1
    T sgn_d;   // sign(D) for abs
    T t;       // 1/x (|x| > thr)
    bool big;  // |x| > thr: the 1/x branch
  };

  ACTFIT_HD Core core(T x) const { return abs_(x) > thr ? core_impl<true>(x) : core_impl<false>(x); }

  template <bool big>
  ACTFIT_HD Core core_impl(T x) const {
    const int mm = m();
    const int nn = big ? ne_rt : ne();
    Core c;
    c.big = big;
    const T t = big ? rcp_(x) : T(0);
    c.t = t;
    const T z = big ? t : x;
    const T w = FORM == kSafe ? abs_(z) : z;

    T p, pd, s, hd;
    T e0 = T(1);
    if constexpr (!big && MC >= 0 && NC >= 0) {
      // Direct branch, compile-time degrees: P, P' and Q (plain, safe) or D (abs), with their
      // derivative in w, by joint Horner steps from the top coefficient (dP = dP z + P;
      // P = P z + a_k). No k a_k tables: fewer live registers, which bound the occupancy of the
      // half-type backward.
      p = a[mm];
      pd = T(0);
ACTFIT_UNROLL
      for (int j = 1; j < kCapA; ++j) {
        if (MC >= 0 || j <= mm) {
          pd = j == 1 ? p : pd * z + p;
          p = p * z + a[mm - j];
        }
      }
      // Q = 1 + sum b_k w^k (b[0] = 1), or D = sum b_k x^k for abs (no constant term).
      s = FORM == kAbs ? T(0) : T(1);
      hd = T(0);
      if (nn > 0) {
        s = b[nn];
ACTFIT_UNROLL
        for (int j = 1; j < kCapB - 1; ++j) {
          if (NC >= 0 || j < nn) {
            hd = j == 1 ? s : hd * w + s;
            s = s * w + b[nn - j];
          }
        }
        // Last step apart: a select around a multiply-add would keep the host compiler from
        // contracting it, and D's sign at its roots depends on that rounding.
        hd = nn == 1 ? s : hd * w + s;
        s = FORM == kAbs ? s * w : s * w + T(1);
      }
    } else {
      // Run-time degrees, and the 1/x branch: coefficients from the top (|x| <= thr) or bottom
      // (1/x); the k a_k and k b_k of the derivative sums formed on the fly.
      p = big ? a[0] : a[mm];
ACTFIT_UNROLL
      for (int j = 1; j < kCapA; ++j) {
        if (MC >= 0 || j <= mm) p = p * z + (big ? a[j] : a[mm - j]);
      }
      pd = T(0);
      if (mm > 0) {
        pd = big ? a[1] : T(mm) * a[mm];
ACTFIT_UNROLL
        for (int j = 1; j < kCapA - 1; ++j) {
          if (MC >= 0 || j < mm) {
            pd = pd * z + (big ? T(j + 1) * a[j + 1] : T(mm - j) * a[mm - j]);
          }
        }
      }
      // Denominator sum H = sum_k b_k w^(k-1) (direct) or sum_k b_k w^(ne-k) (1/x), its
      // counterpart with k b_k, and Qt's leading term w^ne (plain, safe) or |t|^ne (abs).
      T h = T(0);
      hd = T(0);
      if (nn > 0) {
        h = big ? b[1] : b[nn];
        hd = big ? b[1] : T(nn) * b[nn];
ACTFIT_UNROLL
        for (int j = 1; j < kCapB - 1; ++j) {
          if (j < nn) {
            h = h * w + (big ? b[j + 1] : b[nn - j]);
            hd = hd * w + (big ? T(j + 1) * b[j + 1] : T(nn - j) * b[nn - j]);
          }
        }
      }
      if (big) {
        const T we = FORM == kAbs ? abs_(t) : w;
ACTFIT_UNROLL
        for (int j = 1; j < kCapB; ++j) {
          if (j <= nn) e0 *= we;
        }
      }
      s = big ? h : w * h;  // D (plain/abs) or the safe sum, scaled in the 1/x branch
      s = (big || FORM == kAbs) ? s : T(1) + s;  // Q itself for direct plain/safe
    }
    const T q = big ? e0 + (FORM == kAbs ? abs_(s) : s) : (FORM == kAbs ? T(1) + abs_(s) : s);
    const T invq = big ? rcp_(q) : rcp_direct_(q);
    T sadj = T(1);
    if (FORM != kPlain && big && (nn & 1) && x < T(0)) sadj = T(-1);
    c.sadj = sadj;
    c.sgn_d = FORM == kAbs ? (big ? sadj * sign_(s) : sign_(s)) : T(1);
    c.invq = invq;

    // dQ/dx / Q: direct: H' (plain), sign(x) H' (safe), sign(D) H' (abs), over Q; 1/x branch:
    // t Rt / Qt with Rt = H' (plain, safe) or sign(Dt) H' (abs).
    T zq = big ? T(1) : (FORM == kSafe ? sign_(x) : T(1));
    if (FORM == kAbs) zq *= sign_(s);
    const T r = p * invq;
    T y = r;
    T dydx = (pd - r * zq * hd) * invq;
    if (big) {
      // y = F r, dy/dx = (F/x) (P't - r Rt) / Qt with F = sign(x)^ne x^(m-ne) (safe, abs) or
      // x^(m-ne) (plain): the power is applied last, one factor at a time, so that it overflows
      // only where the result does.
      y *= sadj;
      dydx *= sadj * t;
      const int d = mm - nn;
ACTFIT_UNROLL
      for (int j = 1; j < kCapA; ++j) {
        if (j <= d) {
          y *= x;
          dydx *= x;
        }
      }
ACTFIT_UNROLL
      for (int j = 1; j < kCapB; ++j) {
        if (j <= -d) {
          y *= t;
          dydx *= t;
        }
      }
    }
    c.y = y;
    c.dydx = dydx;
    return c;
  }

  ACTFIT_HD T forward(T x) const { return core(x).y; }
  // For inputs known to satisfy |x| <= thr (the CPU checks a block of lanes at once).
  ACTFIT_HD T forward_direct(T x) const { return core_impl<false>(x).y; }

  // Gradient in x, and the per-coefficient contributions added to acc (A_0..A_m, B_1..B_n).
  // acc: anything indexable by k (a register array, or one lane of a lane-major block).
  template <bool kCoeffGrad, bool kMaybeBig = true, typename Acc>
  ACTFIT_HD T backward(T x, T g, Acc&& acc) const {
    const Core c = kMaybeBig ? core(x) : core_impl<false>(x);
    if (kCoeffGrad) {
      const int mm = m();
      const int nb = n();
      const int nn = c.big ? ne_rt : ne();
      const int kk = mm > nb ? mm : nb;
      // Basis w_k = x^k / Q.
      T wk[kCapW];
      if (c.big) {
        // From w_ne = x^ne / Q down by factors t and up by factors x (neither over- nor
        // underflows where the w_k fit the type). Compile-time indices with run-time
        // predicates, so that wk stays in registers in the unrolled fast paths.
        T run = c.sadj * c.invq;
ACTFIT_UNROLL
        for (int k = kCapW - 1; k >= 0; --k) {
          if (k <= nn) {
            wk[k] = run;
            run *= c.t;
          }
        }
ACTFIT_UNROLL
        for (int k = 1; k < kCapW; ++k) {
          if (k > nn && k <= kk) wk[k] = wk[k - 1] * x;
        }
      } else {
        wk[0] = c.invq;
ACTFIT_UNROLL
        for (int k = 1; k < kCapW; ++k) {
          if ((MC >= 0 && NC >= 0) || k <= kk) wk[k] = wk[k - 1] * x;
        }
      }
ACTFIT_UNROLL
      for (int k = 0; k < kCapA; ++k) {
        if (MC >= 0 || k <= mm) acc[k] += g * wk[k];
      }
      const T hh = -g * c.y * c.sgn_d;
ACTFIT_UNROLL
      for (int k = 1; k < kCapB; ++k) {
        if (NC >= 0 || k <= nb) acc[mm + k] += hh * (FORM == kSafe ? abs_(wk[k]) : wk[k]);
      }
    }
    return g * c.dydx;
  }
};

// Host-side dispatch, shared by the CPU and CUDA ops: calls f(Rational<T, FORM, MC, NC>{}) for
// the run-time form, with the first compile-time order Order<MC, NC> of the list that equals
// (m, n) (exact for any coefficient values, a zero top denominator coefficient included), else
// the generic run-time-degree type. f loads or launches with that type.
template <int MC, int NC>
struct Order {
  static constexpr int kM = MC;
  static constexpr int kN = NC;
};

template <typename T, int FORM, typename F>
void with_order(int, int, F&& f) {
  f(Rational<T, FORM, -1, -1>{});
}

template <typename T, int FORM, typename O, typename... Os, typename F>
void with_order(int m, int n, F&& f) {
  if (m == O::kM && n == O::kN) {
    f(Rational<T, FORM, O::kM, O::kN>{});
  } else {
    with_order<T, FORM, Os...>(m, n, f);
  }
}

template <typename T, typename... Orders, typename F>
void with_rational_type(int form, int m, int n, F&& f) {
  switch (form) {
    case kPlain:
      with_order<T, kPlain, Orders...>(m, n, f);
      break;
    case kSafe:
      with_order<T, kSafe, Orders...>(m, n, f);
      break;
    default:
      with_order<T, kAbs, Orders...>(m, n, f);
      break;
  }
}

// Combine a coefficient-gradient sum into the gradient of b_k (safe form: times d|b_k|/db_k).
// At b_k = 0 (also -0.0) the subgradient d|b|/db := +1 is used, not sign(0) = 0: a table that
// delivers an exact zero (gelu's safe lsq b4) would otherwise never let that coefficient train.
// +1 is the derivative from the right, an element of the subdifferential [-1, 1]; the loss then
// moves b_k off 0 when it wants |b_k| larger, and b_k dithers around 0 (as a coefficient crossing
// 0 does anyway) when it wants |b_k| smaller. The pure-torch reference uses the same convention.
template <typename T>
ACTFIT_HD T finish_b(int form, T sum, T bk) {
  return form == kSafe ? (bk < T(0) ? -sum : sum) : sum;
}

}  // namespace actfit
