// The 2D interactive segmentation network of Mem3D (networks/mainnetwork.py,
// `Network(nInputChannels, num_classes=1, backbone='resnet101', output_stride=16)`,
// the IOG architecture): ResNet-101 -> PSP on x4 -> CoarseNet over [psp, x3, x2, x1]
// -> FineNet, every output upsampled to 512x512 with align_corners=True.
//
// Input: [1, H, W, C] with the image channels raw 0..255 (no normalisation, as the
// original trains it) followed by the guidance channels: C = 4 for an extreme-point
// heatmap, 5 for inside / outside point maps.
import { resizeBilinear } from '../../ops/resize.ts';
import type { Runtime } from '../../runtime/runtime.ts';
import type { Tensor } from '../../runtime/tensor.ts';
import type { SliceLayout } from '../../volume/layout.ts';
import { ParamLoader, weightsSliceLayout, type TensorSpec, type WeightPrecision, type WeightSet, type WeightSpec } from '../../weights/loader.ts';
import type { WeightSource } from '../../weights/source.ts';
import { IOGResNet101 } from './backbone.ts';
import { CoarseNet } from './coarse-net.ts';
import { FineNet } from './fine-net.ts';
import { PSPModule } from './psp.ts';

/** The original's fixed sizes: heads at 128x128 (`output_shape`), outputs at 512x512 (`self.upsample`). */
export const IOG_HEAD_SIZE = 128;
export const IOG_OUTPUT_SIZE = 512;
const CHANNEL_SETTINGS = [512, 1024, 512, 256];
const NUM_CLASSES = 1;

export interface IOGOutput {
  /** fine_out: logits [1, 512, 512, 1]. */
  fine: Tensor;
  /** coarse_outs[0..3]: logits [1, 512, 512, 1]; empty with `{ coarse: false }`. */
  coarse: Tensor[];
  dispose(): void;
}

export interface IOGNetworkOptions {
  /** 4 (image + extreme-point heatmap, the default) or 5 (image + inside and outside point maps). */
  inputChannels?: number;
  /** The slice layout the weights were trained with; overrides the weights' `slice_layout` metadata. */
  sliceLayout?: SliceLayout;
  /** Conv weight storage on the GPU, 'f32' (default) or 'f16' (needs shader-f16; src/weights/loader.ts). */
  weightPrecision?: WeightPrecision;
}

type Modules = ReturnType<typeof modules>;

function modules(p: ParamLoader, inputChannels: number) {
  return {
    Coarse_net: new CoarseNet(p, 'Coarse_net', CHANNEL_SETTINGS, IOG_HEAD_SIZE, NUM_CLASSES),
    Fine_net: new FineNet(p, 'Fine_net', CHANNEL_SETTINGS[CHANNEL_SETTINGS.length - 1], IOG_HEAD_SIZE, NUM_CLASSES),
    backbone: new IOGResNet101(p, 'backbone', inputChannels),
    psp4: new PSPModule(p, 'psp4', 2048, 512, [1, 2, 3, 6]),
  };
}

export class IOGNetwork {
  private readonly backbone: IOGResNet101;
  private readonly psp4: PSPModule;
  private readonly Coarse_net: CoarseNet;
  private readonly Fine_net: FineNet;

  private constructor(
    private readonly rt: Runtime,
    readonly inputChannels: number,
    m: Modules,
    /** Every GPU weight of this network; `dispose()` releases them. */
    readonly weights: WeightSet,
    /** The slice layout its weights were trained with; undefined when neither the weights nor the caller state it. */
    readonly sliceLayout: SliceLayout | undefined,
  ) {
    this.backbone = m.backbone;
    this.psp4 = m.psp4;
    this.Coarse_net = m.Coarse_net;
    this.Fine_net = m.Fine_net;
  }

  /**
   * Checks the weights against the network (a WeightMismatchError names every missing,
   * mis-shaped or unexpected tensor, before anything is uploaded), then uploads them once.
   */
  static load(rt: Runtime, source: WeightSource, options: IOGNetworkOptions = {}): IOGNetwork {
    const inputChannels = options.inputChannels ?? 4;
    checkChannels(inputChannels);
    const sliceLayout = weightsSliceLayout(source, options.sliceLayout);
    const loaded = ParamLoader.load(rt, source, (p) => modules(p, inputChannels), [], { weightPrecision: options.weightPrecision });
    return new IOGNetwork(rt, inputChannels, loaded.modules, loaded.weights, sliceLayout);
  }

  /** What the weights must hold for this many input channels (also `mem3d convert`'s check). */
  static weightSpec(inputChannels = 4): WeightSpec {
    checkChannels(inputChannels);
    return { tensors: ParamLoader.expectedTensors((p) => modules(p, inputChannels)), unused: [] };
  }

  /** The state_dict tensors (names, PyTorch shapes) the network expects for this many input channels. */
  static expectedTensors(inputChannels = 4): TensorSpec[] {
    return [...IOGNetwork.weightSpec(inputChannels).tensors];
  }

  /** GPU bytes of the weights. */
  get weightBytes(): number {
    return this.weights.bytes;
  }

  /**
   * input [1, H, W, inputChannels], H and W multiples of 16 (512x512 in the original's
   * use). `coarse: false` skips the four coarse heads, which only training reads.
   */
  forward(input: Tensor, options: { coarse?: boolean } = {}): IOGOutput {
    const rt = this.rt;
    if (this.weights.disposed) throw new Error('IOGNetwork.forward: this IOGNetwork was disposed');
    input.assertLive('IOGNetwork.forward');
    const [n, h, w, c] = input.shape;
    if (input.dtype !== 'f32' || input.shape.length !== 4 || n !== 1 || c !== this.inputChannels) {
      throw new RangeError(`IOGNetwork.forward: input must be an f32 [1, H, W, ${this.inputChannels}] tensor (image 0..255 and guidance channels), got ${input.dtype} [${input.shape.join(', ')}]`);
    }
    if (h % 16 !== 0 || w % 16 !== 0 || h < 32 || w < 32) {
      throw new RangeError(`IOGNetwork.forward: input size ${h}x${w} is not supported: height and width must be multiples of 16 and at least 32 (the original runs on 512x512 crops)`);
    }
    if (input.firstNonFinite >= 0) throw new RangeError(`IOGNetwork.forward: the input '${input.label}' holds a non-finite value (NaN or Inf) at element ${input.firstNonFinite}`);
    return rt.scope(() => {
      const { fms, outs } = rt.scope(() => {
        const levels = rt.scope(() => {
          const [x4, x3, x2, x1] = this.backbone.forward(rt, input);
          return [this.psp4.forward(rt, x4), x3, x2, x1];
        });
        return this.Coarse_net.forward(rt, levels, options.coarse ?? true);
      });
      const upsample = (t: Tensor) => resizeBilinear(rt, t, [IOG_OUTPUT_SIZE, IOG_OUTPUT_SIZE], { alignCorners: true });
      const fine = upsample(this.Fine_net.forward(rt, fms));
      const coarse = outs.map(upsample);
      return {
        fine,
        coarse,
        dispose() {
          fine.dispose();
          for (const t of coarse) t.dispose();
        },
      };
    });
  }

  /** Releases every GPU weight; the network is unusable afterwards. */
  dispose(): void {
    this.weights.dispose();
  }
}

function checkChannels(c: number): void {
  if (c !== 4 && c !== 5) throw new RangeError(`IOGNetwork: inputChannels must be 4 (image + extreme-point heatmap) or 5 (image + inside and outside point maps), got ${c}`);
}
