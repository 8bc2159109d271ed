/** Small inline SVG charts for the status page: no script, no build step. */

export interface ChartSeries {
  label: string;
  color: string;
  values: readonly number[];
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Stacked bars, one per bucket (minute), oldest on the left; `format` writes the peak in the corner.
 * Every bar carries a <title> with its bucket's figures, so a tap or hover shows the numbers.
 */
export function stackedBars(title: string, series: readonly ChartSeries[], format: (n: number) => string, opts: { width?: number; height?: number; startMs: number; bucketMs: number }): string {
  const width = opts.width ?? 360;
  const height = opts.height ?? 72;
  const n = Math.max(0, ...series.map((s) => s.values.length));
  const totals = Array.from({ length: n }, (_, i) => series.reduce((a, s) => a + (s.values[i] ?? 0), 0));
  const peak = Math.max(0, ...totals);
  const bw = n ? width / n : width;
  const bars: string[] = [];
  for (let i = 0; i < n; i++) {
    if (totals[i] === 0) continue;
    let y = height;
    const parts: string[] = [];
    for (const s of series) {
      const v = s.values[i] ?? 0;
      if (v <= 0) continue;
      const h = (v / peak) * (height - 12);
      y -= h;
      parts.push(`<rect x="${(i * bw + 0.5).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${h.toFixed(1)}" fill="${s.color}"/>`);
    }
    const at = new Date(opts.startMs + i * opts.bucketMs).toISOString().slice(11, 16);
    const tip = `${at} UTC: ${series.map((s) => `${s.label} ${format(s.values[i] ?? 0)}`).join(', ')}`;
    bars.push(`<g><title>${esc(tip)}</title>${parts.join('')}</g>`);
  }
  const legend = series.map((s) => `<span class="key"><i style="background:${s.color}"></i>${esc(s.label)}</span>`).join(' ');
  return `<figure class="chart"><figcaption>${esc(title)} <small>last ${n} min · peak ${esc(format(peak))}/min</small></figcaption>`
    + `<svg viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="none" role="img" aria-label="${esc(title)}">`
    + `<line x1="0" y1="${height - 0.5}" x2="${width}" y2="${height - 0.5}" stroke="#ccc"/>${bars.join('')}</svg>`
    + `<div class="legend">${legend}</div></figure>`;
}
