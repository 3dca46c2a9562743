// nn.Sequential: each step runs in its own scope, and an intermediate output is
// released as soon as the next step has read it, as PyTorch frees it when its last
// reference goes. This keeps a 23-block ResNet layer's peak memory at two block
// outputs instead of all of them.
import type { Runtime } from '../runtime/runtime.ts';
import type { Tensor } from '../runtime/tensor.ts';

export interface Module {
  forward(rt: Runtime, x: Tensor): Tensor;
}

/** A module, or a step written inline: `(x) => conv2d(rt, relu(rt, x), this.pred2)`. */
export type Step = Module | ((x: Tensor) => Tensor);

/** Runs `steps` in order on `x`; never releases `x` itself. */
export function sequential(rt: Runtime, x: Tensor, steps: readonly Step[]): Tensor {
  let h = x;
  for (const step of steps) {
    const input = h;
    h = rt.scope(() => (typeof step === 'function' ? step(input) : step.forward(rt, input)));
    if (input !== x && input !== h) input.dispose();
  }
  return h;
}
