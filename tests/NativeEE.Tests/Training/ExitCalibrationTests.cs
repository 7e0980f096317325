using NativeEE.Training;

namespace NativeEE.Tests.Training;

public class ExitCalibrationTests
{
    // Exits after layers 1, 3 and 5 (final) of a 6-layer model; p(class 1) per exit, worked out by hand below.
    static readonly int[] Labels = [1, 0, 1, 0, 1];
    static readonly float[][] PositiveProbability =
    [
        [0.95f, 0.97f, 0.99f],  // s0: right everywhere, confident early
        [0.90f, 0.20f, 0.10f],  // s1: confidently wrong first, then right
        [0.60f, 0.85f, 0.90f],  // s2: right, confidence grows
        [0.55f, 0.70f, 0.30f],  // s3: wrong until the final layer
        [0.20f, 0.40f, 0.45f],  // s4: wrong everywhere (full depth misses it too)
    ];

    static ExitProbabilities Table()
    {
        var p = new float[5 * 3 * 2];
        for (int i = 0; i < 5; i++)
            for (int e = 0; e < 3; e++)
            {
                p[(i * 3 + e) * 2] = 1 - PositiveProbability[i][e];
                p[(i * 3 + e) * 2 + 1] = PositiveProbability[i][e];
            }
        return new ExitProbabilities([1, 3, 5], 6, 2, p, Labels);
    }

    // maxprob τ → (correct, mean layers), by hand:
    //  0.50: all exit after layer 1            → s0 s2 right          2/5, 2.0
    //  0.75: s0,s1,s4 @1; s2 @3; s3 @5         → s0 s2 s3 right       3/5, 16/5 = 3.2
    //  0.85: s0,s1 @1; s2 @3; s3,s4 @5         → s0 s2 s3 right       3/5, 20/5 = 4.0
    //  0.92: s0 @1; rest @5                    → all but s4 right     4/5, 26/5 = 5.2
    //  0.96: s0 @3; rest @5                    →                      4/5, 28/5 = 5.6
    //  0.99: all @5 (full depth)               →                      4/5, 6.0
    static readonly ExitPolicy[] Grid = [.. new[] { 0.5f, 0.75f, 0.85f, 0.92f, 0.96f, 0.99f }.Select(ExitPolicy.MaxProbability)];

    [Theory]
    [InlineData(0.5f, 2, 2.0, new[] { 5, 0, 0 })]
    [InlineData(0.75f, 3, 3.2, new[] { 3, 1, 1 })]
    [InlineData(0.85f, 3, 4.0, new[] { 2, 1, 2 })]
    [InlineData(0.92f, 4, 5.2, new[] { 1, 0, 4 })]
    [InlineData(0.96f, 4, 5.6, new[] { 0, 1, 4 })]
    [InlineData(0.99f, 4, 6.0, new[] { 0, 0, 5 })]
    public void ReplayMatchesTheHandWorkedExits(float tau, int correct, double meanLayers, int[] exitCounts)
    {
        var s = ExitCalibration.Simulate(Table(), ExitPolicy.MaxProbability(tau));
        Assert.Equal(correct, s.Correct);
        Assert.Equal(correct / 5.0, s.Accuracy);
        Assert.Equal(meanLayers, s.MeanLayers, 1e-12);
        Assert.Equal(exitCounts, s.ExitCounts);
        Assert.Equal(6 / meanLayers, s.LayerSpeedup, 1e-12);
    }

    [Fact]
    public void StatefulPoliciesReplayThroughTheEngineLogic()
    {
        // patience:1 — exit when a head agrees with the previous one: s0 s2 s3 s4 agree at layer 3, s1 flips → final.
        var s = ExitCalibration.Simulate(Table(), ExitPolicy.Patience(1));
        Assert.Equal([0, 4, 1], s.ExitCounts);
        Assert.Equal(3, s.Correct);
        Assert.Equal(22 / 5.0, s.MeanLayers, 1e-12);
        var full = ExitCalibration.Simulate(Table(), ExitPolicy.FullDepth);
        Assert.Equal((4, 6.0), (full.Correct, full.MeanLayers));
        // fixed:4 runs 4 layers → first head at layer ≥ 3.
        Assert.Equal([0, 5, 0], ExitCalibration.Simulate(Table(), ExitPolicy.FixedDepth(4)).ExitCounts);
    }

    [Theory]
    [InlineData(0.0, 0.92f)]    // no loss allowed: the fastest setting that keeps 4/5
    [InlineData(19.9, 0.92f)]   // 3/5 is 20 points down: just outside
    [InlineData(20.0, 0.75f)]   // exactly 20 points allowed: the 3.2-layer setting qualifies
    [InlineData(100.0, 0.5f)]
    public void CalibrationPicksTheFastestSettingWithinTheDrop(double maxDrop, float expected)
    {
        var r = ExitCalibration.Calibrate(Table(), "maxprob", maxDrop, Grid);
        Assert.Equal(0.8, r.FullDepth.Accuracy);
        Assert.Equal(6, r.Sweep.Count);
        Assert.Equal(ExitPolicy.MaxProbability(expected).Spec, r.Chosen!.Policy.Spec);
        var pc = r.ToPolicyCalibration("dev.tsv");
        Assert.Equal(r.Chosen.Accuracy, pc.DevAccuracy);
        Assert.Equal(0.8, pc.FullDepthAccuracy);
        Assert.Equal(6 / r.Chosen.MeanLayers, pc.ExpectedSpeedup, 1e-12);
        Assert.Equal(maxDrop, pc.MaxAccuracyDrop);
    }

    [Fact]
    public void NoQualifyingThresholdMeansNoChoice()
    {
        var r = ExitCalibration.Calibrate(Table(), "maxprob", 0, [ExitPolicy.MaxProbability(0.5f), ExitPolicy.MaxProbability(0.75f)]);
        Assert.Null(r.Chosen);
        Assert.Throws<InvalidOperationException>(() => r.ToPolicyCalibration("dev.tsv"));
    }

    [Theory]
    [InlineData("entropy")]
    [InlineData("normentropy")]
    [InlineData("maxprob")]
    [InlineData("margin")]
    [InlineData("patience")]
    [InlineData("pcee")]
    public void DefaultSweepsGoFromEagerToCautiousAndAlwaysFindFullDepthAccuracy(string kind)
    {
        var candidates = ExitCalibration.Candidates(kind, classes: 2, exitPoints: 3);
        Assert.NotEmpty(candidates);
        Assert.All(candidates, c => Assert.StartsWith(kind, c.Spec));
        var r = ExitCalibration.Calibrate(Table(), kind, 0);
        var layers = r.Sweep.Select(s => s.MeanLayers).ToList();
        if (kind != "pcee")   // pcee sweeps τ once per patience, so it restarts
            for (int i = 1; i < layers.Count; i++) Assert.True(layers[i] >= layers[i - 1] - 1e-12, $"{r.Sweep[i].Policy.Spec} exits earlier than {r.Sweep[i - 1].Policy.Spec}");
        Assert.NotNull(r.Chosen);
        Assert.True(r.Chosen!.Accuracy >= r.FullDepth.Accuracy);
        Assert.Throws<ArgumentException>(() => ExitCalibration.Candidates("sometimes", 2, 3));
    }
}
