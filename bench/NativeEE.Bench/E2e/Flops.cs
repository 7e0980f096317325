namespace NativeEE.Bench.E2e;

/// <summary>
/// Multiply-add work of an encoder forward pass, counted as 2 FLOP per FMA, the convention behind the issue's
/// "22.35 GFLOP per BERT-base forward at 128 tokens": the four projections on every token plus Q·Kᵀ and P·V per
/// sequence, every layer; embeddings, LayerNorm, softmax, GELU and the heads are left out (under 0.5 %).
/// </summary>
internal static class Flops
{
    /// <summary>Work of one layer on every token of sequences of the given lengths.</summary>
    public static double Layer(ModelConfig c, ReadOnlySpan<int> lengths)
    {
        double h = c.HiddenSize, ff = c.IntermediateSize, tokens = 0, squares = 0;
        foreach (int t in lengths)
        {
            tokens += t;
            squares += (double)t * t;
        }
        return 2 * tokens * h * (4 * h + 2 * ff) + 4 * squares * h;
    }

    /// <summary>Full-depth work on every token: what a graph runtime computes (before any padding it adds).</summary>
    public static double Model(ModelConfig c, ReadOnlySpan<int> lengths) => c.NumHiddenLayers * Layer(c, lengths);

    public static double Model(ModelConfig c, int length) => Model(c, [length]);

    public static double Gemm(int m, int n, int k) => 2.0 * m * n * k;

    public static double Attention(int headDimTimesHeads, ReadOnlySpan<int> lengths, bool firstTokenOnly)
    {
        double work = 0;
        foreach (int t in lengths) work += 4.0 * (firstTokenOnly ? 1 : t) * t * headDimTimesHeads;
        return work;
    }
}
