// Data sets for classification: seeded 2-D generators, splitting, and CSV parsing.

/** A classification data set: one row of features per sample and its class index. */
export interface Dataset {
  /** Features, one row per sample; every row has the same length. */
  X: number[][];
  /** Class of each sample, an integer in 0..nClasses-1. */
  y: number[];
  nClasses: number;
  classNames?: string[];
  featureNames?: string[];
}
