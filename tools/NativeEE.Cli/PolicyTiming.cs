using System.Diagnostics;

namespace NativeEE.Cli;

/// <summary>One policy measured against full depth on the same data in the same run.</summary>
internal sealed class PolicyMeasurement
{
    public required ExitPolicy Policy { get; init; }
    public required Prediction[] Predictions { get; init; }
    public required Prediction[] FullDepthPredictions { get; init; }
    /// <summary>Encoder wall-clock of the policy's passes, summed over rounds.</summary>
    public required double Seconds { get; init; }
    /// <summary>Encoder wall-clock of the full-depth passes interleaved with them, summed over rounds.</summary>
    public required double FullDepthSeconds { get; init; }
    public double MeasuredSpeedup => FullDepthSeconds / Seconds;
}

/// <summary>
/// Wall-clock speed-up of an exit policy over full depth, measured in one run on the same pre-tokenized batches.
/// The two alternate batch by batch (which goes first alternates too), so a neighbour's load or a clock change
/// hits both sides alike instead of skewing the ratio.
/// </summary>
internal static class PolicyTiming
{
    public static PolicyMeasurement Measure(EarlyExitModel model, TokenizedSet set, ExitPolicy policy, int batchSize, int rounds,
        Action<int>? batchDone, CancellationToken cancellationToken)
    {
        int n = set.Count;
        var predictions = new Prediction[n];
        var full = new Prediction[n];
        // Warm-up: scratch grows to the largest batch and code paths get hot before the clock runs.
        int warm = Math.Min(batchSize, n);
        model.Classify(set.Ids, set.BatchOffsets(0, warm), full.AsSpan(0, warm), ExitPolicy.FullDepth, cancellationToken);
        model.Classify(set.Ids, set.BatchOffsets(0, warm), predictions.AsSpan(0, warm), policy, cancellationToken);

        long policyTicks = 0, fullTicks = 0;
        int done = 0;
        for (int round = 0; round < rounds; round++)
            for (int start = 0, b = 0; start < n; start += batchSize, b++)
            {
                int count = Math.Min(batchSize, n - start);
                var offsets = set.BatchOffsets(start, count);
                bool fullFirst = ((round + b) & 1) == 0;
                if (fullFirst) fullTicks += Time(model, set.Ids, offsets, full.AsSpan(start, count), ExitPolicy.FullDepth, cancellationToken);
                policyTicks += Time(model, set.Ids, offsets, predictions.AsSpan(start, count), policy, cancellationToken);
                if (!fullFirst) fullTicks += Time(model, set.Ids, offsets, full.AsSpan(start, count), ExitPolicy.FullDepth, cancellationToken);
                batchDone?.Invoke(++done);
            }
        return new PolicyMeasurement
        {
            Policy = policy,
            Predictions = predictions,
            FullDepthPredictions = full,
            Seconds = (double)policyTicks / Stopwatch.Frequency,
            FullDepthSeconds = (double)fullTicks / Stopwatch.Frequency,
        };
    }

    /// <summary>Batches one <see cref="Measure"/> round runs (for progress totals).</summary>
    public static int Batches(int count, int batchSize) => (count + batchSize - 1) / batchSize;

    static long Time(EarlyExitModel model, int[] ids, ReadOnlySpan<int> offsets, Span<Prediction> results, ExitPolicy policy, CancellationToken ct)
    {
        long start = Stopwatch.GetTimestamp();
        model.Classify(ids, offsets, results, policy, ct);
        return Stopwatch.GetTimestamp() - start;
    }
}
