/**
 * Buffers a layer's kernels reuse from one minibatch to the next, so that training allocates
 * (almost) nothing per minibatch.
 *
 * Why it matters beyond speed: the buffers of one minibatch are a few hundred kB each (hidden
 * states (T+1)·B·H, their gradients T·B·H), allocated outside the JavaScript heap. Allocated and
 * freed at that rate, the C allocator keeps the freed pages in the thread's arena and the process
 * stays tens of MB larger after training than before (measured: `node bench/memory.js`).
 *
 * What a kernel takes from a workspace is valid until the next forward pass with the same
 * workspace, which is how the training loop uses it (forward, loss, backward, then the next
 * minibatch). Callers that keep results — predict, the layer node's stateful states — pass none
 * and get fresh arrays.
 */
export class Workspace {
  private readonly buffers = new Map<string, Float64Array>();

  /** n numbers under `key`: zero-filled when `zero`, otherwise holding whatever the last use left. */
  take(key: string, n: number, zero: boolean): Float64Array {
    let buffer = this.buffers.get(key);
    if (!buffer || buffer.length < n) {
      buffer = new Float64Array(n);
      this.buffers.set(key, buffer);
      return buffer;
    }
    const view = buffer.length === n ? buffer : buffer.subarray(0, n);
    if (zero) view.fill(0);
    return view;
  }
}

/** A fresh array, or the workspace's buffer when there is one. */
export function scratch(ws: Workspace | null | undefined, key: string, n: number, zero: boolean): Float64Array {
  return ws ? ws.take(key, n, zero) : new Float64Array(n);
}
