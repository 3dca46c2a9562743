// Issue 10: the shipped IOG on a small slice of a held-out 128x128 phantom volume, the
// kind eval's strategies ask it to correct, through the product's 2D step
// (IOGSliceSegmenter: engine slice layout in, the weights' layout at the network, the
// crop relax scaled with the frame). Generator volume seed 100 (128x128x20, the
// held-out range of tools/make-phantom-dataset.ts), slice 3: the tumour's first slice,
// 38 pixels. One IOG forward at 512 (about 30 s on lavapipe, like test/iog-dice.test.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dice } from '../src/eval/metrics.ts';
import { robotInteraction } from '../src/interaction/robot.ts';
import { phantomVolume, volumeSlice } from '../src/phantom/phantom.ts';
import { loadIOG } from '../src/pretrained/node.ts';
import { IOGSliceSegmenter } from '../src/session/slice-segmenter.ts';
import { transposeImage } from '../src/volume/layout.ts';
import { testRuntime } from './_lib/gpu.ts';

// Measured on lavapipe (Mesa 25.0.7), this test's exact inputs (robot seed 2): 0.9367 with
// the frame's relax (13 px) and clicks mapped to their pixels' centres (2026-12-02); 0.8395
// with DEXTR's floor mapping of clicks into the crop (half a pixel up-left at this
// scale), 0.2229 with the original's 50 px relax (before issue 10's fix). The floor below
// rejects both.
const MEASURED = 0.9367;

test('shipped IOG on a 38-pixel held-out slice at 128x128: 2D Dice at least the measured value minus 0.05', async () => {
  const rt = await testRuntime();
  const slice = volumeSlice(phantomVolume({ seed: 100, width: 128, height: 128, depth: 20 }), 3);
  // The volume stores voxel (x, y) = generator pixel (x, y); an engine slice's rows run along x.
  const [image, truth] = [transposeImage(slice.image, 128, 128), transposeImage(slice.mask, 128, 128)];
  const net = loadIOG(rt);
  try {
    const segmenter = new IOGSliceSegmenter(rt, net);
    const mask = await segmenter.segment({ width: 128, height: 128, data: image }, robotInteraction('extreme-points', { width: 128, height: 128, data: truth }, { seed: 2 }));
    const d = dice(mask, truth);
    console.log(`\nheld-out seed 100 slice 3 (38 px): 2D Dice ${d.toFixed(4)}`);
    assert.ok(d >= MEASURED - 0.05, `2D Dice ${d.toFixed(4)} < ${MEASURED} - 0.05`);
  } finally {
    net.dispose();
  }
});

test.run();
