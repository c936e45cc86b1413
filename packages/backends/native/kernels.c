// Native CPU kernels for tfjs-diffusion: 2-D convolution (forward, filter and input gradients)
// and batched matrix products on float32 NHWC tensors, as im2col + SGEMM (Chellapilla et al.,
// "High Performance Convolutional Neural Networks for Document Processing", 2006) on OpenBLAS or,
// for the convolutions' narrow products on CPUs with AVX-512F, on our own register-tiled SGEMM
// (with direct convolutions that need no im2col buffer, and Winograd F(4x4, 3x3) / F(2x2, 3x3) for
// 3x3 stride-1 layers);
// plus Sum over contiguous axes, the strided row copies of Concat and SplitV, Sigmoid, and
// GroupNorm fused with its scale, shift and SiLU.
//
// Every function works in place on the Float32Arrays it is given (views of the wasm heap or of the
// cpu backend's arrays): nothing is copied in or out. Shapes come as one Int32Array of parameters
// and are checked against the arrays' lengths before anything is read or written.
//
// Built by native/build.mjs (gcc -O3 -shared -fPIC ...); loaded by src/native-kernels.ts, which
// then calls load() with the OpenBLAS library names to try: OpenBLAS is opened at run time
// (dlopen), so the addon builds without it and says clearly when it is missing, and so that its
// CPU kernel choice can be set first (OpenBLAS 0.3.21 takes AMD Zen 4/5 for Haswell, AVX2, while
// its SkylakeX AVX-512 kernels run 1.8x faster there).
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <node_api.h>
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

// CBLAS constants (cblas.h, identical in every implementation).
enum { CblasRowMajor = 101 };
enum { CblasNoTrans = 111, CblasTrans = 112 };
typedef void (*SgemmFunction)(int order, int transpose_a, int transpose_b, int m, int n, int k, float alpha, const float* a, int lda,
                              const float* b, int ldb, float beta, float* c, int ldc);
static SgemmFunction blas_sgemm = NULL;
static void (*blas_set_threads)(int) = NULL;
static int (*blas_get_threads)(void) = NULL;
static char* (*blas_config)(void) = NULL;
static char* (*blas_corename)(void) = NULL;
static void* blas_library = NULL;

#define cblas_sgemm blas_sgemm

// Our own loops, compiled for several x86-64 ISAs and picked at load time.
#if defined(__x86_64__) && !defined(NO_TARGET_CLONES)
#define VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VECTOR_CLONES
#endif

#define MAX_ARGS 10
// Floats of the im2col buffer per SGEMM call (default 512 KiB, so that it stays in a core's L2 cache
// between im2col writing it and SGEMM packing it); setChunk() changes it for measurements.
static int64_t column_chunk_floats = 1 << 17;

// Threads of our own kernels for the calling (JavaScript) thread: setThreads sets it, 1 in each worker.
static __thread int kernel_threads = 1;
// Work (multiply-adds, or elements for the copies and the softmax) below which a kernel stays on the
// calling thread: a parallel region costs a thread wake-up, and far more when the other cores are
// busy (another process, a test runner's other file): then the region waits until the OS runs its
// second thread. At 32 M multiply-adds (~0.2 ms on one core) that wait is paid rarely and amortised.
#define PARALLEL_MIN_MACS (1LL << 25)
#define PARALLEL_MIN_ELEMENTS (1LL << 21)
static int threads_for(int64_t work, int64_t minimum) { return work >= minimum ? kernel_threads : 1; }

// One workspace per thread (each Node worker runs its own kernels).
static __thread float* workspace = NULL;
static __thread size_t workspace_floats = 0;

static float* get_workspace(size_t floats) {
  if (floats <= workspace_floats) return workspace;
  free(workspace);
  workspace = (float*)aligned_alloc(64, ((floats * sizeof(float) + 63) / 64) * 64);
  workspace_floats = workspace == NULL ? 0 : floats;
  return workspace;
}

static void free_workspace(void* unused) {
  (void)unused;
  free(workspace);
  workspace = NULL;
  workspace_floats = 0;
}


// target[C, R] = source[R, C]^T (source rows `stride` apart) in blocks of 64 source rows x 8 source columns: the 8 target rows a
// block writes are usually 4 KiB apart (one L1 set), so only 8 of them at a time fit the cache's
// ways; blocks shared among the kernel threads. A copy: the same values whatever the order.
static void transpose_into(const float* source, int64_t rows, int64_t columns, int64_t stride, float* target) {
  const int threads = threads_for(rows * columns, PARALLEL_MIN_ELEMENTS);
  const int64_t row_blocks = (rows + 63) / 64;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (int64_t block = 0; block < row_blocks; block += 1) {
    const int64_t r0 = block * 64, r1 = r0 + 64 < rows ? r0 + 64 : rows;
    for (int64_t c0 = 0; c0 < columns; c0 += 8) {
      const int64_t c1 = c0 + 8 < columns ? c0 + 8 : columns;
      for (int64_t r = r0; r < r1; r += 1)
        for (int64_t c = c0; c < c1; c += 1) target[c * rows + r] = source[r * stride + c];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// AVX-512 SGEMM for the convolutions' narrow products (N = Cout or Cin, a multiple of 16): register
// tiles of MR rows x NV*16 columns (Goto & van de Geijn, "Anatomy of high-performance matrix
// multiplication", 2008), B read in place (the filter is already [K, N] row-major). On an AMD Zen 5
// core this runs at 250-265 GFLOP/s on the U-Net's shapes, against 110-125 for OpenBLAS 0.3.21's
// Haswell kernels and 190-205 for its SkylakeX ones. Picked at run time when the CPU has AVX-512F.
#if defined(__x86_64__) && !defined(NO_TARGET_CLONES)
#include <immintrin.h>
#define HAVE_AVX512_GEMM 1
// C[M,N] = (beta ? C : 0) + A[M,K] B[K,N]; row-major; register tiles over N % 16 == 0 columns.
#define DEFINE_NN(NV, MR) \
__attribute__((target("avx512f"), always_inline)) static inline void nn_tile_body_##NV##_##MR(int64_t mr, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, int beta) { \
  __m512 acc[MR][NV]; \
  _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) acc[i][j] = _mm512_setzero_ps(); \
  for (int64_t p = 0; p < k; p++) { \
    __m512 bv[NV]; \
    _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) bv[j] = _mm512_loadu_ps(b + p * ldb + 16 * j); \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) { \
      if (i < mr) { __m512 av = _mm512_set1_ps(a[i * lda + p]); \
      _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) acc[i][j] = _mm512_fmadd_ps(av, bv[j], acc[i][j]); } \
    } \
  } \
  _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) if (i < mr) _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) { \
    float* out = c + i * ldc + 16 * j; \
    _mm512_storeu_ps(out, beta ? _mm512_add_ps(_mm512_loadu_ps(out), acc[i][j]) : acc[i][j]); } \
} \
/* full tiles get mr as the constant MR, so the row checks compile away */ \
__attribute__((target("avx512f"), noinline)) static void nn_tile_##NV##_##MR(int64_t mr, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, int beta) { \
  if (mr == MR) nn_tile_body_##NV##_##MR(MR, k, a, lda, b, ldb, c, ldc, beta); \
  else nn_tile_body_##NV##_##MR(mr, k, a, lda, b, ldb, c, ldc, beta); \
}
DEFINE_NN(4, 6)
DEFINE_NN(3, 8)
DEFINE_NN(2, 12)
DEFINE_NN(1, 24)
// The last n % 16 columns: one masked vector per row, same order of operations as the full tiles.
#define NN_TAIL_ROWS 24
__attribute__((target("avx512f"))) static inline void nn_tile_tail(int64_t mr, int64_t k, __mmask16 mask, const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, int beta) {
  __m512 acc[NN_TAIL_ROWS];
  _Pragma("GCC unroll 24") for (int i = 0; i < NN_TAIL_ROWS; i++) acc[i] = _mm512_setzero_ps();
  for (int64_t p = 0; p < k; p++) {
    const __m512 bv = _mm512_maskz_loadu_ps(mask, b + p * ldb);
    _Pragma("GCC unroll 24") for (int i = 0; i < NN_TAIL_ROWS; i++) {
      if (i < mr) acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(a[i * lda + p]), bv, acc[i]);
    }
  }
  _Pragma("GCC unroll 24") for (int i = 0; i < NN_TAIL_ROWS; i++) if (i < mr) {
    float* out = c + i * ldc;
    _mm512_mask_storeu_ps(out, mask, beta ? _mm512_add_ps(_mm512_maskz_loadu_ps(mask, out), acc[i]) : acc[i]);
  }
}

// Every row of C is computed by the same sequence of FMAs (p = 0 .. k-1, in order) whatever m and
// the row's position: a row's result does not depend on the other rows of the product.
// Narrow products (N <= 4, e.g. a convolution to 1 or 2 output channels): each C[i, j] as a dot
// product of row i of A with column j of B (packed contiguous), 16 lanes over k, the lanes then
// added in a fixed tree; the same operations for every row whatever m.
#define NARROW_COLUMNS 4
__attribute__((target("avx512f"))) static void gemm_nn_narrow(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, int beta, float* packed) {
  transpose_into(b, k, n, ldb, packed);
  const int64_t whole = k - k % 16;
  const __mmask16 rest = (__mmask16)((1u << (k - whole)) - 1);
  for (int64_t i = 0; i < m; i++) {
    const float* row = a + i * lda;
    for (int64_t j = 0; j < n; j++) {
      const float* column = packed + j * k;
      __m512 acc = _mm512_setzero_ps();
      for (int64_t p = 0; p < whole; p += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(row + p), _mm512_loadu_ps(column + p), acc);
      if (rest) acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(rest, row + whole), _mm512_maskz_loadu_ps(rest, column + whole), acc);
      const float value = _mm512_reduce_add_ps(acc);
      c[i * ldc + j] = beta ? c[i * ldc + j] + value : value;
    }
  }
}
__attribute__((target("avx512f"))) static void gemm_nn_avx512(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, int beta) {
  if (n <= NARROW_COLUMNS && k >= 64) {
    float packed[NARROW_COLUMNS * 4096];
    if (k <= 4096) {
      gemm_nn_narrow(m, n, k, a, lda, b, ldb, c, ldc, beta, packed);
      return;
    }
  }
  const int64_t full = n - n % 16;
  // Row tiles shared out among the kernel threads when the product is large enough to pay for it.
  const int threads = threads_for(m * n * k, PARALLEL_MIN_MACS);
  if (full < n) {
    const __mmask16 mask = (__mmask16)((1u << (n - full)) - 1);
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
    for (int64_t i0 = 0; i0 < m; i0 += NN_TAIL_ROWS) {
      const int64_t rows = m - i0 < NN_TAIL_ROWS ? m - i0 : NN_TAIL_ROWS;
      nn_tile_tail(rows, k, mask, a + i0 * lda, lda, b + full, ldb, c + i0 * ldc + full, ldc, beta);
    }
  }
  // Column blocks of 64 (the last one 16, 32 or 48 wide), each swept by row tiles; every (block,
  // tile) pair is one work item of a single parallel region (a region per column block cost more
  // than it saved on attention's 1024 x 1024 x 64 products: 16 fork/joins per product), in column
  // order so that each thread keeps to its own blocks' columns of b while it sweeps the rows.
  const int64_t wide_blocks = full / 64, rest_nv = (full % 64) / 16;
  const int64_t rest_mr = rest_nv == 3 ? 8 : rest_nv == 2 ? 12 : 24;
  const int64_t wide_tiles = (m + 5) / 6, rest_tiles = rest_nv > 0 ? (m + rest_mr - 1) / rest_mr : 0;
  const int64_t items = wide_blocks * wide_tiles + rest_tiles;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (int64_t item = 0; item < items; item++) {
    const int64_t in_wide = item < wide_blocks * wide_tiles;
    const int64_t nv = in_wide ? 4 : rest_nv, mr = in_wide ? 6 : rest_mr;
    const int64_t j0 = in_wide ? (item / wide_tiles) * 64 : wide_blocks * 64;
    const int64_t i0 = (in_wide ? item % wide_tiles : item - wide_blocks * wide_tiles) * mr;
    const int64_t rows = m - i0 < mr ? m - i0 : mr;
    const float* at = a + i0 * lda; const float* bt = b + j0; float* ct = c + i0 * ldc + j0;
    switch (nv) { case 4: nn_tile_4_6(rows, k, at, lda, bt, ldb, ct, ldc, beta); break; case 3: nn_tile_3_8(rows, k, at, lda, bt, ldb, ct, ldc, beta); break;
      case 2: nn_tile_2_12(rows, k, at, lda, bt, ldb, ct, ldc, beta); break; default: nn_tile_1_24(rows, k, at, lda, bt, ldb, ct, ldc, beta); }
  }
}
// C[K,N] = (beta ? C : 0) + A[M,K]^T B[M,N]; row-major; N % 16 == 0.
#define DEFINE_TN(NV, KR) \
__attribute__((target("avx512f"))) static inline void tn_tile_##NV##_##KR(int64_t kr, int64_t m, const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, int beta) { \
  __m512 acc[KR][NV]; \
  _Pragma("GCC unroll 16") for (int i = 0; i < KR; i++) _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) acc[i][j] = _mm512_setzero_ps(); \
  for (int64_t p = 0; p < m; p++) { \
    __m512 bv[NV]; \
    _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) bv[j] = _mm512_loadu_ps(b + p * ldb + 16 * j); \
    _Pragma("GCC unroll 16") for (int i = 0; i < KR; i++) { \
      if (i < kr) { __m512 av = _mm512_set1_ps(a[p * lda + i]); \
      _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) acc[i][j] = _mm512_fmadd_ps(av, bv[j], acc[i][j]); } \
    } \
  } \
  _Pragma("GCC unroll 16") for (int i = 0; i < KR; i++) if (i < kr) _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) { \
    float* out = c + i * ldc + 16 * j; \
    _mm512_storeu_ps(out, beta ? _mm512_add_ps(_mm512_loadu_ps(out), acc[i][j]) : acc[i][j]); } \
}
DEFINE_TN(4, 6)
DEFINE_TN(3, 8)
DEFINE_TN(2, 12)
DEFINE_TN(1, 24)
__attribute__((target("avx512f"))) static void gemm_tn_avx512(int64_t kdim, int64_t n, int64_t m, const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, int beta) {
  for (int64_t j0 = 0; j0 < n; ) {
    int64_t nv = (n - j0) / 16; if (nv > 4) nv = 4;
    int64_t kr = nv == 4 ? 6 : nv == 3 ? 8 : nv == 2 ? 12 : 24;
    for (int64_t i0 = 0; i0 < kdim; i0 += kr) {
      int64_t rows = kdim - i0 < kr ? kdim - i0 : kr;
      const float* at = a + i0; const float* bt = b + j0; float* ct = c + i0 * ldc + j0;
      switch (nv) { case 4: tn_tile_4_6(rows, m, at, lda, bt, ldb, ct, ldc, beta); break; case 3: tn_tile_3_8(rows, m, at, lda, bt, ldb, ct, ldc, beta); break;
        case 2: tn_tile_2_12(rows, m, at, lda, bt, ldb, ct, ldc, beta); break; default: tn_tile_1_24(rows, m, at, lda, bt, ldb, ct, ldc, beta); }
    }
    j0 += 16 * nv;
  }
}

// Direct convolution (no im2col buffer) for NHWC inputs with Cout % 16 == 0: register tiles like
// gemm_nn's (14 rows rather than 12 for 32 columns: 28 accumulators, 2 filter vectors and embedded
// broadcasts fill the 32 registers; 5-8 % faster on the U-Net's 32-channel convolutions), whose row i of A is the im2col row of output pixel i read in place: for every filter tap
// the Cin input values of the pixel it reads (contiguous in NHWC), or a row of zeros where the window
// leaves the input. The FMAs run in im2col's order (tap by tap, Cin within a tap), so the results are
// the bits the im2col path gives, without writing and re-reading kh*kw copies of the input.
#define DIRECT_MAX_TAPS 49
#define DIRECT_MAX_CIN 8192
static const float direct_zeros[DIRECT_MAX_CIN] __attribute__((aligned(64)));
#define DEFINE_DIRECT(NV, MR) \
__attribute__((target("avx512f"), always_inline)) static inline void direct_tile_##NV##_##MR(int64_t mr, int64_t taps, int64_t cin, const float* const* rows, const float* b, int64_t ldb, float* c, int64_t ldc, const float* bias, const float* residual, int resume) { \
  __m512 acc[MR][NV]; \
  _Pragma("GCC unroll 24") for (int i = 0; i < MR; i++) _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) \
    acc[i][j] = resume && i < mr ? _mm512_loadu_ps(c + i * ldc + 16 * j) : _mm512_setzero_ps(); \
  for (int64_t t = 0; t < taps; t++) { \
    const float* r[MR]; \
    _Pragma("GCC unroll 24") for (int i = 0; i < MR; i++) r[i] = rows[t * MR + i]; \
    const float* bt = b + t * cin * ldb; \
    for (int64_t p = 0; p < cin; p++) { \
      __m512 bv[NV]; \
      _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) bv[j] = _mm512_loadu_ps(bt + p * ldb + 16 * j); \
      _Pragma("GCC unroll 24") for (int i = 0; i < MR; i++) { \
        if (i < mr) { __m512 av = _mm512_set1_ps(r[i][p]); \
        _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) acc[i][j] = _mm512_fmadd_ps(av, bv[j], acc[i][j]); } \
      } \
    } \
  } \
  _Pragma("GCC unroll 24") for (int i = 0; i < MR; i++) if (i < mr) _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) { \
    __m512 v = acc[i][j]; \
    if (bias != NULL) v = _mm512_add_ps(v, _mm512_loadu_ps(bias + 16 * j)); \
    if (residual != NULL) v = _mm512_add_ps(v, _mm512_loadu_ps(residual + i * ldc + 16 * j)); \
    _mm512_storeu_ps(c + i * ldc + 16 * j, v); } \
} \
/* full tiles: mr is the constant MR, so the row checks compile away */ \
__attribute__((target("avx512f"), noinline)) static void direct_full_##NV##_##MR(int64_t taps, int64_t cin, const float* const* rows, const float* b, int64_t ldb, float* c, int64_t ldc, const float* bias, const float* residual, int resume) { \
  direct_tile_##NV##_##MR(MR, taps, cin, rows, b, ldb, c, ldc, bias, residual, resume); \
} \
__attribute__((target("avx512f"), noinline)) static void direct_part_##NV##_##MR(int64_t mr, int64_t taps, int64_t cin, const float* const* rows, const float* b, int64_t ldb, float* c, int64_t ldc, const float* bias, const float* residual, int resume) { \
  direct_tile_##NV##_##MR(mr, taps, cin, rows, b, ldb, c, ldc, bias, residual, resume); \
}
DEFINE_DIRECT(4, 6)
DEFINE_DIRECT(3, 8)
DEFINE_DIRECT(2, 14)
DEFINE_DIRECT(1, 24)
// The register tile for 16 nv output channels (nv 1-4; its row count is 24, 14, 8 or 6): the full
// tile's code when `count` rows fill it, else the one with row checks (the same FMAs per row).
static void direct_tile(int64_t nv, int64_t count, int64_t mr, int64_t taps, int64_t cin, const float* const* rows, const float* b, int64_t ldb, float* c, int64_t ldc,
                        const float* bias, const float* residual, int resume) {
  if (count == mr) {
    switch (nv) {
      case 4: direct_full_4_6(taps, cin, rows, b, ldb, c, ldc, bias, residual, resume); break;
      case 3: direct_full_3_8(taps, cin, rows, b, ldb, c, ldc, bias, residual, resume); break;
      case 2: direct_full_2_14(taps, cin, rows, b, ldb, c, ldc, bias, residual, resume); break;
      default: direct_full_1_24(taps, cin, rows, b, ldb, c, ldc, bias, residual, resume);
    }
  } else {
    switch (nv) {
      case 4: direct_part_4_6(count, taps, cin, rows, b, ldb, c, ldc, bias, residual, resume); break;
      case 3: direct_part_3_8(count, taps, cin, rows, b, ldb, c, ldc, bias, residual, resume); break;
      case 2: direct_part_2_14(count, taps, cin, rows, b, ldb, c, ldc, bias, residual, resume); break;
      default: direct_part_1_24(count, taps, cin, rows, b, ldb, c, ldc, bias, residual, resume);
    }
  }
}
#endif

static int own_gemm = 0;  // 1 when the CPU has AVX-512F (and useOwnGemm did not turn it off)

// C[M,N] = beta C + A[M,K] B[K,N], row-major.
static void gemm_nn(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, int beta) {
#ifdef HAVE_AVX512_GEMM
  if (own_gemm && n > 0) {
    gemm_nn_avx512(m, n, k, a, lda, b, ldb, c, ldc, beta);
    return;
  }
#endif
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0f, a, (int)lda, b, (int)ldb, beta ? 1.0f : 0.0f, c, (int)ldc);
}

// C[K,N] = beta C + A[M,K]^T B[M,N], row-major.
static void gemm_tn(int64_t kdim, int64_t n, int64_t m, const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, int beta) {
#ifdef HAVE_AVX512_GEMM
  if (own_gemm && n % 16 == 0 && n > 0) {
    gemm_tn_avx512(kdim, n, m, a, lda, b, ldb, c, ldc, beta);
    return;
  }
#endif
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)kdim, (int)n, (int)m, 1.0f, a, (int)lda, b, (int)ldb, beta ? 1.0f : 0.0f, c, (int)ldc);
}

// ---------------------------------------------------------------------------------------------
// Argument helpers

typedef struct {
  napi_env env;
  size_t argc;
  napi_value argv[MAX_ARGS];
  int failed;
} Call;

static int fail(Call* call, const char* message) {
  if (!call->failed) napi_throw_error(call->env, NULL, message);
  call->failed = 1;
  return 0;
}

static int blas_ready(Call* call) {
  if (blas_library == NULL) return fail(call, "tfjs-diffusion native: OpenBLAS is not loaded (call load first)");
  return 1;
}

static int start(Call* call, napi_env env, napi_callback_info info, size_t expected) {
  call->env = env;
  call->argc = MAX_ARGS;
  call->failed = 0;
  if (napi_get_cb_info(env, info, &call->argc, call->argv, NULL, NULL) != napi_ok) return fail(call, "tfjs-diffusion native: bad call");
  if (call->argc < expected) return fail(call, "tfjs-diffusion native: too few arguments");
  return 1;
}

// A Float32Array argument (or null/undefined when optional) and its length in elements.
static float* float_array(Call* call, size_t index, size_t* length, int optional) {
  napi_valuetype type;
  *length = 0;
  if (call->failed) return NULL;
  if (napi_typeof(call->env, call->argv[index], &type) != napi_ok) return fail(call, "tfjs-diffusion native: bad argument"), NULL;
  if (optional && (type == napi_null || type == napi_undefined)) return NULL;
  bool is_typed = false;
  napi_is_typedarray(call->env, call->argv[index], &is_typed);
  if (!is_typed) return fail(call, "tfjs-diffusion native: expected a Float32Array"), NULL;
  napi_typedarray_type array_type;
  void* data;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(call->env, call->argv[index], &array_type, length, &data, &buffer, &offset) != napi_ok ||
      array_type != napi_float32_array) {
    return fail(call, "tfjs-diffusion native: expected a Float32Array"), NULL;
  }
  return (float*)data;
}

static int32_t* int_array(Call* call, size_t index, size_t minimum) {
  if (call->failed) return NULL;
  napi_typedarray_type array_type;
  size_t length;
  void* data;
  napi_value buffer;
  size_t offset;
  bool is_typed = false;
  napi_is_typedarray(call->env, call->argv[index], &is_typed);
  if (!is_typed || napi_get_typedarray_info(call->env, call->argv[index], &array_type, &length, &data, &buffer, &offset) != napi_ok ||
      array_type != napi_int32_array || length < minimum) {
    return fail(call, "tfjs-diffusion native: expected an Int32Array of parameters"), NULL;
  }
  return (int32_t*)data;
}

static napi_value undefined_value(napi_env env) {
  napi_value result;
  napi_get_undefined(env, &result);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Convolution geometry

typedef struct {
  int64_t batch, in_height, in_width, in_channels;
  int64_t filter_height, filter_width, out_channels;
  int64_t out_height, out_width;
  int64_t stride_height, stride_width, pad_top, pad_left, dilation_height, dilation_width;
} Geometry;

// params: B, H, W, Cin, kh, kw, Cout, Ho, Wo, sh, sw, padTop, padLeft, dh, dw
static int read_geometry(Call* call, size_t index, Geometry* g) {
  int32_t* p = int_array(call, index, 15);
  if (p == NULL) return 0;
  g->batch = p[0]; g->in_height = p[1]; g->in_width = p[2]; g->in_channels = p[3];
  g->filter_height = p[4]; g->filter_width = p[5]; g->out_channels = p[6];
  g->out_height = p[7]; g->out_width = p[8];
  g->stride_height = p[9]; g->stride_width = p[10]; g->pad_top = p[11]; g->pad_left = p[12];
  g->dilation_height = p[13]; g->dilation_width = p[14];
  for (int i = 0; i < 15; i += 1) {
    if (p[i] < 0) return fail(call, "tfjs-diffusion native: negative convolution parameter");
  }
  if (g->stride_height < 1 || g->stride_width < 1 || g->dilation_height < 1 || g->dilation_width < 1) {
    return fail(call, "tfjs-diffusion native: strides and dilations must be >= 1");
  }
  return 1;
}

static int is_pointwise(const Geometry* g) {
  return g->filter_height == 1 && g->filter_width == 1 && g->stride_height == 1 && g->stride_width == 1 &&
         g->pad_top == 0 && g->pad_left == 0 && g->out_height == g->in_height && g->out_width == g->in_width;
}

static int64_t chunk_rows(int64_t rows, int64_t columns) {
  int64_t chunk = column_chunk_floats / (columns > 0 ? columns : 1);
  if (chunk < 64) chunk = 64;
  return chunk < rows ? chunk : rows;
}

// 1. im2col: row r = (b, i, j) of the output holds the kh * kw * Cin input values its filter
//    window reads, in the filter's [kh, kw, Cin] order, zeros where the window leaves the input.
static void im2col(const Geometry* g, const float* x, float* columns, int64_t first_row, int64_t rows) {
  const int64_t cin = g->in_channels;
  const int64_t width = g->filter_width;
  const int64_t k = g->filter_height * width * cin;
  const int64_t per_image = g->out_height * g->out_width;
  for (int64_t r = 0; r < rows; r += 1) {
    const int64_t row = first_row + r;
    const int64_t b = row / per_image;
    const int64_t i = (row % per_image) / g->out_width;
    const int64_t j = row % g->out_width;
    float* target = columns + r * k;
    const float* image = x + b * g->in_height * g->in_width * cin;
    for (int64_t p = 0; p < g->filter_height; p += 1) {
      const int64_t ih = i * g->stride_height - g->pad_top + p * g->dilation_height;
      float* tap = target + p * width * cin;
      if (ih < 0 || ih >= g->in_height) {
        memset(tap, 0, (size_t)(width * cin) * sizeof(float));
        continue;
      }
      const int64_t iw0 = j * g->stride_width - g->pad_left;
      if (g->dilation_width == 1 && iw0 >= 0 && iw0 + width <= g->in_width) {
        memcpy(tap, image + (ih * g->in_width + iw0) * cin, (size_t)(width * cin) * sizeof(float));
        continue;
      }
      for (int64_t q = 0; q < width; q += 1) {
        const int64_t iw = iw0 + q * g->dilation_width;
        if (iw < 0 || iw >= g->in_width) memset(tap + q * cin, 0, (size_t)cin * sizeof(float));
        else memcpy(tap + q * cin, image + (ih * g->in_width + iw) * cin, (size_t)cin * sizeof(float));
      }
    }
  }
}

VECTOR_CLONES
static void add_into(float* restrict target, const float* restrict source, int64_t count) {
  for (int64_t c = 0; c < count; c += 1) target[c] += source[c];
}

// 2. col2im: the transpose of im2col, adding every column value back to the input pixel it came from.
static void col2im(const Geometry* g, const float* columns, float* dx, int64_t first_row, int64_t rows) {
  const int64_t cin = g->in_channels;
  const int64_t width = g->filter_width;
  const int64_t k = g->filter_height * width * cin;
  const int64_t per_image = g->out_height * g->out_width;
  for (int64_t r = 0; r < rows; r += 1) {
    const int64_t row = first_row + r;
    const int64_t b = row / per_image;
    const int64_t i = (row % per_image) / g->out_width;
    const int64_t j = row % g->out_width;
    const float* source = columns + r * k;
    float* image = dx + b * g->in_height * g->in_width * cin;
    for (int64_t p = 0; p < g->filter_height; p += 1) {
      const int64_t ih = i * g->stride_height - g->pad_top + p * g->dilation_height;
      if (ih < 0 || ih >= g->in_height) continue;
      const float* tap = source + p * width * cin;
      const int64_t iw0 = j * g->stride_width - g->pad_left;
      if (g->dilation_width == 1 && iw0 >= 0 && iw0 + width <= g->in_width) {
        add_into(image + (ih * g->in_width + iw0) * cin, tap, width * cin);
        continue;
      }
      for (int64_t q = 0; q < width; q += 1) {
        const int64_t iw = iw0 + q * g->dilation_width;
        if (iw >= 0 && iw < g->in_width) add_into(image + (ih * g->in_width + iw) * cin, tap + q * cin, cin);
      }
    }
  }
}

VECTOR_CLONES
static void bias_and_activation(float* restrict out, const float* restrict bias, int64_t rows, int64_t channels, int activation) {
  for (int64_t r = 0; r < rows; r += 1) {
    float* row = out + r * channels;
    if (bias != NULL) {
      for (int64_t c = 0; c < channels; c += 1) row[c] += bias[c];
    }
    if (activation == 1) {
      for (int64_t c = 0; c < channels; c += 1) row[c] = row[c] > 0.0f ? row[c] : 0.0f;
    } else if (activation == 2) {
      for (int64_t c = 0; c < channels; c += 1) row[c] = row[c] < 0.0f ? 0.0f : (row[c] > 6.0f ? 6.0f : row[c]);
    }
  }
}

// Bytes of filter a block of taps may hold (of a core's 1 MiB L2 on current x86 server cores); setDirectBlock changes it.
static int64_t direct_filter_block_bytes = 384 * 1024;
static int direct_convolution = 1;  // 0: the forward convolutions always go through im2col (setDirect)

// The input offset (in floats, from its image's start) that filter tap t of output pixel r reads,
// table[r * taps + t], or -1 where the window leaves the input: the same for every image, computed
// once per call so that the tiles only look their pointers up (no division or bounds test per
// pixel and tap). NULL when out of memory.
static int64_t* tap_offsets(const Geometry* g) {
  const int64_t taps = g->filter_height * g->filter_width;
  int64_t* table = (int64_t*)malloc((size_t)(g->out_height * g->out_width * taps) * sizeof(int64_t));
  if (table == NULL) return NULL;
  int64_t* entry = table;
  for (int64_t i = 0; i < g->out_height; i += 1) {
    for (int64_t j = 0; j < g->out_width; j += 1) {
      for (int64_t p = 0; p < g->filter_height; p += 1) {
        const int64_t ih = i * g->stride_height - g->pad_top + p * g->dilation_height;
        for (int64_t q = 0; q < g->filter_width; q += 1) {
          const int64_t iw = j * g->stride_width - g->pad_left + q * g->dilation_width;
          *entry++ = ih >= 0 && ih < g->in_height && iw >= 0 && iw < g->in_width ? (ih * g->in_width + iw) * g->in_channels : -1;
        }
      }
    }
  }
  return table;
}

#ifdef HAVE_AVX512_GEMM
// 3a. Direct forward convolution (Cout % 16 == 0): tiles of mr output pixels of one image (a tile
//     never spans two images); for each, the tap rows of its pixels (the input pixel each filter tap
//     reads, or zeros), then the register tile over 16*nv output channels. The tiles are shared out
//     among the calling thread's kernel threads; each is computed the same way whichever thread runs
//     it, so the results do not depend on the thread count either.
__attribute__((target("avx512f"))) static void conv_forward_direct(const Geometry* g, const float* x, const float* filter, const float* bias, const float* residual, float* out, const int64_t* offsets) {
  const int64_t cin = g->in_channels, n = g->out_channels;
  const int64_t taps = g->filter_height * g->filter_width;
  const int64_t per_image = g->out_height * g->out_width;
  const int64_t in_image = g->in_height * g->in_width * cin;
  const int threads = threads_for(g->batch * per_image * taps * cin * n, PARALLEL_MIN_MACS);
  for (int64_t j0 = 0; j0 < n; ) {
    int64_t nv = (n - j0) / 16; if (nv > 4) nv = 4;
    const int64_t mr = nv == 4 ? 6 : nv == 3 ? 8 : nv == 2 ? 14 : 24;
    const int64_t tiles_per_image = (per_image + mr - 1) / mr;
    const int64_t tiles = g->batch * tiles_per_image;
    // K blocked by whole taps so that a block of the filter (taps x Cin x 16 nv floats) stays in L2
    // while every tile streams it; a tile resumes its sums from the stored partial ones, which
    // keeps the order of its FMAs (and so its bits) whatever the blocking.
    int64_t chunk = direct_filter_block_bytes / (cin * 64 * nv);
    if (chunk < 1) chunk = 1;
    for (int64_t t0 = 0; t0 < taps; t0 += chunk) {
    const int64_t chunk_taps = taps - t0 < chunk ? taps - t0 : chunk;
    const int resume = t0 > 0, last = t0 + chunk_taps == taps;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && tiles > 1)
    for (int64_t tile = 0; tile < tiles; tile += 1) {
      const float* rows[DIRECT_MAX_TAPS * 24];
      const int64_t b = tile / tiles_per_image;
      const int64_t first = (tile % tiles_per_image) * mr;
      const int64_t count = per_image - first < mr ? per_image - first : mr;
      const float* image = x + b * in_image;
      for (int64_t r = 0; r < mr; r += 1) {
        const int64_t* pixel = offsets + (first + (r < count ? r : 0)) * taps;
        for (int64_t t = 0; t < taps; t += 1) rows[t * mr + r] = r < count && pixel[t] >= 0 ? image + pixel[t] : direct_zeros;
      }
      if (first + mr < per_image) {
        // the next tile's input pixels under the filter's last column, the ones this tile did not read,
        // prefetched into L1 (the input comes from L3 at batch 16: +4-8 % on the U-Net's 32x32 layers)
        const int64_t next = first + mr;
        const int64_t count_next = per_image - next < mr ? per_image - next : mr;
        for (int64_t r = 0; r < count_next; r += 1) {
          const int64_t* pixel = offsets + (next + r) * taps;
          for (int64_t p = 1; p <= g->filter_height; p += 1) {
            const int64_t offset = pixel[p * g->filter_width - 1];
            if (offset < 0) continue;
            const char* line = (const char*)(image + offset);
            for (int64_t byte = 0; byte < cin * 4; byte += 64) _mm_prefetch(line + byte, _MM_HINT_T0);
          }
        }
      }
      const float* bt = filter + t0 * cin * n + j0;
      const float* const* chunk_rows = rows + t0 * mr;
      float* c = out + (b * per_image + first) * n + j0;
      const float* tile_bias = bias == NULL || !last ? NULL : bias + j0;
      const float* tile_residual = residual == NULL || !last ? NULL : residual + (b * per_image + first) * n + j0;
      direct_tile(nv, count, mr, chunk_taps, cin, chunk_rows, bt, n, c, n, tile_bias, tile_residual, resume);
    }
    }
    j0 += 16 * nv;
  }
}
#endif

#ifdef HAVE_AVX512_GEMM
// 3b. Direct forward convolution to Cout <= 4 channels (the U-Net's output convolution) with
//     Cin % 16 == 0: per output pixel and channel, the dot product of its im2col row, read in place
//     tap by tap (zeros where the window leaves the input), with the packed filter column, 16 lanes
//     at a time in im2col's order, then the lanes added by _mm512_reduce_add_ps: the bits of
//     gemm_nn_narrow on the im2col buffer. NARROW_PIXELS pixels at a time, one FMA chain each.
#define NARROW_PIXELS 8
__attribute__((target("avx512f"))) static void conv_forward_narrow_direct(const Geometry* g, const float* x, const float* filter, float* out, float* packed, const int64_t* offsets) {
  const int64_t cin = g->in_channels, n = g->out_channels;
  const int64_t taps = g->filter_height * g->filter_width;
  const int64_t k = taps * cin;
  const int64_t per_image = g->out_height * g->out_width;
  const int64_t in_image = g->in_height * g->in_width * cin;
  transpose_into(filter, k, n, n, packed);
  const int64_t pixels = g->batch * per_image;
  const int threads = threads_for(pixels * k * n, PARALLEL_MIN_MACS);
  const int64_t groups = (pixels + NARROW_PIXELS - 1) / NARROW_PIXELS;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (int64_t group = 0; group < groups; group += 1) {
    const int64_t first = group * NARROW_PIXELS;
    const int64_t count = pixels - first < NARROW_PIXELS ? pixels - first : NARROW_PIXELS;
    const float* tap_rows[DIRECT_MAX_TAPS][NARROW_PIXELS];
    for (int64_t r = 0; r < NARROW_PIXELS; r += 1) {
      const int64_t row = first + (r < count ? r : 0);
      const float* image = x + (row / per_image) * in_image;
      const int64_t* pixel = offsets + (row % per_image) * taps;
      for (int64_t t = 0; t < taps; t += 1) tap_rows[t][r] = pixel[t] >= 0 ? image + pixel[t] : direct_zeros;
    }
    for (int64_t j = 0; j < n; j++) {
      const float* column = packed + j * k;
      __m512 acc[NARROW_PIXELS];
      _Pragma("GCC unroll 8") for (int r = 0; r < NARROW_PIXELS; r++) acc[r] = _mm512_setzero_ps();
      for (int64_t t = 0; t < taps; t++) {
        const float* weights = column + t * cin;
        for (int64_t c = 0; c < cin; c += 16) {
          const __m512 w = _mm512_loadu_ps(weights + c);
          _Pragma("GCC unroll 8") for (int r = 0; r < NARROW_PIXELS; r++) acc[r] = _mm512_fmadd_ps(_mm512_loadu_ps(tap_rows[t][r] + c), w, acc[r]);
        }
      }
      for (int64_t r = 0; r < count; r++) out[(first + r) * n + j] = _mm512_reduce_add_ps(acc[r]);
    }
  }
}
#endif

#ifdef HAVE_AVX512_GEMM
// 3c. Winograd forward convolution F(m x m, 3x3), m = 2 or 4 (Lavin & Gray, "Fast Algorithms for
//     Convolutional Neural Networks", CVPR 2016, eq. 7-8 and section 4.2's F(4x4, 3x3) matrices),
//     for 3x3 stride-1 undilated convolutions with Cin % 16 == 0 and Cout % 16 == 0:
//     Y = A^T [(G g G^T) . (B^T d B)] A for each m x m output tile d of (m + 2)^2 input pixels,
//     (m + 2)^2 multiplications per input/output channel pair instead of 9 m^2 (16 instead of 36 for
//     F(2x2), 36 instead of 144 for F(4x4)). The products over Cin of the (m + 2)^2 transformed
//     elements are that many small matrix products, on the direct convolution's register tiles (the
//     tile rows are transformed input tiles, read in place). Results are within float32 rounding of
//     the direct convolution (not the same bits; setWinograd(false) turns this off).
//     Each output tile is computed the same way whatever the batch, the block of tiles it falls in
//     and the thread that runs it, so an image's result depends on neither the rest of its batch nor
//     the thread count; the choice of m depends only on the geometry, never on the batch.
static int winograd_convolution = 1;  // 0: 3x3 convolutions use the direct (or im2col) path (setWinograd)
#define WINOGRAD_MAX_FILTER_FLOATS (1LL << 26)

// Tiles per block: the block's transformed inputs ((m + 2)^2 x tiles x Cin floats) about 256 KiB,
// so that they and the products stay in L2 while the transformed filter streams by. Wide layers
// (Cin Cout > 128 x 128) take at least 128 tiles: each block streams the whole transformed filter
// ((m + 2)^2 Cin Cout floats, 5-38 MiB for ADM's 192-768 channels) from memory, which at 24 tiles
// a block cost more than the products (ImageNet-64's 64x64x192 layer ran no faster on 2 threads
// than on 1); their transformed inputs then live in L3, read once per 64 output channels.
static int64_t winograd_block_tiles(int64_t cin, int64_t cout, int64_t elements) {
  int64_t tiles = 65536 / (elements * cin);
  tiles = tiles < 24 ? 24 : tiles > 168 ? 168 : tiles;
  return cin * cout > 128 * 128 && tiles < 128 ? 128 : tiles;
}

// The distance between two transformed elements' matrices: a whole number of cache lines plus one,
// so that the matrices of a tile do not all fall in the same L1 set (power-of-two strides do).
static int64_t winograd_stride(int64_t floats) { return (floats + 15) / 16 * 16 + 16; }

// One thread's tile buffers for blocks of `block` tiles: the transformed inputs V (elements
// matrices of block x Cin) and the products M (elements matrices of block x 64 output channels).
static int64_t winograd_buffer_floats(int64_t block, int64_t cin, int64_t elements) {
  return elements * (winograd_stride(block * cin) + winograd_stride(block * 64));
}

// The output tile size m for this geometry (4 or 2), or 0 when the direct path is to run: F(4x4)
// from 4 tiles of 4x4 per image (5x5 outputs and up) when the transformed filter is small (Cin Cout
// <= 128 x 128: the U-Net's 8x8 layers gain 1.1x over F(2x2), and batch 1 still gains) and from 64
// (32x32 outputs and up) when it is large (ADM's 384-768 channels: transforming the filter costs
// more than it saves on small images at batch 1); F(2x2) from 16 tiles of 2x2 per image (7x7 and up);
// smaller images stay direct.
static int winograd_tile_size(const Geometry* g) {
  if (!(winograd_convolution && own_gemm && g->filter_height == 3 && g->filter_width == 3 && g->stride_height == 1 && g->stride_width == 1 &&
        g->dilation_height == 1 && g->dilation_width == 1 && g->in_channels % 16 == 0 && g->in_channels <= DIRECT_MAX_CIN &&
        g->out_channels % 16 == 0)) {
    return 0;
  }
  const int64_t pairs = g->in_channels * g->out_channels;
  const int64_t tiles4 = ((g->out_height + 3) / 4) * ((g->out_width + 3) / 4), tiles2 = ((g->out_height + 1) / 2) * ((g->out_width + 1) / 2);
  // (the transformed filter is kept to 256 MiB: beyond, the direct path, which needs no copy of it)
  if (tiles4 >= (pairs <= 128 * 128 ? 4 : 64) && 36 * pairs <= WINOGRAD_MAX_FILTER_FLOATS) return 4;
  return tiles2 >= 16 && 16 * pairs <= WINOGRAD_MAX_FILTER_FLOATS ? 2 : 0;
}

// 1. U[xi][ci][co] = (G g G^T)[xi] for every filter g = w[:, :, ci, co] (HWIO), 16 output channels at a time.
//    F(2x2): G rows g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2.
//    F(4x4): G rows g0 / 4, -(g0 + g1 + g2) / 6, -(g0 - g1 + g2) / 6, g0 / 24 + g1 / 12 + g2 / 6,
//            g0 / 24 - g1 / 12 + g2 / 6, g2.
__attribute__((target("avx512f"))) static inline void winograd_filter_rows(int m, __m512 g0, __m512 g1, __m512 g2, __m512* rows) {
  if (m == 2) {
    const __m512 half = _mm512_set1_ps(0.5f), outer = _mm512_add_ps(g0, g2);
    rows[0] = g0;
    rows[1] = _mm512_mul_ps(_mm512_add_ps(outer, g1), half);
    rows[2] = _mm512_mul_ps(_mm512_sub_ps(outer, g1), half);
    rows[3] = g2;
  } else {
    const __m512 sixth = _mm512_set1_ps(-1.0f / 6.0f), outer = _mm512_add_ps(g0, g2);
    const __m512 far = _mm512_fmadd_ps(g0, _mm512_set1_ps(1.0f / 24.0f), _mm512_mul_ps(g2, _mm512_set1_ps(1.0f / 6.0f)));
    const __m512 middle = _mm512_mul_ps(g1, _mm512_set1_ps(1.0f / 12.0f));
    rows[0] = _mm512_mul_ps(g0, _mm512_set1_ps(0.25f));
    rows[1] = _mm512_mul_ps(_mm512_add_ps(outer, g1), sixth);
    rows[2] = _mm512_mul_ps(_mm512_sub_ps(outer, g1), sixth);
    rows[3] = _mm512_add_ps(far, middle);
    rows[4] = _mm512_sub_ps(far, middle);
    rows[5] = g2;
  }
}
__attribute__((target("avx512f"))) static void winograd_filter(int m, const float* filter, int64_t cin, int64_t cout, float* u, int threads) {
  const int alpha = m + 2;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (int64_t ci = 0; ci < cin; ci++) {
    for (int64_t co = 0; co < cout; co += 16) {
      __m512 w[3][3], gw[6][3];
      for (int p = 0; p < 3; p++)
        for (int q = 0; q < 3; q++) w[p][q] = _mm512_loadu_ps(filter + ((p * 3 + q) * cin + ci) * cout + co);
      for (int q = 0; q < 3; q++) {  // G g, column by column
        __m512 column[6];
        winograd_filter_rows(m, w[0][q], w[1][q], w[2][q], column);
        for (int r = 0; r < alpha; r++) gw[r][q] = column[r];
      }
      for (int r = 0; r < alpha; r++) {  // (G g) G^T, row by row
        __m512 row[6];
        winograd_filter_rows(m, gw[r][0], gw[r][1], gw[r][2], row);
        for (int c = 0; c < alpha; c++) _mm512_storeu_ps(u + ((r * alpha + c) * cin + ci) * cout + co, row[c]);
      }
    }
  }
}

// 2. B^T applied to alpha input vectors d[0..alpha), into t[0..alpha).
//    F(2x2): d0 - d2, d1 + d2, d2 - d1, d1 - d3.
//    F(4x4): 4 d0 - 5 d2 + d4, (d4 - 4 d2) + (d3 - 4 d1), (d4 - 4 d2) - (d3 - 4 d1),
//            (d4 - d2) + 2 (d3 - d1), (d4 - d2) - 2 (d3 - d1), 4 d1 - 5 d3 + d5.
__attribute__((target("avx512f"))) static inline void winograd_input_rows(int m, const __m512* d, __m512* t) {
  if (m == 2) {
    t[0] = _mm512_sub_ps(d[0], d[2]);
    t[1] = _mm512_add_ps(d[1], d[2]);
    t[2] = _mm512_sub_ps(d[2], d[1]);
    t[3] = _mm512_sub_ps(d[1], d[3]);
  } else {
    const __m512 four = _mm512_set1_ps(4.0f), five = _mm512_set1_ps(5.0f), two = _mm512_set1_ps(2.0f);
    const __m512 a = _mm512_fnmadd_ps(four, d[2], d[4]), b = _mm512_fnmadd_ps(four, d[1], d[3]);
    const __m512 c = _mm512_sub_ps(d[4], d[2]), e = _mm512_sub_ps(d[3], d[1]);
    t[0] = _mm512_fnmadd_ps(five, d[2], _mm512_fmadd_ps(four, d[0], d[4]));
    t[1] = _mm512_add_ps(a, b);
    t[2] = _mm512_sub_ps(a, b);
    t[3] = _mm512_fmadd_ps(two, e, c);
    t[4] = _mm512_fnmadd_ps(two, e, c);
    t[5] = _mm512_fnmadd_ps(five, d[3], _mm512_fmadd_ps(four, d[1], d[5]));
  }
}

// 4. A^T applied to alpha vectors: F(2x2): m0 + m1 + m2, m1 - m2 - m3;
//    F(4x4): m0 + s + s', d + 2 d', s + 4 s', d + 8 d' + m5 with s = m1 + m2, d = m1 - m2, s' = m3 + m4, d' = m3 - m4.
__attribute__((target("avx512f"))) static inline void winograd_output_rows(int m, const __m512* v, __m512* y) {
  if (m == 2) {
    y[0] = _mm512_add_ps(_mm512_add_ps(v[0], v[1]), v[2]);
    y[1] = _mm512_sub_ps(_mm512_sub_ps(v[1], v[2]), v[3]);
  } else {
    const __m512 s = _mm512_add_ps(v[1], v[2]), d = _mm512_sub_ps(v[1], v[2]);
    const __m512 s2 = _mm512_add_ps(v[3], v[4]), d2 = _mm512_sub_ps(v[3], v[4]);
    y[0] = _mm512_add_ps(_mm512_add_ps(v[0], s), s2);
    y[1] = _mm512_fmadd_ps(_mm512_set1_ps(2.0f), d2, d);
    y[2] = _mm512_fmadd_ps(_mm512_set1_ps(4.0f), s2, s);
    y[3] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(8.0f), d2, d), v[5]);
  }
}

__attribute__((target("avx512f"))) static void winograd_convolution_tiles(int m, const Geometry* g, const float* x, const float* u, const float* bias, const float* residual, float* out, float* buffers, int threads) {
  const int alpha = m + 2, elements = alpha * alpha;
  const int64_t cin = g->in_channels, cout = g->out_channels;
  const int64_t tiles_high = (g->out_height + m - 1) / m, tiles_wide = (g->out_width + m - 1) / m;
  const int64_t per_image = tiles_high * tiles_wide, tiles = g->batch * per_image;
  const int64_t block = winograd_block_tiles(cin, cout, elements);
  const int64_t blocks = (tiles + block - 1) / block;
  const int64_t v_stride = winograd_stride(block * cin), m_stride = winograd_stride(block * 64);
  const int64_t buffer_floats = winograd_buffer_floats(block, cin, elements);
  // Work items: blocks of tiles, each for a group of output channels. With few blocks for the
  // threads (a large image's deep layers at batch 1: 1-3 blocks) the channels are split too, each
  // item transforming its block's input again (Cin work against its group's Cin x Cout / groups).
  // A channel's sums are computed alike in any group, so the bits do not depend on the split.
  int64_t column_groups = 1;
  if (threads > 1 && blocks < 4 * threads) {
    column_groups = (4 * threads + blocks - 1) / blocks;
    if (column_groups > cout / 64) column_groups = cout / 64 > 0 ? cout / 64 : 1;
  }
  const int64_t group_width = (cout / 16 + column_groups - 1) / column_groups * 16;
  const int64_t items = blocks * column_groups;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && items > 1)
  for (int64_t item = 0; item < items; item++) {
    const int64_t block_index = item / column_groups, first_column = (item % column_groups) * group_width;
    const int64_t end_column = first_column + group_width < cout ? first_column + group_width : cout;
#ifdef _OPENMP
    float* v = buffers + omp_get_thread_num() * buffer_floats;
#else
    float* v = buffers;
#endif
    float* products = v + elements * v_stride;
    const int64_t first_tile = block_index * block;
    const int64_t count = tiles - first_tile < block ? tiles - first_tile : block;
    // 2. V[xi][t][ci] = (B^T d B)[xi] for each input tile d (alpha x alpha pixels from (m ti - pad, m tj - pad); zeros outside)
    for (int64_t t = 0; t < count; t++) {
      const int64_t tile = first_tile + t, image = tile / per_image, ti = (tile % per_image) / tiles_wide, tj = tile % tiles_wide;
      const float* pixels[6][6];
      for (int r = 0; r < alpha; r++) {
        const int64_t ih = m * ti - g->pad_top + r;
        for (int c = 0; c < alpha; c++) {
          const int64_t iw = m * tj - g->pad_left + c;
          pixels[r][c] = ih >= 0 && ih < g->in_height && iw >= 0 && iw < g->in_width ? x + ((image * g->in_height + ih) * g->in_width + iw) * cin : direct_zeros;
        }
      }
      for (int64_t ci = 0; ci < cin; ci += 16) {
        __m512 db[6][6];
        for (int r = 0; r < alpha; r++) {  // d B: B^T on each row
          __m512 d[6];
          for (int c = 0; c < alpha; c++) d[c] = _mm512_loadu_ps(pixels[r][c] + ci);
          winograd_input_rows(m, d, db[r]);
        }
        for (int c = 0; c < alpha; c++) {  // B^T (d B): on each column
          __m512 column[6], transformed[6];
          for (int r = 0; r < alpha; r++) column[r] = db[r][c];
          winograd_input_rows(m, column, transformed);
          for (int r = 0; r < alpha; r++) _mm512_storeu_ps(v + (r * alpha + c) * v_stride + t * cin + ci, transformed[r]);
        }
      }
    }
    for (int64_t j0 = first_column; j0 < end_column;) {
      int64_t nv = (end_column - j0) / 16; if (nv > 4) nv = 4;
      const int64_t mr = nv == 4 ? 6 : nv == 3 ? 8 : nv == 2 ? 14 : 24;
      const int64_t width = 16 * nv;
      // 3. M[xi] = V[xi] U[xi] over Cin, for 16 nv output channels: the direct convolution's tiles with one tap
      for (int xi = 0; xi < elements; xi++) {
        const float* b = u + xi * cin * cout + j0;
        for (int64_t t0 = 0; t0 < count; t0 += mr) {
          const int64_t rows_here = count - t0 < mr ? count - t0 : mr;
          const float* rows[24];
          for (int64_t r = 0; r < mr; r++) rows[r] = v + xi * v_stride + (t0 + (r < rows_here ? r : 0)) * cin;
          float* c = products + xi * m_stride + t0 * width;
          direct_tile(nv, rows_here, mr, 1, cin, rows, b, cout, c, width, NULL, NULL, 0);
        }
      }
      // 4. Y = A^T M A (+ bias, then + residual) for each tile's m x m outputs inside the image
      for (int64_t t = 0; t < count; t++) {
        const int64_t tile = first_tile + t, image = tile / per_image, ti = (tile % per_image) / tiles_wide, tj = tile % tiles_wide;
        const int64_t high = g->out_height - m * ti < m ? g->out_height - m * ti : m, wide = g->out_width - m * tj < m ? g->out_width - m * tj : m;
        for (int64_t co = 0; co < width; co += 16) {
          __m512 am[4][6];  // A^T M: A^T on each column
          for (int c = 0; c < alpha; c++) {
            __m512 column[6], reduced[4];
            for (int r = 0; r < alpha; r++) column[r] = _mm512_loadu_ps(products + (r * alpha + c) * m_stride + t * width + co);
            winograd_output_rows(m, column, reduced);
            for (int i = 0; i < m; i++) am[i][c] = reduced[i];
          }
          const __m512 bias_vector = bias != NULL ? _mm512_loadu_ps(bias + j0 + co) : _mm512_setzero_ps();
          for (int64_t i = 0; i < high; i++) {
            __m512 y[4];  // (A^T M) A: on each row
            winograd_output_rows(m, am[i], y);
            for (int64_t j = 0; j < wide; j++) {
              const int64_t offset = ((image * g->out_height + m * ti + i) * g->out_width + m * tj + j) * cout + j0 + co;
              __m512 value = y[j];
              if (bias != NULL) value = _mm512_add_ps(value, bias_vector);
              if (residual != NULL) value = _mm512_add_ps(value, _mm512_loadu_ps(residual + offset));
              _mm512_storeu_ps(out + offset, value);
            }
          }
        }
      }
      j0 += width;
    }
  }
}

// Transformed filters kept between calls, per thread: sampling runs the same weights through every
// step, and transforming a 64 x 64 filter (590 KiB of U) took 60-280 us a call (most of the layer at
// batch 1). An entry is found by the filter array's address and shape, and used only while the
// filter's values are still those it was made from (a kept copy, compared byte for byte: weights
// updated in place, or another tensor at a freed address, are transformed again), so the results are
// the bits of transforming on every call. Entries are made while the thread's entries stay within
// the limit (setWinogradCache; 64 MiB by default, 0: none) and kept until the thread's environment
// ends; past the limit, filters are transformed per call as before.
typedef struct {
  const float* filter;
  int64_t cin, cout;
  int m;
  float* copy;  // the filter's 9 Cin Cout values when U was made
  float* u;     // (m + 2)^2 Cin Cout floats
} WinogradFilterEntry;
#define WINOGRAD_CACHE_ENTRIES 512
static __thread WinogradFilterEntry* winograd_cache = NULL;
static __thread int winograd_cache_count = 0;
static __thread int64_t winograd_cache_bytes = 0;
static int64_t winograd_cache_limit_bytes = 64LL << 20;

static void free_winograd_cache(void* unused) {
  (void)unused;
  for (int i = 0; i < winograd_cache_count; i++) {
    free(winograd_cache[i].copy);
    free(winograd_cache[i].u);
  }
  free(winograd_cache);
  winograd_cache = NULL;
  winograd_cache_count = 0;
  winograd_cache_bytes = 0;
}

// U for this filter from the thread's entries (made or refreshed as needed), or NULL when it has none
// and the limit (or memory) allows no new one.
__attribute__((target("avx512f"))) static const float* winograd_cached_filter(int m, const float* filter, int64_t cin, int64_t cout, int threads) {
  const size_t filter_bytes = (size_t)(9 * cin * cout) * sizeof(float), u_bytes = (size_t)((m + 2) * (m + 2) * cin * cout) * sizeof(float);
  for (int i = 0; i < winograd_cache_count; i++) {
    WinogradFilterEntry* entry = &winograd_cache[i];
    if (entry->filter != filter || entry->cin != cin || entry->cout != cout || entry->m != m) continue;
    if (memcmp(entry->copy, filter, filter_bytes) != 0) {
      memcpy(entry->copy, filter, filter_bytes);
      winograd_filter(m, filter, cin, cout, entry->u, threads);
    }
    return entry->u;
  }
  if (winograd_cache_count >= WINOGRAD_CACHE_ENTRIES || winograd_cache_bytes + (int64_t)(filter_bytes + u_bytes) > winograd_cache_limit_bytes) return NULL;
  if (winograd_cache == NULL) {
    winograd_cache = (WinogradFilterEntry*)calloc(WINOGRAD_CACHE_ENTRIES, sizeof(WinogradFilterEntry));
    if (winograd_cache == NULL) return NULL;
  }
  float* copy = (float*)malloc(filter_bytes);
  float* u = (float*)aligned_alloc(64, (u_bytes + 63) / 64 * 64);
  if (copy == NULL || u == NULL) {
    free(copy);
    free(u);
    return NULL;
  }
  memcpy(copy, filter, filter_bytes);
  winograd_filter(m, filter, cin, cout, u, threads);
  winograd_cache[winograd_cache_count++] = (WinogradFilterEntry){filter, cin, cout, m, copy, u};
  winograd_cache_bytes += (int64_t)(filter_bytes + u_bytes);
  return u;
}

// Returns 0 when out of memory.
__attribute__((target("avx512f"))) static int conv_forward_winograd(int m, const Geometry* g, const float* x, const float* filter, const float* bias, const float* residual, float* out) {
  const int64_t cin = g->in_channels, cout = g->out_channels, elements = (m + 2) * (m + 2);
  const int threads = threads_for(g->batch * g->out_height * g->out_width * 9 * cin * cout, PARALLEL_MIN_MACS);
  const int filter_threads = threads_for(elements * cin * cout, PARALLEL_MIN_ELEMENTS / 8);
  const size_t buffer_floats = (size_t)winograd_buffer_floats(winograd_block_tiles(cin, cout, elements), cin, elements);
  const float* u = winograd_cached_filter(m, filter, cin, cout, filter_threads);
  const size_t filter_floats = u == NULL ? (size_t)(elements * cin * cout) : 0;
  // the calling thread's workspace, kept between calls (a fresh allocation this size is an mmap whose
  // pages fault in on every call: 14 % of a 32-channel layer's time): the tile buffers, and U when it is not kept
  float* scratch = get_workspace(filter_floats + (size_t)threads * buffer_floats);
  if (scratch == NULL) return 0;
  if (u == NULL) {
    winograd_filter(m, filter, cin, cout, scratch, filter_threads);
    u = scratch;
  }
  winograd_convolution_tiles(m, g, x, u, bias, residual, out, scratch + filter_floats, threads);
  return 1;
}
#endif

// 3. Forward convolution: out[B*Ho*Wo, Cout] = im2col(x)[B*Ho*Wo, kh*kw*Cin] W[kh*kw*Cin, Cout],
//    one SGEMM per chunk of rows (a 1x1 stride-1 convolution is one SGEMM on x itself), then
//    act(. + bias), then + residual when one is given (only with no activation; see conv2d).
static int conv_forward_products(const Geometry* g, const float* x, const float* filter, const float* bias, const float* residual, float* out, int activation);
static int conv_forward(const Geometry* g, const float* x, const float* filter, const float* bias, const float* residual, float* out, int activation) {
  const int done = conv_forward_products(g, x, filter, bias, residual, out, activation);
  if (done == 2 && residual != NULL) add_into(out, residual, g->batch * g->out_height * g->out_width * g->out_channels);
  return done != 0;
}
// Returns 0 when out of memory, 1 when the residual (if any) is in, 2 when it is still to add.
static int conv_forward_products(const Geometry* g, const float* x, const float* filter, const float* bias, const float* residual, float* out, int activation) {
  const int64_t m = g->batch * g->out_height * g->out_width;
  const int64_t k = g->filter_height * g->filter_width * g->in_channels;
  const int64_t n = g->out_channels;
  if (m == 0 || n == 0) return 1;
  if (k == 0) {
    memset(out, 0, (size_t)(m * n) * sizeof(float));
    bias_and_activation(out, bias, m, n, activation);
    return 2;
  }
  // Batch invariance: each image's rows go through the same products (same chunks, same shapes)
  // whatever the batch size and the image's place in it, so an image's result never depends on the
  // other images of the batch (with our SGEMM every row is computed alike anyway; this makes it hold
  // for OpenBLAS too, at a fixed thread count).
  const int64_t per_image = g->out_height * g->out_width;
#ifdef HAVE_AVX512_GEMM
  if (direct_convolution && own_gemm && n <= NARROW_COLUMNS && g->in_channels % 16 == 0 && g->in_channels <= DIRECT_MAX_CIN &&
      g->filter_height * g->filter_width <= DIRECT_MAX_TAPS && k >= 64 && k <= 4096) {
    float packed[NARROW_COLUMNS * 4096];
    int64_t* offsets = tap_offsets(g);
    if (offsets == NULL) return 0;
    conv_forward_narrow_direct(g, x, filter, out, packed, offsets);
    free(offsets);
    bias_and_activation(out, bias, m, n, activation);
    return 2;
  }
  const int winograd_m = direct_convolution ? winograd_tile_size(g) : 0;
  if (winograd_m != 0) {
    if (!conv_forward_winograd(winograd_m, g, x, filter, bias, residual, out)) return 0;
    if (activation != 0) bias_and_activation(out, NULL, m, n, activation);
    return 1;
  }
  // (1x1 convolutions too: the same FMAs as the SGEMM on x, without its per-row checks)
  if (direct_convolution && own_gemm && n % 16 == 0 && g->in_channels >= 1 && g->in_channels <= DIRECT_MAX_CIN &&
      g->filter_height * g->filter_width <= DIRECT_MAX_TAPS) {
    // bias (and residual) added in the tiles' registers, in the order below: (conv + bias) + residual
    int64_t* offsets = tap_offsets(g);
    if (offsets == NULL) return 0;
    conv_forward_direct(g, x, filter, bias, residual, out, offsets);
    free(offsets);
    if (activation != 0) bias_and_activation(out, NULL, m, n, activation);
    return 1;
  }
#endif
  if (is_pointwise(g)) {
    for (int64_t b = 0; b < g->batch; b += 1) {
      gemm_nn(per_image, n, k, x + b * per_image * k, k, filter, n, out + b * per_image * n, n, 0);
    }
    bias_and_activation(out, bias, m, n, activation);
    return 2;
  }
  const int64_t chunk = chunk_rows(per_image, k);
  float* columns = get_workspace((size_t)(chunk * k));
  if (columns == NULL) return 0;
  for (int64_t image = 0; image < g->batch; image += 1) {
    for (int64_t offset = 0; offset < per_image; offset += chunk) {
      const int64_t first = image * per_image + offset;
      const int64_t rows = per_image - offset < chunk ? per_image - offset : chunk;
      im2col(g, x, columns, first, rows);
      gemm_nn(rows, n, k, columns, k, filter, n, out + first * n, n, 0);
      bias_and_activation(out + first * n, bias, rows, n, activation);
    }
  }
  return 2;
}

// ---------------------------------------------------------------------------------------------
// conv2d(x, filter, bias | null, out, params, activation[, residual]): out = act(conv(x, filter) + bias),
// or (conv(x, filter) + bias) + residual with a residual of out's shape (activation 0 only).

static napi_value conv2d(napi_env env, napi_callback_info info) {
  Call call;
  if (!start(&call, env, info, 6)) return NULL;
  size_t x_length, filter_length, bias_length, out_length;
  const float* x = float_array(&call, 0, &x_length, 0);
  const float* filter = float_array(&call, 1, &filter_length, 0);
  const float* bias = float_array(&call, 2, &bias_length, 1);
  float* out = float_array(&call, 3, &out_length, 0);
  Geometry g;
  if (call.failed || !blas_ready(&call) || !read_geometry(&call, 4, &g)) return NULL;
  int32_t activation = 0;
  if (napi_get_value_int32(env, call.argv[5], &activation) != napi_ok) return fail(&call, "tfjs-diffusion native: bad activation"), NULL;
  const int64_t m = g.batch * g.out_height * g.out_width;
  const int64_t k = g.filter_height * g.filter_width * g.in_channels;
  const int64_t n = g.out_channels;
  if ((int64_t)x_length < g.batch * g.in_height * g.in_width * g.in_channels || (int64_t)filter_length < k * n ||
      (int64_t)out_length < m * n || (bias != NULL && (int64_t)bias_length < n)) {
    return fail(&call, "tfjs-diffusion native: conv2d arrays are shorter than their shapes"), NULL;
  }
  size_t residual_length;
  const float* residual = float_array(&call, 6, &residual_length, 1);
  if (call.failed) return NULL;
  if (residual != NULL && ((int64_t)residual_length < m * n || activation != 0)) {
    return fail(&call, "tfjs-diffusion native: a conv2d residual needs out's length and no activation"), NULL;
  }
  if (m == 0 || n == 0) return undefined_value(env);
  if (!conv_forward(&g, x, filter, bias, residual, out, activation)) return fail(&call, "tfjs-diffusion native: out of memory"), NULL;
  return undefined_value(env);
}

// conv2dBackpropFilter(x, dy, dw, params): dW[kh*kw*Cin, Cout] = im2col(x)^T dy
static napi_value conv2d_backprop_filter(napi_env env, napi_callback_info info) {
  Call call;
  if (!start(&call, env, info, 4)) return NULL;
  size_t x_length, dy_length, dw_length;
  const float* x = float_array(&call, 0, &x_length, 0);
  const float* dy = float_array(&call, 1, &dy_length, 0);
  float* dw = float_array(&call, 2, &dw_length, 0);
  Geometry g;
  if (call.failed || !blas_ready(&call) || !read_geometry(&call, 3, &g)) return NULL;
  const int64_t m = g.batch * g.out_height * g.out_width;
  const int64_t k = g.filter_height * g.filter_width * g.in_channels;
  const int64_t n = g.out_channels;
  if ((int64_t)x_length < g.batch * g.in_height * g.in_width * g.in_channels || (int64_t)dy_length < m * n || (int64_t)dw_length < k * n) {
    return fail(&call, "tfjs-diffusion native: conv2dBackpropFilter arrays are shorter than their shapes"), NULL;
  }
  if (k == 0 || n == 0) return undefined_value(env);
  if (m == 0) {
    memset(dw, 0, (size_t)(k * n) * sizeof(float));
    return undefined_value(env);
  }
  if (is_pointwise(&g)) {
    gemm_tn(k, n, m, x, k, dy, n, dw, n, 0);
    return undefined_value(env);
  }
  const int64_t chunk = chunk_rows(m, k);
  float* columns = get_workspace((size_t)(chunk * k));
  if (columns == NULL) return fail(&call, "tfjs-diffusion native: out of memory"), NULL;
  for (int64_t first = 0; first < m; first += chunk) {
    const int64_t rows = m - first < chunk ? m - first : chunk;
    im2col(&g, x, columns, first, rows);
    gemm_tn(k, n, rows, columns, k, dy + first * n, n, dw, n, first != 0);
  }
  return undefined_value(env);
}

// conv2dBackpropInput(dy, filter, dx, params): dx = col2im(dy W^T)
static napi_value conv2d_backprop_input(napi_env env, napi_callback_info info) {
  Call call;
  if (!start(&call, env, info, 4)) return NULL;
  size_t dy_length, filter_length, dx_length;
  const float* dy = float_array(&call, 0, &dy_length, 0);
  const float* filter = float_array(&call, 1, &filter_length, 0);
  float* dx = float_array(&call, 2, &dx_length, 0);
  Geometry g;
  if (call.failed || !blas_ready(&call) || !read_geometry(&call, 3, &g)) return NULL;
  const int64_t m = g.batch * g.out_height * g.out_width;
  const int64_t k = g.filter_height * g.filter_width * g.in_channels;
  const int64_t n = g.out_channels;
  const int64_t input_size = g.batch * g.in_height * g.in_width * g.in_channels;
  if ((int64_t)dx_length < input_size || (int64_t)dy_length < m * n || (int64_t)filter_length < k * n) {
    return fail(&call, "tfjs-diffusion native: conv2dBackpropInput arrays are shorter than their shapes"), NULL;
  }
  if (input_size == 0) return undefined_value(env);
  if (is_pointwise(&g) && n > 0) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)k, (int)n, 1.0f, dy, (int)n, filter, (int)n, 0.0f, dx, (int)k);
    return undefined_value(env);
  }
  if (g.stride_height == 1 && g.stride_width == 1 && g.dilation_height == 1 && g.dilation_width == 1 && g.pad_top < g.filter_height &&
      g.pad_left < g.filter_width && m > 0 && n > 0 && k > 0) {
    // 4. Stride 1: dx is the forward convolution of dy with the filter flipped in space and its
    //    channels swapped, W'[p, q, co, ci] = W[kh-1-p, kw-1-q, ci, co], padded by k - 1 - pad
    //    (Dumoulin & Visin 2016, section 4.1): im2col reads instead of col2im's scattered adds, and
    //    the SGEMM sums over kh*kw*Cout instead of Cout.
    const int64_t kh = g.filter_height, kw = g.filter_width, cin = g.in_channels;
    float* flipped = (float*)malloc((size_t)(k * n) * sizeof(float));
    if (flipped == NULL) return fail(&call, "tfjs-diffusion native: out of memory"), NULL;
    for (int64_t p = 0; p < kh; p += 1)
      for (int64_t q = 0; q < kw; q += 1)
        for (int64_t ci = 0; ci < cin; ci += 1)
          for (int64_t co = 0; co < n; co += 1)
            flipped[((p * kw + q) * n + co) * cin + ci] = filter[(((kh - 1 - p) * kw + (kw - 1 - q)) * cin + ci) * n + co];
    Geometry transposed = g;
    transposed.in_height = g.out_height;
    transposed.in_width = g.out_width;
    transposed.in_channels = n;
    transposed.out_height = g.in_height;
    transposed.out_width = g.in_width;
    transposed.out_channels = cin;
    transposed.pad_top = kh - 1 - g.pad_top;
    transposed.pad_left = kw - 1 - g.pad_left;
    const int done = conv_forward(&transposed, dy, flipped, NULL, NULL, dx, 0);
    free(flipped);
    if (!done) return fail(&call, "tfjs-diffusion native: out of memory"), NULL;
    return undefined_value(env);
  }
  memset(dx, 0, (size_t)input_size * sizeof(float));
  if (m == 0 || n == 0 || k == 0) return undefined_value(env);
  const int64_t chunk = chunk_rows(m, k);
  float* columns = get_workspace((size_t)(chunk * k));
  if (columns == NULL) return fail(&call, "tfjs-diffusion native: out of memory"), NULL;
  for (int64_t first = 0; first < m; first += chunk) {
    const int64_t rows = m - first < chunk ? m - first : chunk;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)k, (int)n, 1.0f, dy + first * n, (int)n, filter, (int)n, 0.0f,
                columns, (int)k);
    col2im(&g, columns, dx, first, rows);
  }
  return undefined_value(env);
}



// batchMatMul(a, b, out, params [batch, batchA, batchB, M, N, K, transposeA, transposeB], bias | null, activation)
// out[i] = op(a[i or 0]) op(b[i or 0]); a is [M, K] (or [K, M] transposed), b is [K, N] (or [N, K]).
static napi_value batch_mat_mul(napi_env env, napi_callback_info info) {
  Call call;
  if (!start(&call, env, info, 4)) return NULL;
  size_t a_length, b_length, out_length, bias_length = 0;
  const float* a = float_array(&call, 0, &a_length, 0);
  const float* b = float_array(&call, 1, &b_length, 0);
  float* out = float_array(&call, 2, &out_length, 0);
  int32_t* p = int_array(&call, 3, 8);
  const float* bias = call.argc > 4 ? float_array(&call, 4, &bias_length, 1) : NULL;
  int32_t activation = 0;
  if (call.argc > 5 && napi_get_value_int32(env, call.argv[5], &activation) != napi_ok) return fail(&call, "tfjs-diffusion native: bad activation"), NULL;
  if (call.failed || !blas_ready(&call)) return NULL;
  const int64_t batch = p[0], batch_a = p[1], batch_b = p[2], m = p[3], n = p[4], k = p[5];
  const int transpose_a = p[6] != 0, transpose_b = p[7] != 0;
  if (batch < 0 || m < 0 || n < 0 || k < 0 || (batch_a != batch && batch_a != 1) || (batch_b != batch && batch_b != 1)) {
    return fail(&call, "tfjs-diffusion native: bad batchMatMul parameters"), NULL;
  }
  if ((int64_t)a_length < batch_a * m * k || (int64_t)b_length < batch_b * k * n || (int64_t)out_length < batch * m * n ||
      (bias != NULL && (int64_t)bias_length < n)) {
    return fail(&call, "tfjs-diffusion native: batchMatMul arrays are shorter than their shapes"), NULL;
  }
  if (batch == 0 || m == 0 || n == 0) return undefined_value(env);
  if (k == 0) {
    memset(out, 0, (size_t)(batch * m * n) * sizeof(float));
  } else if (batch_b == 1 && !transpose_a && batch_a == batch) {
    // 1. One product: the batches of a stacked as rows, b shared.
    if (transpose_b && own_gemm) {
      // b^T packed once ([K, N] row-major), so that our row-independent SGEMM takes the stacked rows
      float* packed = get_workspace((size_t)(k * n));
      if (packed == NULL) return fail(&call, "tfjs-diffusion native: out of memory"), NULL;
      transpose_into(b, n, k, k, packed);
      gemm_nn(batch * m, n, k, a, k, packed, n, out, n, 0);
    } else if (transpose_b) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(batch * m), (int)n, (int)k, 1.0f, a, (int)k, b, (int)k, 0.0f, out, (int)n);
    } else {
      gemm_nn(batch * m, n, k, a, k, b, n, out, n, 0);
    }
  } else if (own_gemm && !transpose_a && m * n * k < PARALLEL_MIN_MACS && threads_for(batch * m * n * k, PARALLEL_MIN_MACS) > 1) {
    // 2. Many small products (attention's heads on a 16x16 or 8x8 image: 4 M multiply-adds each, too
    //    few to split one): the products shared out among the kernel threads, each whole on one
    //    thread (our SGEMM computes every row alike, so the bits do not depend on the thread).
    float* shared = NULL;
    if (transpose_b && batch_b == 1) {
      shared = get_workspace((size_t)(k * n));
      if (shared == NULL) return fail(&call, "tfjs-diffusion native: out of memory"), NULL;
      transpose_into(b, n, k, k, shared);
    }
    int out_of_memory = 0;
#pragma omp parallel for schedule(static) num_threads(kernel_threads)
    for (int64_t i = 0; i < batch; i += 1) {
      const float* left = a + (batch_a == 1 ? 0 : i) * m * k;
      const float* right = b + (batch_b == 1 ? 0 : i) * k * n;
      if (!transpose_b) {
        gemm_nn(m, n, k, left, k, right, n, out + i * m * n, n, 0);
        continue;
      }
      const float* packed = shared;
      if (packed == NULL) {
        float* own = get_workspace((size_t)(k * n));  // this thread's own (thread 0: the caller's, unused here)
        if (own == NULL) {
          out_of_memory = 1;
          continue;
        }
        transpose_into(right, n, k, k, own);
        packed = own;
      }
      gemm_nn(m, n, k, left, k, packed, n, out + i * m * n, n, 0);
    }
    if (out_of_memory) return fail(&call, "tfjs-diffusion native: out of memory"), NULL;
  } else {
    float* packed = NULL;
    for (int64_t i = 0; i < batch; i += 1) {
      const float* left = a + (batch_a == 1 ? 0 : i) * m * k;
      const float* right = b + (batch_b == 1 ? 0 : i) * k * n;
      if (!transpose_a && !transpose_b) {
        gemm_nn(m, n, k, left, k, right, n, out + i * m * n, n, 0);
        continue;
      }
      if (!transpose_a && own_gemm) {
        // attention's q k^T: b^T packed ([K, N] row-major) for our SGEMM (OpenBLAS ran these at
        // ~11 GFLOP/s on ImageNet-64's 1024-token attention); repacked only when b changes
        if (packed == NULL || batch_b != 1) {
          packed = get_workspace((size_t)(k * n));
          if (packed == NULL) return fail(&call, "tfjs-diffusion native: out of memory"), NULL;
          transpose_into(right, n, k, k, packed);
        }
        gemm_nn(m, n, k, left, k, packed, n, out + i * m * n, n, 0);
        continue;
      }
      cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans, transpose_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k,
                  1.0f, left, transpose_a ? (int)m : (int)k, right, transpose_b ? (int)k : (int)n, 0.0f, out + i * m * n, (int)n);
    }
  }
  if (bias != NULL || activation != 0) bias_and_activation(out, bias, batch * m, n, activation);
  return undefined_value(env);
}


// ---------------------------------------------------------------------------------------------
// Sigmoid (SiLU's gate): 1 / (1 + exp(-x)), exp as in Cephes' expf: 2^k p(r), |r| <= ln2 / 2.
#ifdef HAVE_AVX512_GEMM
// exp(-z) for z clamped to [-88, 87], as Cephes' expf: 2^k p(r), |r| <= ln2 / 2.
__attribute__((target("avx512f"))) static inline __m512 exp_negative_avx512(__m512 z) {
  const __m512 lo = _mm512_set1_ps(-87.0f), hi = _mm512_set1_ps(88.0f), log2e = _mm512_set1_ps(1.44269504088896341f);
  const __m512 c1 = _mm512_set1_ps(0.693359375f), c2 = _mm512_set1_ps(-2.12194440e-4f), one = _mm512_set1_ps(1.0f);
  __m512 v = _mm512_min_ps(_mm512_max_ps(_mm512_sub_ps(_mm512_setzero_ps(), z), lo), hi);
  __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(v, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(k, c1, v);
  r = _mm512_fnmadd_ps(k, c2, r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, one));
  return _mm512_scalef_ps(p, k);
}
// 1 / (1 + exp(-x)).
__attribute__((target("avx512f"))) static void sigmoid_avx512(const float* x, float* y, int64_t n) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 mask = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(y + i, mask, _mm512_div_ps(one, _mm512_add_ps(one, exp_negative_avx512(_mm512_maskz_loadu_ps(mask, x + i)))));
  }
}
#endif

// ---------------------------------------------------------------------------------------------
// fmaPeak(seconds): one core's float32 FMA throughput in FLOP/s, measured on 16 independent
// chains of 512-bit FMAs (enough to cover the FMA latency times the FMA ports of current x86 cores;
// 2 FLOP per lane per FMA) for at least `seconds` of the calling thread's CPU time (not wall time,
// so that other processes on a loaded machine do not lower it). 0 without AVX-512F.
#include <time.h>
static double thread_seconds(void) {
  struct timespec now;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return (double)now.tv_sec + 1e-9 * (double)now.tv_nsec;
}
#ifdef HAVE_AVX512_GEMM
__attribute__((target("avx512f"), noinline)) static double fma_peak_avx512(double seconds) {
  __m512 acc[16];
  for (int i = 0; i < 16; i++) acc[i] = _mm512_set1_ps(1.0f + 1e-3f * (float)i);
  const __m512 scale = _mm512_set1_ps(0.999999f), shift = _mm512_set1_ps(1e-6f);
  const int64_t inner = 1 << 16;
  int64_t rounds = 0;
  const double started = thread_seconds();
  double elapsed = 0;
  do {
    for (int64_t r = 0; r < inner; r++) {
      _Pragma("GCC unroll 16") for (int i = 0; i < 16; i++) acc[i] = _mm512_fmadd_ps(acc[i], scale, shift);
    }
    rounds += 1;
    elapsed = thread_seconds() - started;
  } while (elapsed < seconds);
  __m512 total = acc[0];
  for (int i = 1; i < 16; i++) total = _mm512_add_ps(total, acc[i]);
  volatile float sink = _mm512_reduce_add_ps(total);
  (void)sink;
  return (double)rounds * (double)inner * 16.0 * 16.0 * 2.0 / elapsed;
}
#endif

static napi_value fma_peak(napi_env env, napi_callback_info info) {
  Call call;
  if (!start(&call, env, info, 1)) return NULL;
  double seconds = 0.2;
  if (napi_get_value_double(env, call.argv[0], &seconds) != napi_ok || !(seconds > 0) || seconds > 60) {
    return fail(&call, "tfjs-diffusion native: fmaPeak seconds must be in (0, 60]"), NULL;
  }
  double flops = 0;
#ifdef HAVE_AVX512_GEMM
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) flops = fma_peak_avx512(seconds);
#endif
  napi_value result;
  napi_create_double(env, flops, &result);
  return result;
}

static void sigmoid_scalar(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i += 1) y[i] = 1.0f / (1.0f + expf(-x[i]));
}

// sigmoid(x, out)
static napi_value sigmoid(napi_env env, napi_callback_info info) {
  Call call;
  if (!start(&call, env, info, 2)) return NULL;
  size_t x_length, out_length;
  const float* x = float_array(&call, 0, &x_length, 0);
  float* out = float_array(&call, 1, &out_length, 0);
  if (call.failed) return NULL;
  if (out_length < x_length) return fail(&call, "tfjs-diffusion native: sigmoid output is shorter than its input"), NULL;
#ifdef HAVE_AVX512_GEMM
  if (own_gemm) {
    sigmoid_avx512(x, out, (int64_t)x_length);
    return undefined_value(env);
  }
#endif
  sigmoid_scalar(x, out, (int64_t)x_length);
  return undefined_value(env);
}

// softmax(x, out, [rows, length]): each row's exp(x - max) / sum, over contiguous rows (attention's
// logits); AVX-512 only (exp as above), rows shared out among the kernel threads. Each row is
// computed alone, the same way whatever the other rows and the thread count.
#ifdef HAVE_AVX512_GEMM
__attribute__((target("avx512f"))) static void softmax_rows_avx512(const float* x, float* out, int64_t rows, int64_t length) {
  const int threads = threads_for(rows * length, PARALLEL_MIN_ELEMENTS / 8);
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (int64_t r = 0; r < rows; r += 1) {
    const float* row = x + r * length;
    float* target = out + r * length;
    __m512 largest = _mm512_set1_ps(-INFINITY);
    for (int64_t i = 0; i < length; i += 16) {
      const __mmask16 mask = length - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (length - i)) - 1);
      largest = _mm512_mask_max_ps(largest, mask, largest, _mm512_maskz_loadu_ps(mask, row + i));
    }
    const __m512 top = _mm512_set1_ps(_mm512_reduce_max_ps(largest));
    __m512 total = _mm512_setzero_ps();
    for (int64_t i = 0; i < length; i += 16) {
      const __mmask16 mask = length - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (length - i)) - 1);
      // 1. exp(x - max) = exp(-(max - x)), each term <= 1
      const __m512 term = _mm512_maskz_mov_ps(mask, exp_negative_avx512(_mm512_sub_ps(top, _mm512_maskz_loadu_ps(mask, row + i))));
      total = _mm512_add_ps(total, term);
      _mm512_mask_storeu_ps(target + i, mask, term);
    }
    // 2. divided by their sum
    const __m512 scale = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(total));
    for (int64_t i = 0; i < length; i += 16) {
      const __mmask16 mask = length - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (length - i)) - 1);
      _mm512_mask_storeu_ps(target + i, mask, _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, target + i), scale));
    }
  }
}
#endif

static napi_value softmax(napi_env env, napi_callback_info info) {
  Call call;
  if (!start(&call, env, info, 3)) return NULL;
  size_t x_length, out_length;
  const float* x = float_array(&call, 0, &x_length, 0);
  float* out = float_array(&call, 1, &out_length, 0);
  int32_t* p = int_array(&call, 2, 2);
  if (call.failed) return NULL;
  const int64_t rows = p[0], length = p[1];
  if (rows < 0 || length < 1) return fail(&call, "tfjs-diffusion native: bad softmax parameters"), NULL;
  if ((int64_t)x_length < rows * length || (int64_t)out_length < rows * length) return fail(&call, "tfjs-diffusion native: softmax arrays are shorter than their shapes"), NULL;
#ifdef HAVE_AVX512_GEMM
  if (own_gemm) {
    softmax_rows_avx512(x, out, rows, length);
    return undefined_value(env);
  }
#endif
  (void)x;
  (void)out;
  return fail(&call, "tfjs-diffusion native: softmax needs AVX-512F"), NULL;
}

// ---------------------------------------------------------------------------------------------
// Group normalization (Wu & He 2018) on NHWC, fused with a per-image, per-channel scale and shift
// (GroupNorm's affine, AdaGN's (1 + s) and shift folded in by the caller) and an optional SiLU:
// out = act((x - mean_g) / sqrt(var_g + eps) * gamma + beta), one pass over x for the statistics
// and one for the output (tf ops take seven full-tensor passes: x^2, two sums, scale, shift,
// sigmoid, multiply). Each image is computed on its own, with the same operations whatever the batch.

// 1. Per-channel sums of x and x^2 over the image's pixels, in double, pixel after pixel: each
//    channel's sums see the same additions in the same order whatever the vector width (x^2 of a
//    float is exact in double, so a fused multiply-add gives the same result as multiply then add).
#ifdef HAVE_AVX512_GEMM
// The same sums for channels % 8 == 0, up to 64 channels per pass held in registers (8 per double
// vector), each channel's sums in pixel order as the scalar loop adds them; x^2 rounded before it
// is added (no FMA), as there.
__attribute__((target("avx512f"))) static void channel_sums_avx512(const float* restrict image, int64_t pixels, int64_t channels, double* restrict sums,
                                                                  double* restrict squares) {
  for (int64_t c0 = 0; c0 < channels; c0 += 64) {
    const int vectors = (int)((channels - c0 < 64 ? channels - c0 : 64) / 8);
    __m512d sum[8], square[8];
    for (int v = 0; v < 8; v++) sum[v] = square[v] = _mm512_setzero_pd();
    for (int64_t p = 0; p < pixels; p += 1) {
      const float* row = image + p * channels + c0;
      _Pragma("GCC unroll 8") for (int v = 0; v < 8; v++) {
        if (v < vectors) {
          const __m512d value = _mm512_cvtps_pd(_mm256_loadu_ps(row + 8 * v));
          __m512d product = _mm512_mul_pd(value, value);
          __asm__("" : "+v"(product));  // rounded on its own: no contraction into an FMA
          sum[v] = _mm512_add_pd(sum[v], value);
          square[v] = _mm512_add_pd(square[v], product);
        }
      }
    }
    for (int v = 0; v < vectors; v++) {
      _mm512_storeu_pd(sums + c0 + 8 * v, sum[v]);
      _mm512_storeu_pd(squares + c0 + 8 * v, square[v]);
    }
  }
}
#endif
VECTOR_CLONES
static void channel_sums(const float* restrict image, int64_t pixels, int64_t channels, double* restrict sums, double* restrict squares) {
#ifdef HAVE_AVX512_GEMM
  if (own_gemm && channels % 8 == 0) {
    channel_sums_avx512(image, pixels, channels, sums, squares);
    return;
  }
#endif
  for (int64_t c = 0; c < channels; c += 1) sums[c] = squares[c] = 0.0;
  for (int64_t p = 0; p < pixels; p += 1) {
    const float* restrict row = image + p * channels;
    for (int64_t c = 0; c < channels; c += 1) {
      const double value = (double)row[c];
      sums[c] += value;
      squares[c] += value * value;
    }
  }
}

// 1b. Per-channel a, b of out = x a + b from one image's channel sums: group mean and 1 / sqrt(var + eps)
//     in double, folded with gamma and beta. Each group's mean and inverse deviation are left in
//     sums[first channel] and squares[first channel] (the gradient reads them; the sums are spent).
static void group_coefficients(double* sums, double* squares, int64_t channels, int64_t groups, double count, double epsilon, const float* gamma,
                               const float* beta, float* a, float* b) {
  const int64_t per_group = channels / groups;
  for (int64_t g = 0; g < groups; g += 1) {
    double total = 0, total_squares = 0;
    for (int64_t c = g * per_group; c < (g + 1) * per_group; c += 1) {
      total += sums[c];
      total_squares += squares[c];
    }
    const double mean = total / count;
    double variance = total_squares / count - mean * mean;
    if (variance < 0) variance = 0;
    const double inverse = 1.0 / sqrt(variance + epsilon);
    for (int64_t c = g * per_group; c < (g + 1) * per_group; c += 1) {
      const double scale = inverse * (double)gamma[c];
      a[c] = (float)scale;
      b[c] = (float)((double)beta[c] - mean * scale);
    }
    sums[g * per_group] = mean;
    squares[g * per_group] = inverse;
  }
}

// 2. out = act(x a + b) for per-channel a, b. SiLU: z sigmoid(z) = z / (1 + exp(-z)), exp_negative_avx512 above.
#ifdef HAVE_AVX512_GEMM
__attribute__((target("avx512f"))) static inline __m512 silu_avx512_vector(__m512 z) {
  return _mm512_div_ps(z, _mm512_add_ps(_mm512_set1_ps(1.0f), exp_negative_avx512(z)));
}
// Every value goes through the same vector operations (masked for the last channels of a pixel).
__attribute__((target("avx512f"))) static void scale_shift_avx512(const float* x, float* out, int64_t pixels, int64_t channels, const float* a,
                                                                 const float* b, int silu) {
  for (int64_t p = 0; p < pixels; p += 1) {
    const float* row = x + p * channels;
    float* target = out + p * channels;
    for (int64_t c = 0; c < channels; c += 16) {
      const __mmask16 mask = channels - c >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (channels - c)) - 1);
      __m512 z = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, row + c), _mm512_maskz_loadu_ps(mask, a + c), _mm512_maskz_loadu_ps(mask, b + c));
      if (silu) z = silu_avx512_vector(z);
      _mm512_mask_storeu_ps(target + c, mask, z);
    }
  }
}
#endif
static void scale_shift_scalar(const float* x, float* out, int64_t pixels, int64_t channels, const float* a, const float* b, int silu) {
  for (int64_t p = 0; p < pixels; p += 1) {
    for (int64_t c = 0; c < channels; c += 1) {
      const float z = x[p * channels + c] * a[c] + b[c];
      out[p * channels + c] = silu ? z / (1.0f + expf(-z)) : z;
    }
  }
}

// groupNorm(x, gamma, beta, out, [batch, pixels, channels, groups, gammaPerImage, betaPerImage, activation], epsilon):
// x and out [batch, pixels, channels]; gamma and beta [channels], or [batch, channels] when their
// flag is 1; activation 0 linear, 1 SiLU. Mean and variance E[x^2] - E[x]^2 (biased, clamped at 0)
// in double over the pixels and channels of each group; then a = gamma / sqrt(var + eps) and
// b = beta - mean a per channel, rounded to float, and out = act(x a + b).
static napi_value group_norm(napi_env env, napi_callback_info info) {
  Call call;
  if (!start(&call, env, info, 6)) return NULL;
  size_t x_length, gamma_length, beta_length, out_length;
  const float* x = float_array(&call, 0, &x_length, 0);
  const float* gamma = float_array(&call, 1, &gamma_length, 0);
  const float* beta = float_array(&call, 2, &beta_length, 0);
  float* out = float_array(&call, 3, &out_length, 0);
  int32_t* p = int_array(&call, 4, 7);
  if (call.failed) return NULL;
  double epsilon = 0;
  if (napi_get_value_double(env, call.argv[5], &epsilon) != napi_ok || !(epsilon >= 0)) return fail(&call, "tfjs-diffusion native: bad groupNorm epsilon"), NULL;
  const int64_t batch = p[0], pixels = p[1], channels = p[2], groups = p[3];
  const int gamma_per_image = p[4] != 0, beta_per_image = p[5] != 0, activation = p[6];
  if (batch < 0 || pixels < 0 || channels < 1 || groups < 1 || channels % groups != 0 || activation < 0 || activation > 1) {
    return fail(&call, "tfjs-diffusion native: bad groupNorm parameters"), NULL;
  }
  if ((int64_t)x_length < batch * pixels * channels || (int64_t)out_length < batch * pixels * channels ||
      (int64_t)gamma_length < (gamma_per_image ? batch : 1) * channels || (int64_t)beta_length < (beta_per_image ? batch : 1) * channels) {
    return fail(&call, "tfjs-diffusion native: groupNorm arrays are shorter than their shapes"), NULL;
  }
  if (batch == 0 || pixels == 0) return undefined_value(env);
  // sums, squares (double) then a, b (float), one block per call
  double* statistics = (double*)malloc((size_t)channels * (2 * sizeof(double) + 2 * sizeof(float)));
  if (statistics == NULL) return fail(&call, "tfjs-diffusion native: out of memory"), NULL;
  double* sums = statistics;
  double* squares = statistics + channels;
  float* a = (float*)(statistics + 2 * channels);
  float* b = a + channels;
  const int64_t per_group = channels / groups;
  const double count = (double)pixels * (double)per_group;
  for (int64_t image = 0; image < batch; image += 1) {
    const float* source = x + image * pixels * channels;
    const float* image_gamma = gamma + (gamma_per_image ? image * channels : 0);
    const float* image_beta = beta + (beta_per_image ? image * channels : 0);
    channel_sums(source, pixels, channels, sums, squares);
    group_coefficients(sums, squares, channels, groups, count, epsilon, image_gamma, image_beta, a, b);
    float* target = out + image * pixels * channels;
#ifdef HAVE_AVX512_GEMM
    if (own_gemm) {
      scale_shift_avx512(source, target, pixels, channels, a, b, activation == 1);
      continue;
    }
#endif
    scale_shift_scalar(source, target, pixels, channels, a, b, activation == 1);
  }
  free(statistics);
  return undefined_value(env);
}

// 3. The gradient. With z = x a + b (a = gamma / sd, b = beta - mean a) and y = act(z):
//    dz = dy act'(z) (SiLU: s (1 + z (1 - s)), s = sigmoid(z)); dbeta = sum_p dz;
//    dgamma = sum_p dz xhat = (sum_p dz x - mean sum_p dz) / sd; and per group of N values, with
//    dxhat = dz gamma, S1 = sum dxhat = sum_c gamma dbeta, S2 = sum dxhat xhat = sum_c gamma dgamma:
//    dx = (dxhat - S1 / N - xhat S2 / N) / sd = A_c dz + B_g x + C_g (Wu & He 2018's backward).
#ifdef HAVE_AVX512_GEMM
__attribute__((target("avx512f"))) static void activation_gradient_avx512(const float* x, const float* dy, float* dz, int64_t pixels, int64_t channels,
                                                                         const float* a, const float* b) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int64_t p = 0; p < pixels; p += 1) {
    for (int64_t c = 0; c < channels; c += 16) {
      const __mmask16 mask = channels - c >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (channels - c)) - 1);
      const int64_t at = p * channels + c;
      const __m512 z = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, x + at), _mm512_maskz_loadu_ps(mask, a + c), _mm512_maskz_loadu_ps(mask, b + c));
      const __m512 s = _mm512_div_ps(one, _mm512_add_ps(one, exp_negative_avx512(z)));
      const __m512 derivative = _mm512_mul_ps(s, _mm512_fmadd_ps(z, _mm512_sub_ps(one, s), one));
      _mm512_mask_storeu_ps(dz + at, mask, _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, dy + at), derivative));
    }
  }
}
#endif
static void activation_gradient_scalar(const float* x, const float* dy, float* dz, int64_t pixels, int64_t channels, const float* a, const float* b) {
  for (int64_t p = 0; p < pixels; p += 1) {
    for (int64_t c = 0; c < channels; c += 1) {
      const int64_t at = p * channels + c;
      const float z = x[at] * a[c] + b[c];
      const float s = 1.0f / (1.0f + expf(-z));
      dz[at] = dy[at] * (s * (1.0f + z * (1.0f - s)));
    }
  }
}

// Per-channel sums of dz and dz x over the image's pixels, in double.
VECTOR_CLONES
static void channel_dot_sums(const float* restrict dz, const float* restrict x, int64_t pixels, int64_t channels, double* restrict sums,
                             double* restrict products) {
  for (int64_t c = 0; c < channels; c += 1) sums[c] = products[c] = 0.0;
  for (int64_t p = 0; p < pixels; p += 1) {
    const float* restrict dz_row = dz + p * channels;
    const float* restrict x_row = x + p * channels;
    for (int64_t c = 0; c < channels; c += 1) {
      sums[c] += (double)dz_row[c];
      products[c] += (double)dz_row[c] * (double)x_row[c];
    }
  }
}

// dx = A_c dz + B_c x + C_c, in place over dz.
VECTOR_CLONES
static void input_gradient(float* restrict dx, const float* restrict x, int64_t pixels, int64_t channels, const float* restrict a_coefficient,
                           const float* restrict b_coefficient, const float* restrict c_coefficient) {
  for (int64_t p = 0; p < pixels; p += 1) {
    float* restrict row = dx + p * channels;
    const float* restrict x_row = x + p * channels;
    for (int64_t c = 0; c < channels; c += 1) row[c] = a_coefficient[c] * row[c] + b_coefficient[c] * x_row[c] + c_coefficient[c];
  }
}

// groupNormGrad(x, gamma, beta, dy, dx, dgamma, dbeta, params, epsilon): the gradient of groupNorm
// (same params) for its output gradient dy: dx [batch, pixels, channels]; dgamma and dbeta in
// gamma's and beta's shapes ([channels]: summed over the images in order; [batch, channels]).
static napi_value group_norm_grad(napi_env env, napi_callback_info info) {
  Call call;
  if (!start(&call, env, info, 9)) return NULL;
  size_t x_length, gamma_length, beta_length, dy_length, dx_length, dgamma_length, dbeta_length;
  const float* x = float_array(&call, 0, &x_length, 0);
  const float* gamma = float_array(&call, 1, &gamma_length, 0);
  const float* beta = float_array(&call, 2, &beta_length, 0);
  const float* dy = float_array(&call, 3, &dy_length, 0);
  float* dx = float_array(&call, 4, &dx_length, 0);
  float* dgamma = float_array(&call, 5, &dgamma_length, 0);
  float* dbeta = float_array(&call, 6, &dbeta_length, 0);
  int32_t* p = int_array(&call, 7, 7);
  if (call.failed) return NULL;
  double epsilon = 0;
  if (napi_get_value_double(env, call.argv[8], &epsilon) != napi_ok || !(epsilon >= 0)) return fail(&call, "tfjs-diffusion native: bad groupNorm epsilon"), NULL;
  const int64_t batch = p[0], pixels = p[1], channels = p[2], groups = p[3];
  const int gamma_per_image = p[4] != 0, beta_per_image = p[5] != 0, activation = p[6];
  if (batch < 0 || pixels < 0 || channels < 1 || groups < 1 || channels % groups != 0 || activation < 0 || activation > 1) {
    return fail(&call, "tfjs-diffusion native: bad groupNorm parameters"), NULL;
  }
  const int64_t size = batch * pixels * channels;
  const int64_t gamma_size = (gamma_per_image ? batch : 1) * channels, beta_size = (beta_per_image ? batch : 1) * channels;
  if ((int64_t)x_length < size || (int64_t)dy_length < size || (int64_t)dx_length < size || (int64_t)gamma_length < gamma_size ||
      (int64_t)beta_length < beta_size || (int64_t)dgamma_length < gamma_size || (int64_t)dbeta_length < beta_size) {
    return fail(&call, "tfjs-diffusion native: groupNormGrad arrays are shorter than their shapes"), NULL;
  }
  // doubles: sums, squares, dz sums, dz x sums, dgamma and dbeta totals; floats: a, b, A, B, C
  double* work = (double*)calloc((size_t)channels, 6 * sizeof(double) + 5 * sizeof(float));
  if (work == NULL) return fail(&call, "tfjs-diffusion native: out of memory"), NULL;
  double *sums = work, *squares = work + channels, *dz_sums = work + 2 * channels, *dz_x_sums = work + 3 * channels;
  double *gamma_totals = work + 4 * channels, *beta_totals = work + 5 * channels;
  float* a = (float*)(work + 6 * channels);
  float *b = a + channels, *a_coefficient = a + 2 * channels, *b_coefficient = a + 3 * channels, *c_coefficient = a + 4 * channels;
  const int64_t per_group = channels / groups;
  const double count = (double)pixels * (double)per_group;
  for (int64_t image = 0; image < batch && pixels > 0; image += 1) {
    const float* source = x + image * pixels * channels;
    const float* image_dy = dy + image * pixels * channels;
    float* image_dx = dx + image * pixels * channels;
    const float* image_gamma = gamma + (gamma_per_image ? image * channels : 0);
    const float* image_beta = beta + (beta_per_image ? image * channels : 0);
    // 3a. the forward statistics and coefficients, as group_norm computes them
    channel_sums(source, pixels, channels, sums, squares);
    group_coefficients(sums, squares, channels, groups, count, epsilon, image_gamma, image_beta, a, b);
    // 3b. dz (into dx) and its per-channel sums
    if (activation == 1) {
#ifdef HAVE_AVX512_GEMM
      if (own_gemm) activation_gradient_avx512(source, image_dy, image_dx, pixels, channels, a, b);
      else
#endif
        activation_gradient_scalar(source, image_dy, image_dx, pixels, channels, a, b);
    } else {
      memcpy(image_dx, image_dy, (size_t)(pixels * channels) * sizeof(float));
    }
    channel_dot_sums(image_dx, source, pixels, channels, dz_sums, dz_x_sums);
    // 3c. dgamma, dbeta, and the coefficients of dx per group
    for (int64_t g = 0; g < groups; g += 1) {
      const double mean = sums[g * per_group], inverse = squares[g * per_group];
      double s1 = 0, s2 = 0;
      for (int64_t c = g * per_group; c < (g + 1) * per_group; c += 1) {
        const double channel_dbeta = dz_sums[c];
        const double channel_dgamma = inverse * (dz_x_sums[c] - mean * dz_sums[c]);
        s1 += (double)image_gamma[c] * channel_dbeta;
        s2 += (double)image_gamma[c] * channel_dgamma;
        if (gamma_per_image) dgamma[image * channels + c] = (float)channel_dgamma;
        else gamma_totals[c] += channel_dgamma;
        if (beta_per_image) dbeta[image * channels + c] = (float)channel_dbeta;
        else beta_totals[c] += channel_dbeta;
      }
      const double b_value = -inverse * inverse * s2 / count;
      const double c_value = -inverse * s1 / count - mean * b_value;
      for (int64_t c = g * per_group; c < (g + 1) * per_group; c += 1) {
        a_coefficient[c] = (float)(inverse * (double)image_gamma[c]);
        b_coefficient[c] = (float)b_value;
        c_coefficient[c] = (float)c_value;
      }
    }
    // 3d. dx = A dz + B x + C
    input_gradient(image_dx, source, pixels, channels, a_coefficient, b_coefficient, c_coefficient);
  }
  if (!gamma_per_image)
    for (int64_t c = 0; c < channels; c += 1) dgamma[c] = (float)gamma_totals[c];
  if (!beta_per_image)
    for (int64_t c = 0; c < channels; c += 1) dbeta[c] = (float)beta_totals[c];
  if (gamma_per_image && pixels == 0) memset(dgamma, 0, (size_t)gamma_size * sizeof(float));
  if (beta_per_image && pixels == 0) memset(dbeta, 0, (size_t)beta_size * sizeof(float));
  free(work);
  return undefined_value(env);
}

// threadCpuSeconds(): the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID), for measurements
// that other processes on a loaded machine do not change.
static napi_value thread_cpu_seconds(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_create_double(env, thread_seconds(), &result);
  return result;
}

// copyRows(source, destination, [rows, length, sourceStride, sourceOffset, destinationStride, destinationOffset]):
// row r's `length` values from source[sourceOffset + r * sourceStride] to destination[destinationOffset
// + r * destinationStride] (Concat and SplitV on the channel axis: one memcpy per pixel).
static napi_value copy_rows(napi_env env, napi_callback_info info) {
  Call call;
  if (!start(&call, env, info, 3)) return NULL;
  size_t source_length, destination_length;
  const float* source = float_array(&call, 0, &source_length, 0);
  float* destination = float_array(&call, 1, &destination_length, 0);
  int32_t* p = int_array(&call, 2, 6);
  if (call.failed) return NULL;
  const int64_t rows = p[0], length = p[1], source_stride = p[2], source_offset = p[3], destination_stride = p[4], destination_offset = p[5];
  if (rows < 0 || length < 0 || source_stride < 0 || source_offset < 0 || destination_stride < 0 || destination_offset < 0) {
    return fail(&call, "tfjs-diffusion native: bad copyRows parameters"), NULL;
  }
  if (rows == 0 || length == 0) return undefined_value(env);
  if (source_offset + (rows - 1) * source_stride + length > (int64_t)source_length ||
      destination_offset + (rows - 1) * destination_stride + length > (int64_t)destination_length) {
    return fail(&call, "tfjs-diffusion native: copyRows reaches past its arrays"), NULL;
  }
  for (int64_t r = 0; r < rows; r += 1) {
    memcpy(destination + destination_offset + r * destination_stride, source + source_offset + r * source_stride, (size_t)length * sizeof(float));
  }
  return undefined_value(env);
}

// upsampleNearest(x, out, [rows, width, channels, factorHeight, factorWidth]): nearest-neighbour
// upsampling by integer factors of NHWC rows (rows = batch * height): output pixel (i, j) is input
// pixel (i / factorHeight, j / factorWidth), rounded down; values copied, never computed.
static napi_value upsample_nearest(napi_env env, napi_callback_info info) {
  Call call;
  if (!start(&call, env, info, 3)) return NULL;
  size_t source_length, destination_length;
  const float* source = float_array(&call, 0, &source_length, 0);
  float* destination = float_array(&call, 1, &destination_length, 0);
  int32_t* p = int_array(&call, 2, 5);
  if (call.failed) return NULL;
  const int64_t rows = p[0], width = p[1], channels = p[2], factor_height = p[3], factor_width = p[4];
  if (rows < 0 || width < 0 || channels < 0 || factor_height < 1 || factor_width < 1) return fail(&call, "tfjs-diffusion native: bad upsampleNearest parameters"), NULL;
  const int64_t out_row = width * factor_width * channels;
  if (rows * width * channels > (int64_t)source_length || rows * factor_height * out_row > (int64_t)destination_length) {
    return fail(&call, "tfjs-diffusion native: upsampleNearest arrays are shorter than their shapes"), NULL;
  }
  for (int64_t r = 0; r < rows; r += 1) {
    float* first = destination + r * factor_height * out_row;
    for (int64_t j = 0; j < width; j += 1) {
      const float* pixel = source + (r * width + j) * channels;
      for (int64_t f = 0; f < factor_width; f += 1) memcpy(first + (j * factor_width + f) * channels, pixel, (size_t)channels * sizeof(float));
    }
    for (int64_t f = 1; f < factor_height; f += 1) memcpy(first + f * out_row, first, (size_t)out_row * sizeof(float));
  }
  return undefined_value(env);
}

// sum(x, out, outer, reduce, inner): out[o, i] = sum_r x[o, r, i] (a Sum over contiguous axes).
static napi_value sum(napi_env env, napi_callback_info info) {
  Call call;
  if (!start(&call, env, info, 3)) return NULL;
  size_t x_length, out_length;
  const float* x = float_array(&call, 0, &x_length, 0);
  float* out = float_array(&call, 1, &out_length, 0);
  int32_t* p = int_array(&call, 2, 3);
  if (call.failed) return NULL;
  const int64_t outer = p[0], reduce = p[1], inner = p[2];
  if (outer < 0 || reduce < 0 || inner < 0 || (int64_t)x_length < outer * reduce * inner || (int64_t)out_length < outer * inner) {
    return fail(&call, "tfjs-diffusion native: sum arrays are shorter than their shapes"), NULL;
  }
  for (int64_t o = 0; o < outer; o += 1) {
    const float* block = x + o * reduce * inner;
    float* target = out + o * inner;
    if (inner == 1) {
      // 1. a contiguous run: eight partial sums, so that the loop vectorises without reassociating floats
      float partial[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      int64_t r = 0;
      for (; r + 8 <= reduce; r += 8) {
        for (int lane = 0; lane < 8; lane += 1) partial[lane] += block[r + lane];
      }
      float total = ((partial[0] + partial[1]) + (partial[2] + partial[3])) + ((partial[4] + partial[5]) + (partial[6] + partial[7]));
      for (; r < reduce; r += 1) total += block[r];
      target[0] = total;
    } else {
      // 2. rows of `inner` values added together
      memset(target, 0, (size_t)inner * sizeof(float));
      for (int64_t r = 0; r < reduce; r += 1) add_into(target, block + r * inner, inner);
    }
  }
  return undefined_value(env);
}

// useOwnGemm(on): whether the AVX-512 SGEMM replaces OpenBLAS where it applies (only where the CPU
// has AVX-512F); returns whether it is now in use.
static napi_value use_own_gemm(napi_env env, napi_callback_info info) {
  Call call;
  if (!start(&call, env, info, 1)) return NULL;
  bool on = false;
  napi_get_value_bool(env, call.argv[0], &on);
  own_gemm = 0;
#ifdef HAVE_AVX512_GEMM
  __builtin_cpu_init();
  own_gemm = on && __builtin_cpu_supports("avx512f");
#endif
  napi_value result;
  napi_get_boolean(env, own_gemm != 0, &result);
  return result;
}

// A size setting's setter: sets it from the one argument when that is at least `minimum`; returns the old value.
static napi_value set_size_setting(napi_env env, napi_callback_info info, int64_t* setting, int32_t minimum) {
  Call call;
  if (!start(&call, env, info, 1)) return NULL;
  int32_t value = 0;
  napi_value result;
  napi_create_int32(env, (int32_t)*setting, &result);
  if (napi_get_value_int32(env, call.argv[0], &value) == napi_ok && value >= minimum) *setting = value;
  return result;
}

// setChunk(floats): the im2col buffer size per SGEMM call (for measurements); returns the old one.
static napi_value set_chunk(napi_env env, napi_callback_info info) { return set_size_setting(env, info, &column_chunk_floats, 1024); }

// Sets a 0/1 setting from the call's one boolean argument; returns whether it was on before.
static napi_value set_flag_setting(napi_env env, napi_callback_info info, int* setting) {
  Call call;
  if (!start(&call, env, info, 1)) return NULL;
  bool on = true;
  napi_get_value_bool(env, call.argv[0], &on);
  napi_value result;
  napi_get_boolean(env, *setting != 0, &result);
  *setting = on ? 1 : 0;
  return result;
}

// setDirect(on): whether forward convolutions with Cout % 16 == 0 skip the im2col buffer (the same
// results, bit for bit; for measurements and tests); off also turns the Winograd path off.
static napi_value set_direct(napi_env env, napi_callback_info info) { return set_flag_setting(env, info, &direct_convolution); }

#ifdef HAVE_AVX512_GEMM
// setWinogradCache(bytes): the most bytes of transformed filters (and the copies they are checked
// against) each thread keeps between calls; 0 keeps none (and frees the calling thread's). Returns the previous limit.
static napi_value set_winograd_cache(napi_env env, napi_callback_info info) {
  napi_value result = set_size_setting(env, info, &winograd_cache_limit_bytes, 0);
  if (result != NULL && winograd_cache_limit_bytes == 0) free_winograd_cache(NULL);
  return result;
}
#else
static int64_t winograd_cache_unavailable = 0;
static napi_value set_winograd_cache(napi_env env, napi_callback_info info) { return set_size_setting(env, info, &winograd_cache_unavailable, 0); }
#endif

#ifdef HAVE_AVX512_GEMM
// setWinograd(on): whether 3x3 stride-1 convolutions take the Winograd F(2x2, 3x3) path (on by
// default; results within float32 rounding of the direct path); returns whether it was on before.
static napi_value set_winograd(napi_env env, napi_callback_info info) { return set_flag_setting(env, info, &winograd_convolution); }
#else
static int winograd_unavailable = 0;
static napi_value set_winograd(napi_env env, napi_callback_info info) { return set_flag_setting(env, info, &winograd_unavailable); }
#endif

// setDirectBlock(bytes): the filter bytes a block of taps of the direct convolution may hold (for
// tests and measurements; the bits do not depend on it); returns the previous value.
static napi_value set_direct_block(napi_env env, napi_callback_info info) { return set_size_setting(env, info, &direct_filter_block_bytes, 1); }

// setThreads(n): OpenBLAS threads for the whole process; returns the count now in use.
static napi_value set_threads(napi_env env, napi_callback_info info) {
  Call call;
  if (!start(&call, env, info, 1)) return NULL;
  int32_t threads = 1;
  if (napi_get_value_int32(env, call.argv[0], &threads) != napi_ok || threads < 1) return fail(&call, "tfjs-diffusion native: threads must be >= 1"), NULL;
  if (blas_library == NULL) return fail(&call, "tfjs-diffusion native: OpenBLAS is not loaded"), NULL;
  blas_set_threads(threads);
  kernel_threads = threads;
  napi_value result;
  napi_create_int32(env, blas_get_threads(), &result);
  return result;
}

// load(libraries: string[], threads, coretype): opens the first OpenBLAS that loads; returns '' or
// why none did. Before the first load it sets OPENBLAS_NUM_THREADS (no idle pool threads beyond what
// is asked for) unless set, and OPENBLAS_CORETYPE: to `coretype` when it is not empty, else, unless
// the environment sets it, to SkylakeX on AMD CPUs with AVX-512 (OpenBLAS 0.3.21 takes Zen 4/5 for
// Haswell).
static napi_value load_blas(napi_env env, napi_callback_info info) {
  Call call;
  if (!start(&call, env, info, 2)) return NULL;
  napi_value result;
  char coretype[64] = "";
  size_t coretype_length = 0;
  if (call.argc > 2) napi_get_value_string_utf8(env, call.argv[2], coretype, sizeof coretype, &coretype_length);
  if (blas_library != NULL) {
    napi_create_string_utf8(env, "", 0, &result);
    return result;
  }
  int32_t threads = 1;
  napi_get_value_int32(env, call.argv[1], &threads);
  if (threads < 1) threads = 1;
  char count[16];
  snprintf(count, sizeof count, "%d", threads);
  setenv("OPENBLAS_NUM_THREADS", count, 0);
  if (coretype[0] != 0) setenv("OPENBLAS_CORETYPE", coretype, 1);
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_is("amd") && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
    setenv("OPENBLAS_CORETYPE", "SkylakeX", 0);
  }
#endif
  uint32_t length = 0;
  napi_get_array_length(env, call.argv[0], &length);
  char errors[2048] = "";
  for (uint32_t i = 0; i < length && blas_library == NULL; i += 1) {
    napi_value element;
    char name[1024];
    size_t written = 0;
    if (napi_get_element(env, call.argv[0], i, &element) != napi_ok ||
        napi_get_value_string_utf8(env, element, name, sizeof name, &written) != napi_ok) continue;
    void* library = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
      const char* why = dlerror();
      size_t used = strlen(errors);
      snprintf(errors + used, sizeof errors - used, "%s%s", used == 0 ? "" : "; ", why == NULL ? name : why);
      continue;
    }
    SgemmFunction sgemm = (SgemmFunction)dlsym(library, "cblas_sgemm");
    void* set = dlsym(library, "openblas_set_num_threads");
    void* get = dlsym(library, "openblas_get_num_threads");
    void* config = dlsym(library, "openblas_get_config");
    void* corename = dlsym(library, "openblas_get_corename");
    if (sgemm == NULL || set == NULL || get == NULL || config == NULL || corename == NULL) {
      size_t used = strlen(errors);
      snprintf(errors + used, sizeof errors - used, "%s%s is not OpenBLAS (no cblas_sgemm/openblas_* symbols)", used == 0 ? "" : "; ", name);
      dlclose(library);
      continue;
    }
    blas_sgemm = sgemm;
    *(void**)&blas_set_threads = set;
    *(void**)&blas_get_threads = get;
    *(void**)&blas_config = config;
    *(void**)&blas_corename = corename;
    blas_library = library;
    blas_set_threads(threads);
  }
  napi_create_string_utf8(env, blas_library != NULL ? "" : (errors[0] ? errors : "no OpenBLAS library was named"), NAPI_AUTO_LENGTH, &result);
  return result;
}


// info(): { blas: 'OpenBLAS ...', core: 'Haswell', threads: n }
static napi_value describe(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result, value;
  napi_create_object(env, &result);
  if (blas_library == NULL) return result;
  napi_create_string_utf8(env, blas_config(), NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, result, "blas", value);
  napi_create_string_utf8(env, blas_corename(), NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, result, "core", value);
  napi_create_int32(env, blas_get_threads(), &value);
  napi_set_named_property(env, result, "threads", value);
  napi_get_boolean(env, own_gemm != 0, &value);
  napi_set_named_property(env, result, "avx512Gemm", value);
  return result;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor properties[] = {
      {"conv2d", NULL, conv2d, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"conv2dBackpropFilter", NULL, conv2d_backprop_filter, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"conv2dBackpropInput", NULL, conv2d_backprop_input, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"batchMatMul", NULL, batch_mat_mul, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"useOwnGemm", NULL, use_own_gemm, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"setChunk", NULL, set_chunk, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"setDirect", NULL, set_direct, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"setDirectBlock", NULL, set_direct_block, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"setWinograd", NULL, set_winograd, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"setWinogradCache", NULL, set_winograd_cache, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"fmaPeak", NULL, fma_peak, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"sigmoid", NULL, sigmoid, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"softmax", NULL, softmax, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"groupNorm", NULL, group_norm, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"groupNormGrad", NULL, group_norm_grad, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"threadCpuSeconds", NULL, thread_cpu_seconds, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"copyRows", NULL, copy_rows, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"upsampleNearest", NULL, upsample_nearest, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"sum", NULL, sum, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"load", NULL, load_blas, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_default_jsproperty, NULL},
      {"info", NULL, describe, NULL, NULL, NULL, napi_default_jsproperty, NULL},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
  napi_add_env_cleanup_hook(env, free_workspace, NULL);
#ifdef HAVE_AVX512_GEMM
  napi_add_env_cleanup_hook(env, free_winograd_cache, NULL);
#endif
#ifdef HAVE_AVX512_GEMM
  __builtin_cpu_init();
  own_gemm = __builtin_cpu_supports("avx512f");
#endif
  return exports;
}
