namespace NativeEE.Cli;

/// <summary>
/// Multiply-add FLOPs (2 per MAC) of what the engine actually ran for one sequence: the matrix products of every
/// layer it went through, attention's Q·Kᵀ and P·V, and the exit heads it evaluated. Element-wise work (softmax,
/// LayerNorm, GELU) is left out, as in every GFLOP/s figure for transformers.
/// </summary>
internal static class ModelFlops
{
    /// <summary>
    /// FLOPs for a sequence of <paramref name="tokens"/> that exited after 0-based layer <paramref name="exitLayer"/>.
    /// <paramref name="intermediateHeads"/>: the policy evaluated the heads before the exit (else only the final one ran).
    /// The last layer runs its output projection and feed-forward on the [CLS] row only (the engine's default).
    /// </summary>
    public static double Sequence(ModelConfig config, IReadOnlyList<int> exitLayers, int tokens, int exitLayer, bool intermediateHeads)
    {
        double n = tokens, h = config.HiddenSize, ff = config.IntermediateSize, c = config.NumLabels;
        int last = config.NumHiddenLayers - 1;
        double flops = 0;
        for (int l = 0; l <= exitLayer; l++)
        {
            double rows = l == last ? 1 : n;
            flops += 2 * n * h * 3 * h;         // fused Q, K, V projection
            flops += 2 * 2 * n * n * h;         // Q·Kᵀ and P·V over all heads
            flops += 2 * rows * h * h;          // attention output projection
            flops += 2 * 2 * rows * h * ff;     // feed-forward up and down
        }
        foreach (int e in exitLayers)
            if (e <= exitLayer && (intermediateHeads || e == last))
                flops += 2 * h * h + 2 * h * c; // pooler + classifier on one [CLS] row
        return flops;
    }
}
