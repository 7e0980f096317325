using System.Globalization;
using System.Security;
using System.Text;

namespace NativeEE.Cli;

/// <summary>
/// The sweep picture: accuracy (y) against measured speed-up (x), one line per policy family, full-depth accuracy
/// as a dashed reference. An SVG written here (no dependencies), and a PNG through ScottPlot, whose renderer
/// (SkiaSharp) is a native library beside the binary, loaded only when a plot is drawn.
/// </summary>
internal static class SweepPlot
{
    /// <summary>One family's points, in sweep order: (speed-up, accuracy, policy spec).</summary>
    public sealed record Series(string Name, (double Speedup, double Accuracy, string Spec)[] Points);

    static readonly string[] Palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
    const int Width = 900, Height = 560;

    /// <summary>Writes the PNG; returns its path, or null with <paramref name="problem"/> set when the renderer is unavailable.</summary>
    public static string? TryWritePng(string path, string title, IReadOnlyList<Series> series, double fullDepthAccuracy, out string? problem)
    {
        problem = null;
        try
        {
            WritePng(path, title, series, fullDepthAccuracy);
            return path;
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException or BadImageFormatException)
        {
            problem = $"the SkiaSharp native library could not be loaded: {Cli.OneLine(e.InnerException?.Message ?? e.Message)}";
            return null;
        }
    }

    static void WritePng(string path, string title, IReadOnlyList<Series> series, double fullDepthAccuracy)
    {
        var plot = new ScottPlot.Plot();
        for (int s = 0; s < series.Count; s++)
        {
            var points = series[s].Points;
            var scatter = plot.Add.Scatter(points.Select(p => p.Speedup).ToArray(), points.Select(p => p.Accuracy).ToArray(), ScottPlot.Color.FromHex(Palette[s % Palette.Length]));
            scatter.LegendText = series[s].Name;
            scatter.MarkerSize = 7;
            scatter.LineWidth = 1.5f;
        }
        var full = plot.Add.HorizontalLine(fullDepthAccuracy);
        full.LinePattern = ScottPlot.LinePattern.Dashed;
        full.Color = ScottPlot.Colors.Gray;
        full.LegendText = "full depth";
        plot.Title(title);
        plot.XLabel("measured speed-up vs full depth (×)");
        plot.YLabel("accuracy");
        plot.ShowLegend(ScottPlot.Alignment.LowerLeft);
        plot.SavePng(path, Width, Height);
    }

    /// <summary>Writes the plot as a standalone SVG.</summary>
    public static void WriteSvg(string path, string title, IReadOnlyList<Series> series, double fullDepthAccuracy)
    {
        var all = series.SelectMany(s => s.Points).ToList();
        double xMin = Math.Min(1, all.Min(p => p.Speedup)), xMax = Math.Max(1.05, all.Max(p => p.Speedup));
        double yMin = Math.Min(fullDepthAccuracy, all.Min(p => p.Accuracy)), yMax = Math.Max(fullDepthAccuracy, all.Max(p => p.Accuracy));
        (xMin, xMax, double xStep) = NiceRange(xMin, xMax);
        (yMin, yMax, double yStep) = NiceRange(yMin, yMax);
        const double left = 80, right = 30, top = 50, bottom = 60;
        double plotW = Width - left - right, plotH = Height - top - bottom;
        double X(double v) => left + (v - xMin) / (xMax - xMin) * plotW;
        double Y(double v) => top + (1 - (v - yMin) / (yMax - yMin)) * plotH;

        var inv = CultureInfo.InvariantCulture;
        var svg = new StringBuilder();
        svg.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append(inv, $"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>\n");
        svg.Append(inv, $"<text x=\"{Width / 2}\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">{Escape(title)}</text>\n");
        for (double x = xMin; x <= xMax + xStep / 2; x += xStep)
        {
            svg.Append(inv, $"<line x1=\"{X(x):0.#}\" y1=\"{top}\" x2=\"{X(x):0.#}\" y2=\"{top + plotH}\" stroke=\"#e5e5e5\"/>\n");
            svg.Append(inv, $"<text x=\"{X(x):0.#}\" y=\"{top + plotH + 18}\" text-anchor=\"middle\">{x.ToString("0.##", inv)}</text>\n");
        }
        for (double y = yMin; y <= yMax + yStep / 2; y += yStep)
        {
            svg.Append(inv, $"<line x1=\"{left}\" y1=\"{Y(y):0.#}\" x2=\"{left + plotW}\" y2=\"{Y(y):0.#}\" stroke=\"#e5e5e5\"/>\n");
            svg.Append(inv, $"<text x=\"{left - 8}\" y=\"{Y(y) + 4:0.#}\" text-anchor=\"end\">{y.ToString("0.###", inv)}</text>\n");
        }
        svg.Append(inv, $"<rect x=\"{left}\" y=\"{top}\" width=\"{plotW}\" height=\"{plotH}\" fill=\"none\" stroke=\"#333\"/>\n");
        svg.Append(inv, $"<line x1=\"{left}\" y1=\"{Y(fullDepthAccuracy):0.#}\" x2=\"{left + plotW}\" y2=\"{Y(fullDepthAccuracy):0.#}\" stroke=\"#777\" stroke-dasharray=\"6 4\"/>\n");
        svg.Append(inv, $"<text x=\"{left + plotW - 4}\" y=\"{Y(fullDepthAccuracy) - 5:0.#}\" text-anchor=\"end\" fill=\"#555\">full depth {fullDepthAccuracy.ToString("0.0000", inv)}</text>\n");
        for (int s = 0; s < series.Count; s++)
        {
            string color = Palette[s % Palette.Length];
            var points = series[s].Points;
            svg.Append("<polyline fill=\"none\" stroke=\"").Append(color).Append("\" stroke-width=\"1.5\" points=\"");
            foreach (var p in points) svg.Append(inv, $"{X(p.Speedup):0.#},{Y(p.Accuracy):0.#} ");
            svg.Append("\"/>\n");
            foreach (var p in points)
                svg.Append(inv, $"<circle cx=\"{X(p.Speedup):0.#}\" cy=\"{Y(p.Accuracy):0.#}\" r=\"4\" fill=\"{color}\"><title>{Escape(p.Spec)}: accuracy {p.Accuracy:0.0000}, {p.Speedup:0.00}×</title></circle>\n");
            double ly = top + plotH - 12 - (series.Count - 1 - s) * 18;
            svg.Append(inv, $"<rect x=\"{left + 12}\" y=\"{ly - 9}\" width=\"14\" height=\"4\" fill=\"{color}\"/>\n");
            svg.Append(inv, $"<text x=\"{left + 32}\" y=\"{ly - 3}\">{Escape(series[s].Name)}</text>\n");
        }
        svg.Append(inv, $"<text x=\"{left + plotW / 2}\" y=\"{Height - 15}\" text-anchor=\"middle\" font-size=\"14\">measured speed-up vs full depth (×)</text>\n");
        svg.Append(inv, $"<text x=\"20\" y=\"{top + plotH / 2}\" text-anchor=\"middle\" font-size=\"14\" transform=\"rotate(-90 20 {top + plotH / 2})\">accuracy</text>\n");
        svg.Append("</svg>\n");
        File.WriteAllText(path, svg.ToString());
    }

    static string Escape(string text) => SecurityElement.Escape(text) ?? "";

    /// <summary>Widens [min, max] to multiples of a 1-2-5 step giving 5–10 ticks.</summary>
    static (double Min, double Max, double Step) NiceRange(double min, double max)
    {
        if (max - min < 1e-9) { min -= 0.01; max += 0.01; }
        double raw = (max - min) / 6;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = (raw / magnitude) switch { <= 1 => magnitude, <= 2 => 2 * magnitude, <= 5 => 5 * magnitude, _ => 10 * magnitude };
        return (Math.Floor(min / step) * step, Math.Ceiling(max / step) * step, step);
    }
}
