namespace NativeEE.Tests.Engine;

/// <summary>Accuracy on the whole SST-2 evaluation set (test.tsv, 872 rows) against reference/summary.json.</summary>
[Collection(MiniLmCollection.Name)]
public sealed class EarlyExitModelAccuracyTests(MiniLmFixture fixture, ITestOutputHelper output)
{
    // The bar: the same predictions on ≥ 99.5 % of examples, i.e. accuracy within 0.5 points.
    const double AccuracyTolerance = 0.005;
    const int L = 6, C = 2;

    EarlyExitModel Model => fixture.Model;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void EveryHeadsAccuracyMatchesTheReference()
    {
        var eval = EvalSet.Test;
        var logits = fixture.EvalExitLogits;
        var expected = ReferenceSummary.Instance.TestAccuracyPerLayer;
        for (int l = 0; l < L; l++)
        {
            int correct = 0;
            for (int i = 0; i < eval.Count; i++) correct += ArgMax(logits.AsSpan((i * L + l) * C, C)) == eval.Labels[i] ? 1 : 0;
            double accuracy = (double)correct / eval.Count;
            output.WriteLine($"head after layer {l}: accuracy {accuracy:F4} (reference {expected[l]:F4})");
            Assert.True(Math.Abs(accuracy - expected[l]) <= AccuracyTolerance, $"layer {l}: accuracy {accuracy}, reference {expected[l]}");
        }
        // Per example, the first 64 rows have the PyTorch logits: every head's prediction must agree.
        var reference = ReferenceData.Instance;
        for (int i = 0; i < reference.Count; i++)
            for (int l = 0; l < L; l++)
                Assert.Equal(ArgMax(reference.LayerLogits[l].AsSpan(i * C, C)), ArgMax(logits.AsSpan((i * L + l) * C, C)));
    }

    [Fact]
    public void FullDepthAccuracyMatchesTheReference()
    {
        var eval = EvalSet.Test;
        var results = new Prediction[eval.Count];
        Model.Classify(eval.FlatIds, eval.Offsets, results, ExitPolicy.FullDepth, Ct);
        var logits = fixture.EvalExitLogits;
        int correct = 0;
        for (int i = 0; i < eval.Count; i++)
        {
            Assert.Equal(L - 1, results[i].ExitLayer);
            Assert.Equal(eval.Ids[i].Length, results[i].TokenCount);
            // The CLS-only last layer gives the same logits as the all-heads full pass.
            var full = logits.AsSpan((i * L + L - 1) * C, C);
            for (int c = 0; c < C; c++) Assert.True(Math.Abs(full[c] - results[i].Logits[c]) < 1e-4f, $"row {i}: {full[c]} vs {results[i].Logits[c]}");
            correct += results[i].Label == eval.Labels[i] ? 1 : 0;
        }
        double accuracy = (double)correct / eval.Count, expected = ReferenceSummary.Instance.TestAccuracyPerLayer[L - 1];
        output.WriteLine($"full depth: accuracy {accuracy:F4} (reference {expected:F4})");
        Assert.True(Math.Abs(accuracy - expected) <= AccuracyTolerance, $"accuracy {accuracy}, reference {expected}");
        var reference = ReferenceData.Instance;
        for (int i = 0; i < reference.Count; i++) Assert.Equal(ArgMax(reference.LayerLogits[L - 1].AsSpan(i * C, C)), results[i].Label);
    }

    [Fact]
    public void EntropyPolicyRunsFewerLayersAtNearlyTheSameAccuracy()
    {
        const float tau = 0.3f;
        var eval = EvalSet.Test;
        var results = new Prediction[eval.Count];
        var policy = ExitPolicy.Entropy(tau);
        Model.Classify(eval.FlatIds, eval.Offsets, results, policy, Ct);
        var logits = fixture.EvalExitLogits;
        int correct = 0, layers = 0, disagreements = 0;
        for (int i = 0; i < eval.Count; i++)
        {
            correct += results[i].Label == eval.Labels[i] ? 1 : 0;
            layers += results[i].LayersRun;
            // The exit a per-sample simulation over the full pass's heads predicts.
            var state = default(ExitState);
            int exit = L - 1;
            var p = new float[C];
            for (int l = 0; l < L - 1; l++)
            {
                Softmax(logits.AsSpan((i * L + l) * C, C), p);
                if (policy.ShouldExit(p, l, ref state)) { exit = l; break; }
            }
            disagreements += exit == results[i].ExitLayer ? 0 : 1;
        }
        double accuracy = (double)correct / eval.Count, meanLayers = (double)layers / eval.Count;
        var expected = ReferenceSummary.Instance.Entropy(tau);
        output.WriteLine($"entropy:{tau}: accuracy {accuracy:F4} (reference {expected.Accuracy:F4}), mean layers {meanLayers:F3} (reference {expected.MeanLayers:F3}), exit-layer disagreements with the simulation {disagreements}");
        Assert.True(Math.Abs(accuracy - expected.Accuracy) <= AccuracyTolerance, $"accuracy {accuracy}, reference {expected.Accuracy}");
        Assert.True(Math.Abs(meanLayers - expected.MeanLayers) <= 0.05, $"mean layers {meanLayers}, reference {expected.MeanLayers}");
        Assert.True(meanLayers < L - 1.5);
        Assert.True(disagreements <= eval.Count / 200, $"{disagreements} exit layers differ from the simulation");
    }

    static void Softmax(ReadOnlySpan<float> z, Span<float> p)
    {
        float max = z[0];
        foreach (var v in z) max = Math.Max(max, v);
        double sum = 0;
        for (int i = 0; i < z.Length; i++) sum += Math.Exp(z[i] - max);
        for (int i = 0; i < z.Length; i++) p[i] = (float)(Math.Exp(z[i] - max) / sum);
    }

    static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
