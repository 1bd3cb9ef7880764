/*
 * The reference task in C, the native limit bench/core.js compares against: the same Elman RNN,
 * loss, batches and SGD as bench/plain-loop.js, float64, arranged the way a C programmer arranges
 * it for the compiler: four batch rows per pass, so that every weight row loaded serves four rows,
 * and every inner loop an axpy along contiguous memory, which gcc -O3 -march=native vectorises
 * without reordering any sum (so without -ffast-math, and with the plain loop's results).
 *
 *   h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h),  h_0 = 0;   y = W_hy h_T + b_y (last step)
 *   L = mean over the batch and outputs of (y - target)^2, then w -= lr * dL/dw per batch
 *
 * Usage: elman <task file> <weights out>. The task file (written by bench/core.js) is float64:
 * N T I H O B lr warmup runs reps rounds, then x (N×T×I), y (N×O), W_xh, W_hh, b_h, W_hy, b_y.
 * Prints the loss before training and after the first (checked) epoch, writes the weights after
 * it, then the times of `runs` more epochs (after `warmup`) and of the one-window forecast.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int N, T, I, H, O, B;
static double lr;
static double *x, *y, *Wxh, *Whh, *bh, *Why, *by;
static double *WxhT, *WhhT;                 /* transposes, refreshed after every SGD step */
static double *gWxh, *gWhh, *gbh, *gWhy, *gby;
static double *hs;                          /* (T+1)×B×H, time-major */
static double *dh, *dn;                     /* B×H */

static double *take(FILE *f, size_t n) {
  double *p = malloc(n * sizeof(double));
  if (!p || fread(p, sizeof(double), n, f) != n) { fprintf(stderr, "short task file\n"); exit(2); }
  return p;
}

static double *zeros(size_t n) { return calloc(n, sizeof(double)); }

static void transposeInto(double *dst, const double *src, int rows, int cols) {
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
}

/* a_r = b_h + W_xh x_r + W_hh hp_r for the R ≤ 4 rows given (R is 4 or 1: every weight row
   loaded serves all of them). */
static inline void affineRows(int R, double *const *a, const double *const *hp, const double *const *xt) {
  for (int r = 0; r < R; r++) memcpy(a[r], bh, sizeof(double) * H);
  for (int i = 0; i < I; i++) {
    const double *restrict w = WxhT + i * H;
    for (int r = 0; r < R; r++) {
      const double v = xt[r][i];
      double *restrict ar = a[r];
      for (int j = 0; j < H; j++) ar[j] += w[j] * v;
    }
  }
  if (R == 4) {
    double *restrict a0 = a[0], *restrict a1 = a[1], *restrict a2 = a[2], *restrict a3 = a[3];
    for (int k = 0; k < H; k++) {
      const double *restrict w = WhhT + k * H;
      const double v0 = hp[0][k], v1 = hp[1][k], v2 = hp[2][k], v3 = hp[3][k];
      for (int j = 0; j < H; j++) { a0[j] += w[j] * v0; a1[j] += w[j] * v1; a2[j] += w[j] * v2; a3[j] += w[j] * v3; }
    }
  } else {
    double *restrict a0 = a[0];
    for (int k = 0; k < H; k++) {
      const double *restrict w = WhhT + k * H;
      const double v0 = hp[0][k];
      for (int j = 0; j < H; j++) a0[j] += w[j] * v0;
    }
  }
  for (int r = 0; r < R; r++) for (int j = 0; j < H; j++) a[r][j] = tanh(a[r][j]);
}

/* Forward of windows n0 .. n0+nb-1 into hs, four rows at a time. */
static void forward(int n0, int nb) {
  memset(hs, 0, sizeof(double) * nb * H);
  for (int t = 0; t < T; t++) {
    const double *prev = hs + (size_t)t * nb * H;
    double *cur = hs + (size_t)(t + 1) * nb * H;
    for (int b = 0; b < nb;) {
      const int R = nb - b >= 4 ? 4 : 1;
      double *a[4];
      const double *hp[4], *xt[4];
      for (int r = 0; r < R; r++) {
        a[r] = cur + (b + r) * H;
        hp[r] = prev + (b + r) * H;
        xt[r] = x + ((size_t)(n0 + b + r) * T + t) * I;
      }
      affineRows(R, a, hp, xt);
      b += R;
    }
  }
}

/* Backward of one step for R ≤ 4 rows: d_r becomes da_r, gradients added, next_r = W_hhᵀ da_r. */
static inline void backRows(int R, double *const *d, const double *const *h, const double *const *hp, const double *const *xt, double *const *next) {
  for (int r = 0; r < R; r++) for (int j = 0; j < H; j++) d[r][j] *= 1 - h[r][j] * h[r][j];
  for (int j = 0; j < H; j++) {
    double *restrict gw = gWhh + j * H;
    const double *restrict w = Whh + j * H;
    if (R == 4) {
      const double g0 = d[0][j], g1 = d[1][j], g2 = d[2][j], g3 = d[3][j];
      gbh[j] += g0 + g1 + g2 + g3;
      const double *restrict h0 = hp[0], *restrict h1 = hp[1], *restrict h2 = hp[2], *restrict h3 = hp[3];
      double *restrict n0 = next[0], *restrict n1 = next[1], *restrict n2 = next[2], *restrict n3 = next[3];
      for (int k = 0; k < H; k++) gw[k] += g0 * h0[k] + g1 * h1[k] + g2 * h2[k] + g3 * h3[k];
      for (int k = 0; k < H; k++) { n0[k] += w[k] * g0; n1[k] += w[k] * g1; n2[k] += w[k] * g2; n3[k] += w[k] * g3; }
    } else {
      const double g0 = d[0][j];
      gbh[j] += g0;
      const double *restrict h0 = hp[0];
      double *restrict n0 = next[0];
      for (int k = 0; k < H; k++) { gw[k] += g0 * h0[k]; n0[k] += w[k] * g0; }
    }
    for (int r = 0; r < R; r++) for (int i = 0; i < I; i++) gWxh[j * I + i] += d[r][j] * xt[r][i];
  }
}

/* Forward, loss and gradient of one batch, then the SGD step; returns the batch's mean loss. */
static double trainBatch(int n0, int nb, int update) {
  forward(n0, nb);
  memset(gWxh, 0, sizeof(double) * H * I);
  memset(gWhh, 0, sizeof(double) * H * H);
  memset(gbh, 0, sizeof(double) * H);
  memset(gWhy, 0, sizeof(double) * O * H);
  memset(gby, 0, sizeof(double) * O);
  memset(dh, 0, sizeof(double) * nb * H);
  const double scale = 2.0 / ((double)nb * O);
  double sq = 0;
  const double *last = hs + (size_t)T * nb * H;
  for (int b = 0; b < nb; b++) {
    const double *h = last + b * H;
    for (int o = 0; o < O; o++) {
      double v = by[o];
      const double *w = Why + o * H;
      for (int j = 0; j < H; j++) v += w[j] * h[j];
      const double err = v - y[(size_t)(n0 + b) * O + o];
      sq += err * err;
      const double g = scale * err;
      gby[o] += g;
      double *gw = gWhy + o * H;
      double *d = dh + b * H;
      for (int j = 0; j < H; j++) { gw[j] += g * h[j]; d[j] += w[j] * g; }
    }
  }
  if (!update) return sq / ((double)nb * O);
  for (int t = T - 1; t >= 0; t--) {
    const double *cur = hs + (size_t)(t + 1) * nb * H;
    const double *prev = hs + (size_t)t * nb * H;
    memset(dn, 0, sizeof(double) * nb * H);
    for (int b = 0; b < nb;) {
      const int R = nb - b >= 4 ? 4 : 1;
      double *d[4], *next[4];
      const double *h[4], *hp[4], *xt[4];
      for (int r = 0; r < R; r++) {
        d[r] = dh + (b + r) * H;
        next[r] = dn + (b + r) * H;
        h[r] = cur + (b + r) * H;
        hp[r] = prev + (b + r) * H;
        xt[r] = x + ((size_t)(n0 + b + r) * T + t) * I;
      }
      backRows(R, d, h, hp, xt, next);
      b += R;
    }
    double *swap = dh; dh = dn; dn = swap;
  }
  for (int i = 0; i < H * I; i++) Wxh[i] -= lr * gWxh[i];
  for (int i = 0; i < H * H; i++) Whh[i] -= lr * gWhh[i];
  for (int i = 0; i < H; i++) bh[i] -= lr * gbh[i];
  for (int i = 0; i < O * H; i++) Why[i] -= lr * gWhy[i];
  for (int i = 0; i < O; i++) by[i] -= lr * gby[i];
  transposeInto(WxhT, Wxh, H, I);
  transposeInto(WhhT, Whh, H, H);
  return sq / ((double)nb * O);
}

static double epoch(int update) {
  double sum = 0;
  for (int n0 = 0; n0 < N; n0 += B) {
    const int nb = N - n0 < B ? N - n0 : B;
    sum += trainBatch(n0, nb, update) * nb;
  }
  return sum / N;
}

static double nowMs(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: elman <task file> <weights out>\n"); return 2; }
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror(argv[1]); return 2; }
  double *head = take(f, 11);
  N = (int)head[0]; T = (int)head[1]; I = (int)head[2]; H = (int)head[3]; O = (int)head[4]; B = (int)head[5];
  lr = head[6];
  const int warmup = (int)head[7], runs = (int)head[8], reps = (int)head[9], rounds = (int)head[10];
  x = take(f, (size_t)N * T * I); y = take(f, (size_t)N * O);
  Wxh = take(f, H * I); Whh = take(f, H * H); bh = take(f, H); Why = take(f, O * H); by = take(f, O);
  fclose(f);
  WxhT = zeros(H * I); WhhT = zeros(H * H);
  transposeInto(WxhT, Wxh, H, I);
  transposeInto(WhhT, Whh, H, H);
  gWxh = zeros(H * I); gWhh = zeros(H * H); gbh = zeros(H); gWhy = zeros(O * H); gby = zeros(O);
  hs = zeros((size_t)(T + 1) * B * H); dh = zeros((size_t)B * H); dn = zeros((size_t)B * H);

  printf("initial %.17g\n", epoch(0));
  printf("first %.17g\n", epoch(1));
  FILE *w = fopen(argv[2], "wb");
  if (!w) { perror(argv[2]); return 2; }
  fwrite(Wxh, sizeof(double), H * I, w); fwrite(Whh, sizeof(double), H * H, w); fwrite(bh, sizeof(double), H, w);
  fwrite(Why, sizeof(double), O * H, w); fwrite(by, sizeof(double), O, w);
  fclose(w);

  for (int r = 0; r < warmup; r++) epoch(1);
  printf("epoch_ms");
  for (int r = 0; r < runs; r++) { const double t0 = nowMs(); epoch(1); printf(" %.4f", nowMs() - t0); }
  printf("\n");

  /* One-window forecast: the first window, batch of one, the output of the last step. */
  double sink = 0;
  printf("forecast_us");
  for (int r = 0; r <= rounds; r++) {
    const double t0 = nowMs();
    for (int k = 0; k < reps; k++) {
      forward(0, 1);
      const double *h = hs + (size_t)T * H;
      double v = by[0];
      for (int j = 0; j < H; j++) v += Why[j] * h[j];
      sink += v;
    }
    if (r > 0) printf(" %.4f", (nowMs() - t0) * 1e3 / reps); /* round 0 is the warm-up */
  }
  printf("\nsink %.3g\n", sink);
  return 0;
}
