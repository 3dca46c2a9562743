// The interaction side of the 2D round: encoders turning a person's marks on a slice
// into the IOG / DEXTR network's input, paste-back of its output, and a robot user.
export { bboxOfMask, bboxOfPoints, bboxSize, boxToCrop, crop2fullmask, cropPlane, pointToCrop, threshold, type BBox, type Point } from './crop.ts';
export { argmaxPixel, distanceToBackground } from './distance.ts';
export { decodeMask, decodeProbability, defaultRelax, encodeInteraction, RELAX_AT_512, type EncodedInteraction, type EncodeOptions, type Interaction, type InteractionKind } from './encode.ts';
export { assembleInput, DEXTR_RELAX, DEXTR_THRESHOLD, extremePointHeatmap, extremePointInput, INPUT_SIZE, maskFromLogits, pasteProbability, type NetworkInput } from './extreme-points.ts';
export { DEFAULT_SIGMA, gaussianMax, rescaleJointlyTo255, rescaleTo255 } from './heatmap.ts';
export { insideOutsideInput, iogPointsOfMask, IOG_PAD, IOG_RELAX, paddedCorners, type InsideOutsideClicks, type IOGPoints } from './inside-outside.ts';
export { frameRelax, TRAINED_FRAME_SIDE } from './relax.ts';
export { resizeCubicCV, resizeLinearCV, type Plane } from './resample.ts';
export { extremePointsOfMask, insideOutsideOfMask, robotInteraction, scribbleOfMask } from './robot.ts';
export { drawStroke, SCRIBBLE_RELAX, SCRIBBLE_VALUE, scribbleInput } from './scribble.ts';
export { twoPointsInput, twoPointsOfMask } from './two-points.ts';
