/**
 * Draws the training loss per step (thin line) and its running mean over `smoothing` steps (thick
 * line) on a log-scaled y axis, with the axis range as labels.
 */
export function drawLossPlot(canvas: HTMLCanvasElement, losses: readonly number[], smoothing = 10): void {
  const context = canvas.getContext('2d');
  if (!context) return;
  const { width, height } = canvas;
  const padding = { left: 48, right: 8, top: 8, bottom: 20 };
  context.fillStyle = '#111';
  context.fillRect(0, 0, width, height);
  const finite = losses.filter((loss) => Number.isFinite(loss) && loss > 0);
  if (finite.length === 0) return;
  const low = Math.log10(Math.min(...finite));
  const high = Math.log10(Math.max(...finite));
  const span = Math.max(high - low, 1e-6);
  const plotWidth = width - padding.left - padding.right;
  const plotHeight = height - padding.top - padding.bottom;
  const x = (step: number) => padding.left + (losses.length <= 1 ? 0 : (step / (losses.length - 1)) * plotWidth);
  const y = (loss: number) => padding.top + (1 - (Math.log10(loss) - low) / span) * plotHeight;

  const line = (values: readonly number[], color: string, lineWidth: number) => {
    context.strokeStyle = color;
    context.lineWidth = lineWidth;
    context.beginPath();
    values.forEach((loss, step) => {
      if (!(Number.isFinite(loss) && loss > 0)) return;
      if (step === 0) context.moveTo(x(step), y(loss));
      else context.lineTo(x(step), y(loss));
    });
    context.stroke();
  };
  line(losses, '#4a7dbd', 1);
  const smoothed = losses.map((_, step) => {
    const window = losses.slice(Math.max(0, step - smoothing + 1), step + 1);
    return window.reduce((sum, loss) => sum + loss, 0) / window.length;
  });
  line(smoothed, '#f0a830', 2);

  context.fillStyle = '#ccc';
  context.font = '11px monospace';
  context.fillText((10 ** high).toFixed(3), 2, padding.top + 10);
  context.fillText((10 ** low).toFixed(3), 2, padding.top + plotHeight);
  context.fillText(`step ${losses.length}`, width - padding.right - 70, height - 4);
}
