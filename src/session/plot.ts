// Dice against rounds as a small standalone SVG (one polyline per strategy).

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];

export function dicePlotSvg(series: { label: string; dice: number[] }[], title = 'Dice per round'): string {
  const [w, h, left, right, top, bottom] = [480, 300, 50, 110, 30, 40];
  const rounds = Math.max(1, ...series.map((s) => s.dice.length));
  const x = (r: number) => left + (rounds === 1 ? 0 : ((r - 1) / (rounds - 1)) * (w - left - right));
  const y = (d: number) => top + (1 - d) * (h - top - bottom);
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map((d) => `<line x1="${left}" y1="${y(d)}" x2="${w - right}" y2="${y(d)}" stroke="#ddd"/><text x="${left - 6}" y="${y(d) + 4}" text-anchor="end" font-size="11">${d.toFixed(2)}</text>`)
    .join('');
  const ticks = Array.from({ length: rounds }, (_, i) => `<text x="${x(i + 1)}" y="${h - bottom + 16}" text-anchor="middle" font-size="11">${i + 1}</text>`).join('');
  const lines = series
    .map((s, i) => {
      const c = COLOURS[i % COLOURS.length];
      const pts = s.dice.map((d, r) => `${x(r + 1).toFixed(1)},${y(d).toFixed(1)}`).join(' ');
      const dots = s.dice.map((d, r) => `<circle cx="${x(r + 1).toFixed(1)}" cy="${y(d).toFixed(1)}" r="3" fill="${c}"/>`).join('');
      return `<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts}"/>${dots}<text x="${w - right + 8}" y="${top + 14 + 16 * i}" font-size="12" fill="${c}">${esc(s.label)}</text>`;
    })
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif">` +
    `<rect width="${w}" height="${h}" fill="white"/><text x="${w / 2}" y="18" text-anchor="middle" font-size="14">${esc(title)}</text>` +
    `${grid}${ticks}<text x="${(left + w - right) / 2}" y="${h - 6}" text-anchor="middle" font-size="12">round</text>${lines}</svg>\n`
  );
}
