namespace NativeEE.Bench.E2e;

/// <summary>Order statistics of timing samples.</summary>
internal static class Stats
{
    /// <summary>values[N] → the q-quantile (0 ≤ q ≤ 1), linear between order statistics (numpy's default).</summary>
    public static double Quantile(IReadOnlyList<double> values, double q)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.ToArray();
        Array.Sort(sorted);
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    public static double Median(IReadOnlyList<double> values) => Quantile(values, 0.5);

    public static double P90(IReadOnlyList<double> values) => Quantile(values, 0.9);

    public static double Max(IReadOnlyList<double> values) => values.Count == 0 ? double.NaN : values.Max();

    /// <summary>Stopwatch ticks → milliseconds.</summary>
    public static double Ms(long ticks) => ticks * 1000.0 / System.Diagnostics.Stopwatch.Frequency;
}
