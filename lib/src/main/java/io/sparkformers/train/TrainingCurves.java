package io.sparkformers.train;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * A PNG of the training curves from a log history (HF's {@code state.log_history} or {@code log_history.jsonl}):
 * the top panel plots training {@code loss} and {@code eval_loss} against the step, the bottom panel the eval metric
 * (e.g. {@code eval_accuracy}) when there is one besides the loss. Drawn with java.awt in headless mode (no display
 * needed; works on executors and CI).
 */
public final class TrainingCurves {
    private static final Color[] COLORS = {new Color(31, 119, 180), new Color(255, 127, 14), new Color(44, 160, 44)};

    /** One line: a name and its (step, value) points. */
    record Series(String name, double[] x, double[] y) {}

    private TrainingCurves() {}

    /** 900 × 600 pixels. */
    public static void write(Path png, List<Map<String, Object>> logHistory, String evalMetricKey) throws IOException {
        write(png, logHistory, evalMetricKey, 900, 600);
    }

    /**
     * @param evalMetricKey the metric of the bottom panel, with or without "eval_" (e.g. "accuracy"); null or a loss
     *                      for none
     */
    public static void write(
            Path png, List<Map<String, Object>> logHistory, String evalMetricKey, int width, int height)
            throws IOException {
        if (width < 200 || height < 150) throw new IllegalArgumentException("image too small: " + width + "x" + height);
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
        String metric = evalMetricKey == null
                ? null
                : evalMetricKey.startsWith("eval_") ? evalMetricKey : "eval_" + evalMetricKey;
        List<Series> losses = new ArrayList<>();
        addSeries(losses, logHistory, "loss", "train loss");
        addSeries(losses, logHistory, "eval_loss", "eval loss");
        List<Series> metrics = new ArrayList<>();
        if (metric != null && !metric.equals("eval_loss")) addSeries(metrics, logHistory, metric, metric);

        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            // both panels share the step axis so their points line up vertically
            double[] steps = stepRange(losses, metrics);
            if (metrics.isEmpty()) {
                panel(g, losses, "loss", steps, 0, 0, width, height);
            } else {
                panel(g, losses, "loss", steps, 0, 0, width, height / 2);
                panel(g, metrics, metric, steps, 0, height / 2, width, height - height / 2);
            }
        } finally {
            g.dispose();
        }
        Files.createDirectories(png.toAbsolutePath().getParent());
        if (!ImageIO.write(img, "png", png.toFile())) throw new IOException("no PNG writer available");
    }

    private static void addSeries(List<Series> out, List<Map<String, Object>> history, String key, String name) {
        List<double[]> pts = new ArrayList<>();
        for (Map<String, Object> e : history) {
            if (e.get(key) instanceof Number v && e.get("step") instanceof Number s) {
                pts.add(new double[] {s.doubleValue(), v.doubleValue()});
            }
        }
        if (pts.isEmpty()) return;
        double[] x = new double[pts.size()];
        double[] y = new double[pts.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = pts.get(i)[0];
            y[i] = pts.get(i)[1];
        }
        out.add(new Series(name, x, y));
    }

    private static double[] stepRange(List<Series> a, List<Series> b) {
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (List<Series> list : List.of(a, b)) {
            for (Series s : list) {
                for (double x : s.x()) {
                    lo = Math.min(lo, x);
                    hi = Math.max(hi, x);
                }
            }
        }
        return new double[] {lo, hi};
    }

    private static void panel(
            Graphics2D g, List<Series> series, String title, double[] steps, int x0, int y0, int w, int h) {
        int left = x0 + 70;
        int right = x0 + w - 20;
        int top = y0 + 30;
        int bottom = y0 + h - 45;
        FontMetrics fm = g.getFontMetrics();
        g.setColor(Color.BLACK);
        g.drawString(title, x0 + (w - fm.stringWidth(title)) / 2, y0 + 18);
        if (series.isEmpty()) {
            String msg = "no data";
            g.drawString(msg, (left + right - fm.stringWidth(msg)) / 2, (top + bottom) / 2);
            return;
        }
        double minX = steps[0], maxX = steps[1];
        double minY = Double.POSITIVE_INFINITY, maxY = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (int i = 0; i < s.x().length; i++) {
                if (!Double.isFinite(s.y()[i])) continue;
                minY = Math.min(minY, s.y()[i]);
                maxY = Math.max(maxY, s.y()[i]);
            }
        }
        if (!(maxX > minX)) {
            minX -= 1;
            maxX += 1;
        }
        if (!(maxY > minY)) {
            double pad = Math.max(Math.abs(minY) * 0.1, 1e-3);
            minY -= pad;
            maxY += pad;
        }
        double margin = (maxY - minY) * 0.05; // keep points off the frame
        minY -= margin;
        maxY += margin;
        double[] yt = niceTicks(minY, maxY, 5);
        double[] xt = niceTicks(minX, maxX, 8);
        minY = Math.min(minY, yt[0]);
        maxY = Math.max(maxY, yt[yt.length - 1]);
        minX = Math.min(minX, xt[0]);
        maxX = Math.max(maxX, xt[xt.length - 1]);
        final double fx0 = minX, fx1 = maxX, fy0 = minY, fy1 = maxY;
        java.util.function.DoubleUnaryOperator px = v -> left + (v - fx0) / (fx1 - fx0) * (right - left);
        java.util.function.DoubleUnaryOperator py = v -> bottom - (v - fy0) / (fy1 - fy0) * (bottom - top);

        // grid and ticks
        g.setStroke(new BasicStroke(1f));
        for (double t : yt) {
            int yy = (int) Math.round(py.applyAsDouble(t));
            g.setColor(new Color(230, 230, 230));
            g.drawLine(left, yy, right, yy);
            g.setColor(Color.BLACK);
            g.drawLine(left - 4, yy, left, yy);
            String label = format(t);
            g.drawString(label, left - 8 - fm.stringWidth(label), yy + fm.getAscent() / 2 - 1);
        }
        for (double t : xt) {
            int xx = (int) Math.round(px.applyAsDouble(t));
            g.setColor(new Color(230, 230, 230));
            g.drawLine(xx, top, xx, bottom);
            g.setColor(Color.BLACK);
            g.drawLine(xx, bottom, xx, bottom + 4);
            String label = format(t);
            g.drawString(label, xx - fm.stringWidth(label) / 2, bottom + 6 + fm.getAscent());
        }
        g.setColor(Color.BLACK);
        g.drawRect(left, top, right - left, bottom - top);
        g.drawString("step", (left + right - fm.stringWidth("step")) / 2, bottom + 36);

        // lines with point markers
        for (int si = 0; si < series.size(); si++) {
            Series s = series.get(si);
            g.setColor(COLORS[si % COLORS.length]);
            g.setStroke(new BasicStroke(2f));
            Path2D.Double path = new Path2D.Double();
            boolean started = false;
            for (int i = 0; i < s.x().length; i++) {
                if (!Double.isFinite(s.y()[i])) continue;
                double xx = px.applyAsDouble(s.x()[i]);
                double yy = py.applyAsDouble(s.y()[i]);
                if (started) path.lineTo(xx, yy);
                else path.moveTo(xx, yy);
                started = true;
                g.fillOval((int) Math.round(xx) - 3, (int) Math.round(yy) - 3, 6, 6);
            }
            g.draw(path);
        }

        // legend, upper right unless the curves end up there (a rising metric), then lower right
        int lw = 0;
        for (Series s : series) lw = Math.max(lw, fm.stringWidth(s.name()));
        int boxW = lw + 40;
        int boxH = series.size() * 18 + 8;
        int bx = right - boxW - 8;
        Series first = series.get(0);
        double endY = py.applyAsDouble(first.y()[first.y().length - 1]);
        int by = endY < top + boxH + 16 ? bottom - boxH - 8 : top + 8;
        g.setStroke(new BasicStroke(1f));
        g.setColor(new Color(255, 255, 255, 230));
        g.fillRect(bx, by, boxW, boxH);
        g.setColor(Color.GRAY);
        g.drawRect(bx, by, boxW, boxH);
        for (int si = 0; si < series.size(); si++) {
            int ly = by + 14 + si * 18;
            g.setColor(COLORS[si % COLORS.length]);
            g.setStroke(new BasicStroke(2f));
            g.drawLine(bx + 8, ly - 4, bx + 28, ly - 4);
            g.setColor(Color.BLACK);
            g.drawString(series.get(si).name(), bx + 34, ly);
        }
    }

    /** Round tick values (1, 2 or 5 × 10^k apart) covering [lo, hi] with about {@code target} intervals. */
    static double[] niceTicks(double lo, double hi, int target) {
        double raw = (hi - lo) / target;
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double norm = raw / mag;
        double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
        double first = Math.floor(lo / step) * step;
        double last = Math.ceil(hi / step) * step;
        int n = (int) Math.round((last - first) / step) + 1;
        double[] t = new double[n];
        for (int i = 0; i < n; i++) t[i] = first + i * step;
        return t;
    }

    private static String format(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e9) return Long.toString((long) v);
        double a = Math.abs(v);
        if (a >= 1e-3 && a < 1e5) {
            String s = String.format(Locale.ROOT, "%.4f", v);
            return s.replaceAll("0+$", "").replaceAll("\\.$", "");
        }
        return String.format(Locale.ROOT, "%.1e", v);
    }
}
