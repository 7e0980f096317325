using NativeEE.Kernels;

namespace NativeEE.Bench.E2e;

/// <summary>
/// GEMM speed by row count M on a model's four projection shapes (1 thread, calling-thread CPU time): the curve that
/// decides end-to-end speed, since a sentence is 10–60 rows and early exit makes M smaller still. Each shape runs
/// "hot" (one weight matrix, called again and again: it stays in cache) and "cold" (calls cycle through copies of
/// the weights totalling more than the last-level cache, as a forward pass does: every layer has its own weights).
/// </summary>
internal static class GemmSweep
{
    public static readonly int[] Rows = [1, 8, 25, 48, 128, 200];

    const long ColdBytes = 128L << 20;

    public sealed record Cell(double HotGflops, double ColdGflops, double ColdWeightGBps);

    /// <summary>Shape label ("N × K") → one cell per M in <see cref="Rows"/>.</summary>
    public sealed record Result(string Model, IReadOnlyList<(string Shape, Cell[] Cells)> Shapes);

    public static Result Run(string model, ModelConfig c)
    {
        int h = c.HiddenSize, ff = c.IntermediateSize;
        (string Name, int N, int K)[] shapes =
            [($"Q/K/V {3 * h} × {h}", 3 * h, h), ($"attn-out {h} × {h}", h, h), ($"FFN up {ff} × {h}", ff, h), ($"FFN down {h} × {ff}", h, ff)];
        var rng = new Random(7);
        var result = new List<(string, Cell[])>();
        int maxM = Rows.Max();
        foreach (var (name, n, k) in shapes)
        {
            long bytes = 4L * n * k;
            var weights = new PackedMatrix[(int)Math.Max(2, (ColdBytes + bytes - 1) / bytes)];
            var w0 = RandomFloats(rng, n * k);
            for (int i = 0; i < weights.Length; i++) weights[i] = Gemm.Pack(w0, n, k);
            var x = RandomFloats(rng, maxM * k);
            var bias = RandomFloats(rng, n);
            var y = new float[maxM * n];
            var cells = new Cell[Rows.Length];
            for (int i = 0; i < Rows.Length; i++)
            {
                int m = Rows[i];
                double flop = 2.0 * m * n * k;
                int calls = (int)Math.Clamp(2e8 / flop, 4, 4000);
                double hot = Rate(calls, flop, j => Gemm.Multiply(x, m, weights[0], bias, y));
                double cold = Rate(calls, flop, j => Gemm.Multiply(x, m, weights[j % weights.Length], bias, y));
                cells[i] = new Cell(hot, cold, cold / flop * bytes);
            }
            result.Add((name, cells));
        }
        return new Result(model, result);
    }

    /// <summary>GFLOP/s of <paramref name="calls"/> calls (median of 7 timed rounds after one warm-up round).</summary>
    static double Rate(int calls, double flop, Action<int> call)
    {
        var samples = new List<double>();
        int next = 0;
        for (int rep = -1; rep < 7; rep++)
        {
            long t0 = ThreadClock.NowNs();
            for (int j = 0; j < calls; j++) call(next++);
            double ns = ThreadClock.NowNs() - t0;
            if (rep >= 0) samples.Add(flop * calls / ns);
        }
        return Stats.Median(samples);
    }

    static float[] RandomFloats(Random rng, int n)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)(rng.NextDouble() - 0.5);
        return v;
    }
}
