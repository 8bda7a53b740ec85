// Bar charts with Chart.js (tree-shaken to what the dashboard uses). Every bar carries its
// value as text and its key on the axis, so no chart depends on colour; the canvas has a text
// alternative, and each chart sits beside a table of the same figures.
import { BarController, BarElement, CategoryScale, Chart, LinearScale, Tooltip, type Plugin } from 'chart.js';
import type { Bucket } from './api';
import { count } from './dom';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

const ink = '#1f2933';
const bar = '#3b6ea5';

/** Writes each bar's value at its end. */
const valueLabels: Plugin<'bar'> = {
  id: 'valueLabels',
  afterDatasetsDraw(chart) {
    const { ctx } = chart;
    const horizontal = chart.options.indexAxis === 'y';
    ctx.save();
    ctx.fillStyle = ink;
    ctx.font = '12px system-ui, sans-serif';
    ctx.textBaseline = horizontal ? 'middle' : 'bottom';
    ctx.textAlign = horizontal ? 'left' : 'center';
    const meta = chart.getDatasetMeta(0);
    const data = chart.data.datasets[0]?.data ?? [];
    meta.data.forEach((el, i) => {
      const v = Number(data[i] ?? 0);
      const { x, y } = el.getProps(['x', 'y'], true) as { x: number; y: number };
      ctx.fillText(count(v), horizontal ? x + 4 : x, horizontal ? y : y - 2);
    });
    ctx.restore();
  },
};

export interface BarOptions {
  /** Horizontal bars with their keys on the left (for named categories). */
  horizontal?: boolean;
  /** Print the value of every bar (off for long series such as months). */
  values?: boolean;
  labelOf?: (key: string) => string;
  /** The bar's name on the axis, when labelOf's is too long for it (the table has the long one). */
  axisLabelOf?: (key: string) => string;
}

export function barChart(canvas: HTMLCanvasElement, title: string, buckets: Bucket[], opts: BarOptions = {}): Chart<'bar'> {
  const labelOf = opts.labelOf ?? ((k: string) => k);
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `${title}: ` + (buckets.map((b) => `${labelOf(b.key)} ${count(b.count)}`).join(', ') || 'none'));
  const max = Math.max(1, ...buckets.map((b) => b.count));
  return new Chart(canvas, {
    type: 'bar',
    data: {
      labels: buckets.map((b) => (opts.axisLabelOf ?? labelOf)(b.key)),
      datasets: [{ label: title, data: buckets.map((b) => b.count), backgroundColor: bar, borderColor: ink, borderWidth: 1 }],
    },
    options: {
      indexAxis: opts.horizontal ? 'y' : 'x',
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      // Room for the value printed past the longest bar.
      layout: { padding: opts.horizontal ? { right: 48 } : { top: 18 } },
      scales: {
        [opts.horizontal ? 'x' : 'y']: { beginAtZero: true, suggestedMax: max, ticks: { color: ink, precision: 0 } },
        [opts.horizontal ? 'y' : 'x']: { ticks: { color: ink, autoSkip: !opts.horizontal } },
      },
      plugins: { legend: { display: false }, tooltip: { enabled: true } },
    },
    plugins: opts.values === false ? [] : [valueLabels],
  });
}
