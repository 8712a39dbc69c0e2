import { type DataSplits, subset } from '../../src/data/dataset.js';
import { loadMnist } from '../../src/data/mnist.js';
import { spreadIndices } from '../../src/vae/evaluate.js';

/** A small slice of the bundled digits (every class present), for fast training tests. */
export function smallMnist(trainCount = 1024, testCount = 200): DataSplits {
  const { train, test } = loadMnist();
  return { train: subset(train, spreadIndices(train.n, trainCount)), test: subset(test, spreadIndices(test.n, testCount)) };
}
