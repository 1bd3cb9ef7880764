"use strict";
// An independent, deliberately naive forward pass of a stack of Elman layers, written with plain
// nested arrays from the equations (no code shared with the core). Used as the reference for
// predictions and for finite-difference checks of truncated BPTT.

function act(name, a) {
  switch (name) {
    case "tanh": return Math.tanh(a);
    case "relu": return a > 0 ? a : 0;
    case "sigmoid": return 1 / (1 + Math.exp(-a));
    default: return a;
  }
}

function outAct(name, z) {
  if (name === "softmax") {
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  }
  return z.map((v) => act(name, v));
}

// layers: [{ I, H, O|undefined, f, g, W_xh (flat), W_hh, b_h, W_hy, b_y }]
// inputs: B×T×I nested. frozen: optional per layer, per b, per t, the state to use as h_{t-1}
// at block starts (truncation): frozen[k][b][t] = array or undefined.
// Returns { outputs: B×T×O, states: per layer B×(T+1)×H (index 0 = h_0) }.
function forward(layers, inputs, frozen) {
  let seqs = inputs;
  const states = [];
  for (let k = 0; k < layers.length; k++) {
    const L = layers[k];
    const layerStates = [];
    const outs = seqs.map((seq, b) => {
      let h = new Array(L.H).fill(0);
      const hs = [h];
      const ys = seq.map((x, t) => {
        const hPrev = frozen && frozen[k] && frozen[k][b] && frozen[k][b][t] ? frozen[k][b][t] : h;
        const next = new Array(L.H);
        for (let j = 0; j < L.H; j++) {
          let a = L.b_h[j];
          for (let i = 0; i < L.I; i++) a += L.W_xh[j * L.I + i] * x[i];
          for (let m = 0; m < L.H; m++) a += L.W_hh[j * L.H + m] * hPrev[m];
          next[j] = act(L.f, a);
        }
        h = next;
        hs.push(h);
        if (L.O === undefined) return h.slice();
        const z = new Array(L.O);
        for (let o = 0; o < L.O; o++) {
          let s = L.b_y[o];
          for (let j = 0; j < L.H; j++) s += L.W_hy[o * L.H + j] * h[j];
          z[o] = s;
        }
        return outAct(L.g, z);
      });
      layerStates.push(hs);
      return ys;
    });
    states.push(layerStates);
    seqs = outs;
  }
  return { outputs: seqs, states };
}

/** Plain description of a core Model's layers for `forward`. */
function describe(model) {
  return model.layers.map((l) => ({
    I: l.inputSize,
    H: l.hiddenSize,
    O: l.spec.outputSize,
    f: l.activation,
    g: l.outputActivation,
    W_xh: l.params.W_xh,
    W_hh: l.params.W_hh,
    b_h: l.params.b_h,
    W_hy: l.params.W_hy,
    b_y: l.params.b_y,
  }));
}

module.exports = { forward, describe };
