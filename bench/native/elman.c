/*
 * The reference task in C, the native limit bench/core.js compares against: the same Elman RNN,
 * loss, batches and SGD as bench/plain-loop.js, float64, written the way a C programmer arranges
 * it for the compiler's vectoriser (every inner loop runs along contiguous memory as an axpy, so
 * gcc -O3 -march=native vectorises it without reassociating sums, i.e. without -ffast-math).
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

/* Forward of windows n0 .. n0+nb-1 into hs. */
static void forward(int n0, int nb) {
  memset(hs, 0, sizeof(double) * nb * H);
  for (int t = 0; t < T; t++) {
    const double *prev = hs + (size_t)t * nb * H;
    double *cur = hs + (size_t)(t + 1) * nb * H;
    for (int b = 0; b < nb; b++) {
      double *a = cur + b * H;
      const double *hp = prev + b * H;
      const double *xt = x + ((size_t)(n0 + b) * T + t) * I;
      memcpy(a, bh, sizeof(double) * H);
      for (int i = 0; i < I; i++) {
        const double v = xt[i];
        const double *w = WxhT + i * H;
        for (int j = 0; j < H; j++) a[j] += w[j] * v;
      }
      for (int k = 0; k < H; k++) {
        const double v = hp[k];
        const double *w = WhhT + k * H;
        for (int j = 0; j < H; j++) a[j] += w[j] * v;
      }
      for (int j = 0; j < H; j++) a[j] = tanh(a[j]);
    }
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
    for (int b = 0; b < nb; b++) {
      double *d = dh + b * H;
      const double *h = cur + b * H;
      const double *hp = prev + b * H;
      const double *xt = x + ((size_t)(n0 + b) * T + t) * I;
      double *next = dn + b * H;
      for (int j = 0; j < H; j++) d[j] *= 1 - h[j] * h[j];
      for (int j = 0; j < H; j++) {
        const double g = d[j];
        gbh[j] += g;
        double *gw = gWhh + j * H;
        const double *w = Whh + j * H;
        for (int k = 0; k < H; k++) { gw[k] += g * hp[k]; next[k] += w[k] * g; }
        for (int i = 0; i < I; i++) gWxh[j * I + i] += g * xt[i];
      }
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
