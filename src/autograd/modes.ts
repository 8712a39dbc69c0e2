/**
 * The engine's two switches, the only mutable state of autograd: whether ops record the graph
 * (`noGrad`, `enableGrad`) and whether every result is checked for NaN/±Inf (`detectAnomaly`).
 */

let gradEnabled = true;
let anomalyDepth = 0;

/** Thrown by {@link detectAnomaly} at the first op whose output or gradient holds NaN or ±Inf. */
export class AnomalyError extends Error {
  override name = 'AnomalyError';
}

/** Whether ops currently record the graph (false inside {@link noGrad}). */
export const isGradEnabled = (): boolean => gradEnabled;

/** Runs `fn` with the graph recorded or not (the switch {@link noGrad} and {@link enableGrad} turn). */
export function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/** Runs `fn` without recording the graph, like `torch.no_grad()`: results require no gradient. */
export const noGrad = <T>(fn: () => T): T => withGradMode(false, fn);

/** Runs `fn` recording the graph even inside {@link noGrad}, like `torch.enable_grad()`. */
export const enableGrad = <T>(fn: () => T): T => withGradMode(true, fn);

/** Runs `fn` checking every op's output (and, in backward, every gradient) for NaN/±Inf. */
export function detectAnomaly<T>(fn: () => T): T {
  anomalyDepth++;
  try {
    return fn();
  } finally {
    anomalyDepth--;
  }
}

/** Whether {@link detectAnomaly} is on (some call of it is running). */
export const isAnomalyDetection = (): boolean => anomalyDepth > 0;
