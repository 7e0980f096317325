namespace NativeEE.Tests.Engine;

/// <summary>Per-layer parity with the PyTorch reference (reference/reference.safetensors) on all 64 reference examples.</summary>
[Collection(MiniLmCollection.Name)]
public sealed class EarlyExitModelParityTests(MiniLmFixture fixture, ITestOutputHelper output)
{
    // The reference logits and states are of order 1; 1e-4 absolute leaves room for fp32 summation-order differences
    // (PyTorch's BLAS vs our kernels) across 6 layers, and is far below anything that could flip a decision.
    const float Tolerance = 1e-4f;

    const int L = ReferenceData.Layers, H = ReferenceData.Hidden, C = ReferenceData.Labels;

    EarlyExitModel Model => fixture.Model;

    [Fact]
    public void ClsStateAfterEveryLayerAndFinalLogitsMatchPyTorch()
    {
        var reference = ReferenceData.Instance;
        var cls = new float[L * H];
        var logits = new float[C];
        float maxCls = 0, maxLogit = 0;
        for (int i = 0; i < reference.Count; i++)
        {
            Model.ComputeLayerStates(reference.Ids[i], cls, logits);
            for (int l = 0; l < L; l++)
                maxCls = Math.Max(maxCls, MaxAbsDiff(cls.AsSpan(l * H, H), reference.Cls[l].AsSpan(i * H, H)));
            maxLogit = Math.Max(maxLogit, MaxAbsDiff(logits, reference.LayerLogits[L - 1].AsSpan(i * C, C)));
        }
        output.WriteLine($"ISA {Model.Isa}: max |Δ| CLS states {maxCls:E2}, final logits {maxLogit:E2}");
        Assert.True(maxCls < Tolerance, $"max |Δ| of CLS states = {maxCls}");
        Assert.True(maxLogit < Tolerance, $"max |Δ| of final logits = {maxLogit}");
    }

    [Fact]
    public void BatchedLayerStatesMatchPyTorch()
    {
        var reference = ReferenceData.Instance;
        int n = reference.Count;
        var offsets = new int[n + 1];
        var flat = new List<int>();
        for (int i = 0; i < n; i++) { flat.AddRange(reference.Ids[i]); offsets[i + 1] = flat.Count; }
        var cls = new float[n * L * H];
        var logits = new float[n * C];
        Model.ComputeLayerStates(flat.ToArray(), offsets, cls, logits);
        float maxCls = 0, maxLogit = 0;
        for (int i = 0; i < n; i++)
        {
            for (int l = 0; l < L; l++)
                maxCls = Math.Max(maxCls, MaxAbsDiff(cls.AsSpan((i * L + l) * H, H), reference.Cls[l].AsSpan(i * H, H)));
            maxLogit = Math.Max(maxLogit, MaxAbsDiff(logits.AsSpan(i * C, C), reference.LayerLogits[L - 1].AsSpan(i * C, C)));
        }
        output.WriteLine($"ISA {Model.Isa}, batch of {n}: max |Δ| CLS states {maxCls:E2}, final logits {maxLogit:E2}");
        Assert.True(maxCls < Tolerance, $"max |Δ| of CLS states = {maxCls}");
        Assert.True(maxLogit < Tolerance, $"max |Δ| of final logits = {maxLogit}");
    }

    [Fact]
    public void EveryExitHeadsLogitsMatchPyTorch()
    {
        var reference = ReferenceData.Instance;
        float max = 0;
        for (int i = 0; i < reference.Count; i++)
        {
            var p = Model.ClassifyWithTrace(reference.Ids[i], ExitPolicy.FullDepth, TestContext.Current.CancellationToken);
            var heads = p.Trace!.Heads;
            Assert.Equal(L, heads.Count);
            for (int l = 0; l < L; l++)
            {
                Assert.Equal(l, heads[l].Layer);
                max = Math.Max(max, MaxAbsDiff(heads[l].Logits, reference.LayerLogits[l].AsSpan(i * C, C)));
            }
            Assert.Equal(L - 1, p.ExitLayer);
            Assert.True(p.Logits.SequenceEqual(heads[L - 1].Logits));
        }
        output.WriteLine($"ISA {Model.Isa}: max |Δ| exit-head logits (layers 0–5) {max:E2}");
        Assert.True(max < Tolerance, $"max |Δ| of exit-head logits = {max}");
    }

    static float MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(b.Length, a.Length);
        float max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }
}
