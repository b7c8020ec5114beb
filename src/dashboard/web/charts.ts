/** Time-series charts drawn by uPlot (loaded from the package's vendor copy as a global script). */

export interface SeriesSpec {
  label: string;
  color: string;
}

export class LineChart {
  private plot: uPlot | null = null;
  private readonly observer: ResizeObserver;

  constructor(
    private readonly el: HTMLElement,
    private readonly series: SeriesSpec[],
    private readonly fmt: (v: number) => string,
  ) {
    this.observer = new ResizeObserver(() => this.plot?.setSize(this.size()));
    this.observer.observe(el);
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(200, this.el.clientWidth - 4), height: 180 };
  }

  /** `xs` in epoch ms; one array of values per series. */
  update(xs: number[], ys: number[][]): void {
    const data: uPlot.AlignedData = [xs.map((t) => t / 1000), ...ys];
    if (this.plot) {
      this.plot.setData(data);
      return;
    }
    const fmt = this.fmt;
    const opts: uPlot.Options = {
      ...this.size(),
      cursor: { drag: { x: false, y: false } },
      legend: { show: true },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        { stroke: '#8b949e', grid: { stroke: '#21262d' }, ticks: { stroke: '#30363d' } },
        { stroke: '#8b949e', grid: { stroke: '#21262d' }, ticks: { stroke: '#30363d' }, size: 60, values: (_u, vals) => vals.map((v) => fmt(v)) },
      ],
      series: [{}, ...this.series.map((s) => ({ label: s.label, stroke: s.color, width: 2, fill: s.color + '22', value: (_u: uPlot, v: number | null) => (v === null ? '–' : fmt(v)) }))],
    };
    this.plot = new uPlot(opts, data, this.el);
  }

  destroy(): void {
    this.observer.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }
}
