namespace NativeEE.Tests.Exits;

public class ExitPolicyTests
{
    // Runs one sample through heads at the given layers; returns the layer it exits at, or -1 if it never does.
    static int ExitLayer(ExitPolicy policy, float[][] heads, int[]? layers = null)
    {
        var state = default(ExitState);
        for (int i = 0; i < heads.Length; i++)
        {
            int layer = layers?[i] ?? i;
            if (policy.ShouldExit(heads[i], layer, ref state)) return layer;
        }
        return -1;
    }

    // Entropies (nats) computed independently in Python: H([.9,.1]) = 0.325083, H([.8,.1,.1]) = 0.639032,
    // H([.5,.5]) = ln 2 = 0.693147, H([.6,.3,.1]) = 0.897946; normalized by ln C: 0.468996, 0.581672, 1, 0.817345.
    [Theory]
    [InlineData(new[] { 0.9f, 0.1f }, 0.33f, true)]
    [InlineData(new[] { 0.9f, 0.1f }, 0.32f, false)]
    [InlineData(new[] { 0.8f, 0.1f, 0.1f }, 0.64f, true)]
    [InlineData(new[] { 0.8f, 0.1f, 0.1f }, 0.63f, false)]
    [InlineData(new[] { 0.5f, 0.5f }, 0.69f, false)]
    [InlineData(new[] { 0.5f, 0.5f }, 0.70f, true)]
    [InlineData(new[] { 1f, 0f }, 0.001f, true)]
    public void EntropyExitsBelowThreshold(float[] p, float tau, bool exits)
    {
        var state = default(ExitState);
        Assert.Equal(exits, ExitPolicy.Entropy(tau).ShouldExit(p, 0, ref state));
        Assert.Equal(1, state.HeadsSeen);
    }

    [Theory]
    [InlineData(new[] { 0.9f, 0.1f }, 0.47f, true)]
    [InlineData(new[] { 0.9f, 0.1f }, 0.46f, false)]
    [InlineData(new[] { 0.8f, 0.1f, 0.1f }, 0.59f, true)]
    [InlineData(new[] { 0.8f, 0.1f, 0.1f }, 0.58f, false)]
    [InlineData(new[] { 0.6f, 0.3f, 0.1f }, 0.82f, true)]
    [InlineData(new[] { 0.6f, 0.3f, 0.1f }, 0.81f, false)]
    [InlineData(new[] { 0.5f, 0.5f }, 1f, false)]
    [InlineData(new[] { 1f }, 0.01f, true)]
    public void NormalizedEntropyDividesByLnC(float[] p, float tau, bool exits)
    {
        var state = default(ExitState);
        Assert.Equal(exits, ExitPolicy.NormalizedEntropy(tau).ShouldExit(p, 0, ref state));
    }

    [Theory]
    [InlineData(new[] { 0.9f, 0.1f }, 0.9f, true)]
    [InlineData(new[] { 0.9f, 0.1f }, 0.91f, false)]
    [InlineData(new[] { 0.2f, 0.7f, 0.1f }, 0.7f, true)]
    [InlineData(new[] { 0.2f, 0.7f, 0.1f }, 0.75f, false)]
    [InlineData(new[] { 0.5f, 0.5f }, 0.5f, true)]
    public void MaxProbabilityExitsAtOrAboveThreshold(float[] p, float tau, bool exits)
    {
        var state = default(ExitState);
        Assert.Equal(exits, ExitPolicy.MaxProbability(tau).ShouldExit(p, 0, ref state));
    }

    [Theory]
    [InlineData(new[] { 0.75f, 0.25f }, 0.5f, true)]
    [InlineData(new[] { 0.75f, 0.25f }, 0.51f, false)]
    [InlineData(new[] { 0.1f, 0.6f, 0.3f }, 0.3f, true)]   // top1 .6 − top2 .3 (top2 is not the last entry)
    [InlineData(new[] { 0.1f, 0.6f, 0.3f }, 0.31f, false)]
    [InlineData(new[] { 0.45f, 0.45f, 0.1f }, 0.01f, false)] // a tie has margin 0
    [InlineData(new[] { 0.45f, 0.45f, 0.1f }, 0f, true)]
    [InlineData(new[] { 0.3f, 0.1f, 0.6f }, 0.3f, true)]
    [InlineData(new[] { 1f }, 1f, true)]                     // one class: top2 = 0
    public void MarginComparesTopTwo(float[] p, float tau, bool exits)
    {
        var state = default(ExitState);
        Assert.Equal(exits, ExitPolicy.Margin(tau).ShouldExit(p, 0, ref state));
    }

    static readonly float[] A = [0.6f, 0.3f, 0.1f], B = [0.2f, 0.7f, 0.1f], C = [0.1f, 0.2f, 0.7f];
    static readonly float[] TieAB = [0.4f, 0.4f, 0.2f];

    [Fact]
    public void PatienceNeedsTPlusOneAgreeingHeadsInARow()
    {
        Assert.Equal(2, ExitLayer(ExitPolicy.Patience(2), [A, A, A, A, A, A]));
        Assert.Equal(1, ExitLayer(ExitPolicy.Patience(1), [A, A, A]));
        Assert.Equal(3, ExitLayer(ExitPolicy.Patience(2), [A, B, B, B, C]));
        // Disagreement resets the counter: A B A B … never settles.
        Assert.Equal(-1, ExitLayer(ExitPolicy.Patience(1), [A, B, A, B, A, B]));
        Assert.Equal(5, ExitLayer(ExitPolicy.Patience(2), [A, A, B, C, C, C]));
    }

    [Fact]
    public void PatienceBreaksTiesTowardsTheFirstClass()
    {
        // TieAB's argmax is class 0, the same as A's.
        Assert.Equal(1, ExitLayer(ExitPolicy.Patience(1), [A, TieAB]));
        Assert.Equal(-1, ExitLayer(ExitPolicy.Patience(1), [B, TieAB]));
    }

    [Fact]
    public void PatienceCountsHeadsNotLayers()
    {
        // Heads only after layers 1, 3, 5: agreement between consecutive heads counts, whatever the layer gap.
        Assert.Equal(5, ExitLayer(ExitPolicy.Patience(1), [B, C, C], [1, 3, 5]));
        Assert.Equal(3, ExitLayer(ExitPolicy.Patience(1), [B, B, C], [1, 3, 5]));
    }

    [Fact]
    public void PatienceStateIsVisibleAndPerSample()
    {
        var policy = ExitPolicy.Patience(3);
        var s1 = default(ExitState);
        var s2 = default(ExitState);
        Assert.False(policy.ShouldExit(A, 0, ref s1));
        Assert.False(policy.ShouldExit(B, 0, ref s2));
        Assert.False(policy.ShouldExit(A, 1, ref s1));
        Assert.False(policy.ShouldExit(C, 1, ref s2));
        Assert.Equal(1, s1.Streak);
        Assert.Equal(0, s1.LastArgmax);
        Assert.Equal(0, s2.Streak);
        Assert.Equal(2, s2.LastArgmax);
        Assert.Equal(2, s2.HeadsSeen);
        Assert.Equal(1, s2.LastLayer);
    }

    [Fact]
    public void PatientConfidenceNeedsTConfidentHeadsInARow()
    {
        float[] sure0 = [0.95f, 0.05f], sure1 = [0.07f, 0.93f], unsure = [0.6f, 0.4f];
        var pcee = ExitPolicy.PatientConfidence(2, 0.9f);
        Assert.Equal(1, ExitLayer(pcee, [sure0, sure0, sure0]));
        Assert.Equal(3, ExitLayer(pcee, [sure0, unsure, sure0, sure0]));
        // Confidence is what counts, not agreement: two confident heads for different classes exit.
        Assert.Equal(1, ExitLayer(pcee, [sure0, sure1]));
        Assert.Equal(-1, ExitLayer(pcee, [sure0, unsure, sure1, unsure, sure0]));
        // t = 1 is MaxProbability.
        Assert.Equal(0, ExitLayer(ExitPolicy.PatientConfidence(1, 0.9f), [sure0]));
        // Threshold is inclusive, as for MaxProbability; C = 3.
        Assert.Equal(2, ExitLayer(ExitPolicy.PatientConfidence(2, 0.7f), [A, B, C]));
    }

    [Fact]
    public void FullDepthNeverExitsAndSkipsHeads()
    {
        Assert.Equal(-1, ExitLayer(ExitPolicy.FullDepth, [[1f, 0f], [1f, 0f], [1f, 0f]]));
        Assert.False(ExitPolicy.FullDepth.UsesIntermediateHeads);
        Assert.False(ExitPolicy.FullDepth.ReadsProbabilities);
        Assert.Same(ExitPolicy.FullDepth, ExitPolicy.Parse("full"));
    }

    [Fact]
    public void FixedDepthExitsAtTheFirstHeadAtOrAfterItsLayer()
    {
        float[][] six = [A, A, A, A, A, A];
        Assert.Equal(2, ExitLayer(ExitPolicy.FixedDepth(3), six));
        Assert.Equal(0, ExitLayer(ExitPolicy.FixedDepth(1), six));
        Assert.Equal(5, ExitLayer(ExitPolicy.FixedDepth(6), six));
        Assert.Equal(-1, ExitLayer(ExitPolicy.FixedDepth(7), six));
        Assert.Equal(4, ExitLayer(ExitPolicy.FixedDepth(3), [A, A], [0, 4]));
        Assert.True(ExitPolicy.FixedDepth(3).UsesIntermediateHeads);
        Assert.False(ExitPolicy.FixedDepth(3).ReadsProbabilities);
        // Depth-only policies accept the empty span the engine may pass them.
        var s = default(ExitState);
        Assert.True(ExitPolicy.FixedDepth(1).ShouldExit(ReadOnlySpan<float>.Empty, 0, ref s));
    }

    [Fact]
    public void NaNProbabilitiesNeverTriggerAnExit()
    {
        float[] nan = [float.NaN, float.NaN];
        foreach (var p in new[] { ExitPolicy.Entropy(5f), ExitPolicy.NormalizedEntropy(1f), ExitPolicy.MaxProbability(0f),
                     ExitPolicy.Margin(0f), ExitPolicy.PatientConfidence(1, 0f) })
        {
            var s = default(ExitState);
            Assert.False(p.ShouldExit(nan, 0, ref s), p.Spec);
        }
    }

    [Fact]
    public void LayersMustIncreasePerSample()
    {
        var policy = ExitPolicy.MaxProbability(0.99f);
        var s = default(ExitState);
        policy.ShouldExit(A, 2, ref s);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => policy.ShouldExit(A, 2, ref s));
        Assert.Contains("increasing layer order", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => { var t = default(ExitState); policy.ShouldExit(A, -1, ref t); });
    }

    [Fact]
    public void EmptyProbabilitiesAreRejectedByProbabilityPolicies()
    {
        var s = default(ExitState);
        Assert.Throws<ArgumentException>(() => ExitPolicy.Entropy(0.3f).ShouldExit(ReadOnlySpan<float>.Empty, 0, ref s));
    }

    [Fact]
    public void ShouldExitAllocatesNothing()
    {
        ExitPolicy[] policies = [ExitPolicy.Entropy(0.01f), ExitPolicy.NormalizedEntropy(0.01f), ExitPolicy.MaxProbability(0.99f),
            ExitPolicy.Margin(0.99f), ExitPolicy.Patience(50), ExitPolicy.PatientConfidence(50, 0.5f), ExitPolicy.FullDepth, ExitPolicy.FixedDepth(1000)];
        foreach (var p in policies) { var warm = default(ExitState); p.ShouldExit(C, 0, ref warm); }
        long before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var p in policies)
        {
            var s = default(ExitState);
            for (int layer = 0; layer < 24; layer++) p.ShouldExit(layer % 2 == 0 ? A : C, layer, ref s);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    public static TheoryData<string, string> CanonicalSpecs => new()
    {
        { "entropy:0.3", "entropy:0.3" },
        { "normentropy:0.1", "normentropy:0.1" },
        { "maxprob:0.9", "maxprob:0.9" },
        { "margin:0.5", "margin:0.5" },
        { "patience:2", "patience:2" },
        { "pcee:2,0.9", "pcee:2,0.9" },
        { "full", "full" },
        { "fixed:4", "fixed:4" },
        { "  Entropy : 0.30 ", "entropy:0.3" },
        { "MAXPROB:.95", "maxprob:0.95" },
        { "pcee: 3 , 1", "pcee:3,1" },
        { "entropy:1e-1", "entropy:0.1" },
        { "maxprob:0.123456789", "maxprob:0.12345679" },
    };

    [Theory, MemberData(nameof(CanonicalSpecs))]
    public void ParseGivesCanonicalSpecs(string spec, string canonical)
    {
        var p = ExitPolicy.Parse(spec);
        Assert.Equal(canonical, p.Spec);
        Assert.Equal(canonical, p.ToString());
        Assert.Equal(canonical, ExitPolicy.Parse(p.Spec).Spec);
    }

    [Fact]
    public void SpecsRoundTripForArbitraryThresholds()
    {
        var rng = new Random(7);
        for (int i = 0; i < 200; i++)
        {
            float t = (float)rng.NextDouble();
            if (t == 0) continue;
            foreach (var p in new[] { ExitPolicy.Entropy(t * 2), ExitPolicy.NormalizedEntropy(t), ExitPolicy.MaxProbability(t),
                         ExitPolicy.Margin(t), ExitPolicy.PatientConfidence(1 + i % 5, t) })
            {
                var back = ExitPolicy.Parse(p.Spec);
                Assert.Equal(p.Spec, back.Spec);
                Assert.Equal(p.GetType(), back.GetType());
            }
        }
    }

    [Fact]
    public void ParsedPoliciesDecideLikeConstructedOnes()
    {
        float[][] seq = [A, B, B, C, C, C];
        foreach (var p in new[] { ExitPolicy.Entropy(0.9f), ExitPolicy.NormalizedEntropy(0.83f), ExitPolicy.MaxProbability(0.7f),
                     ExitPolicy.Margin(0.5f), ExitPolicy.Patience(2), ExitPolicy.PatientConfidence(2, 0.7f), ExitPolicy.FixedDepth(4) })
            Assert.Equal(ExitLayer(p, seq), ExitLayer(ExitPolicy.Parse(p.Spec), seq));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("entropy")]
    [InlineData("entropy:")]
    [InlineData("entropy:abc")]
    [InlineData("entropy:0,3")]
    [InlineData("entropy:0.3:1")]
    [InlineData("entropy:-1")]
    [InlineData("entropy:0")]
    [InlineData("entropy:NaN")]
    [InlineData("entropy:Infinity")]
    [InlineData("normentropy:1.5")]
    [InlineData("maxprob:1.01")]
    [InlineData("margin:-0.1")]
    [InlineData("patience:0")]
    [InlineData("patience:1.5")]
    [InlineData("patience:x")]
    [InlineData("pcee:2")]
    [InlineData("pcee:0,0.9")]
    [InlineData("pcee:2,2")]
    [InlineData("fixed:0")]
    [InlineData("fixed:")]
    [InlineData("full:3")]
    [InlineData("deebert:0.3")]
    [InlineData(":0.3")]
    public void BadSpecsGiveAOneLineFormatException(string spec)
    {
        var e = Assert.Throws<FormatException>(() => ExitPolicy.Parse(spec));
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains($"'{spec}'", e.Message);
        Assert.Contains("Valid forms: entropy:τ", e.Message);
        Assert.False(ExitPolicy.TryParse(spec, out var none));
        Assert.Null(none);
    }

    [Fact]
    public void RangeErrorsExplainTheRange()
    {
        Assert.Contains("(0, 1]", Assert.Throws<FormatException>(() => ExitPolicy.Parse("normentropy:2")).Message);
        Assert.Contains("≥ 1", Assert.Throws<FormatException>(() => ExitPolicy.Parse("patience:0")).Message);
    }

    [Fact]
    public void FactoriesValidateTheirParameters()
    {
        Assert.Contains("> 0", Assert.Throws<ArgumentOutOfRangeException>(() => ExitPolicy.Entropy(0f)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ExitPolicy.Entropy(float.PositiveInfinity));
        Assert.Throws<ArgumentOutOfRangeException>(() => ExitPolicy.NormalizedEntropy(0f));
        Assert.Throws<ArgumentOutOfRangeException>(() => ExitPolicy.MaxProbability(float.NaN));
        Assert.Contains("[0, 1]", Assert.Throws<ArgumentOutOfRangeException>(() => ExitPolicy.Margin(1.5f)).Message);
        Assert.Equal("patience", Assert.Throws<ArgumentOutOfRangeException>(() => ExitPolicy.Patience(0)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => ExitPolicy.PatientConfidence(-1, 0.9f));
        Assert.Throws<ArgumentOutOfRangeException>(() => ExitPolicy.PatientConfidence(2, -0.1f));
        Assert.Equal("layers", Assert.Throws<ArgumentOutOfRangeException>(() => ExitPolicy.FixedDepth(0)).ParamName);
    }
}
