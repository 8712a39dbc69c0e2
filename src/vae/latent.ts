/**
 * Small numerical helpers for looking at a latent space: a 2-D projection of codes for
 * scatter plots, and the standard normal quantiles used to lay out the decoded manifold.
 */

/**
 * Projects n points of dimension d (row-major) onto their first two principal components:
 * center, form the d×d covariance, and find its top two eigenvectors by power iteration with
 * deflation (deterministic start vectors; signs fixed so each axis's largest loading is positive).
 * For d = 2 the points are returned as they are (the latent axes themselves).
 */
export function projectTo2d(points: ArrayLike<number>, n: number, d: number): Array<[number, number]> {
  if (d === 2) return Array.from({ length: n }, (_, i) => [points[2 * i]!, points[2 * i + 1]!]);
  if (d === 1) return Array.from({ length: n }, (_, i) => [points[i]!, 0]);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += points[i * d + j]! / n;
  const cov = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      const da = points[i * d + a]! - mean[a]!;
      for (let b = 0; b < d; b++) cov[a * d + b]! += (da * (points[i * d + b]! - mean[b]!)) / Math.max(1, n - 1);
    }
  }
  const axes: Float64Array[] = [];
  for (let component = 0; component < 2; component++) {
    let v = Float64Array.from({ length: d }, (_, j) => 1 / Math.sqrt(d) + (j === component ? 0.5 : 0));
    for (let iter = 0; iter < 500; iter++) {
      const w = new Float64Array(d);
      for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) w[a]! += cov[a * d + b]! * v[b]!;
      for (const u of axes) {
        const dot = u.reduce((s, x, j) => s + x * w[j]!, 0);
        for (let j = 0; j < d; j++) w[j]! -= dot * u[j]!;
      }
      const norm = Math.hypot(...w) || 1;
      const next = w.map((x) => x / norm);
      const change = next.reduce((s, x, j) => s + Math.abs(x - v[j]!), 0);
      v = next;
      if (change < 1e-12) break;
    }
    const largest = v.reduce((best, x) => (Math.abs(x) > Math.abs(best) ? x : best), 0);
    if (largest < 0) v = v.map((x) => -x);
    axes.push(v);
  }
  return Array.from({ length: n }, (_, i) => {
    const p = (u: Float64Array): number => u.reduce((s, x, j) => s + x * (points[i * d + j]! - mean[j]!), 0);
    return [p(axes[0]!), p(axes[1]!)];
  });
}

/**
 * Φ⁻¹(p), the standard normal quantile, by Acklam's rational approximation (relative error
 * below 1.2e-9 on (0, 1)).
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  const tail = (q: number): number =>
    (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < low) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - low) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1)
  );
}
