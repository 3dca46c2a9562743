// The user's extreme points, kept per slice: changing slice hides them, coming back
// shows them again; they stay after segmenting so one can be dragged and the slice
// segmented again. In-plane voxel indices (a, b) (src/volume/layout.ts). Pure.
import type { VoxelPoint } from '../../src/volume/layout.ts';

export const POINTS_PER_SET = 4;

export class SlicePoints {
  private readonly bySlice = new Map<number, VoxelPoint[]>();

  get(z: number): readonly VoxelPoint[] {
    return this.bySlice.get(z) ?? [];
  }

  /** False (and nothing changes) when the slice has its four points already. */
  add(z: number, p: VoxelPoint): boolean {
    const list = this.bySlice.get(z) ?? [];
    if (list.length >= POINTS_PER_SET) return false;
    this.bySlice.set(z, [...list, p]);
    return true;
  }

  move(z: number, index: number, p: VoxelPoint): void {
    const list = [...this.get(z)];
    if (index < 0 || index >= list.length) return;
    list[index] = p;
    this.bySlice.set(z, list);
  }

  remove(z: number, index: number): void {
    const list = this.get(z).filter((_, i) => i !== index);
    if (list.length) this.bySlice.set(z, list);
    else this.bySlice.delete(z);
  }

  clear(z: number): void {
    this.bySlice.delete(z);
  }

  clearAll(): void {
    this.bySlice.clear();
  }

  /** Slices holding points, ascending. */
  slices(): number[] {
    return [...this.bySlice.keys()].sort((x, y) => x - y);
  }
}

/** Index of the point within `radius` of (col, row) in screen space, nearest first; -1 if none. */
export function pointNear(points: readonly { col: number; row: number }[], col: number, row: number, radius: number): number {
  let best = -1;
  let bestD = radius;
  points.forEach((p, i) => {
    const d = Math.hypot(p.col - col, p.row - row);
    if (d <= bestD) [best, bestD] = [i, d];
  });
  return best;
}
