/** An RGB colour, 0-255 per channel. */
export type Color = readonly [number, number, number];

/** A categorical palette (Tableau 10): series without a colour of their own take these in turn. */
export const PALETTE: readonly Color[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
  [188, 189, 34],
  [23, 190, 207],
];
