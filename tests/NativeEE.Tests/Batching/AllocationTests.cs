using NativeEE.Tests.Engine;

namespace NativeEE.Tests.Batching;

/// <summary>After warm-up, the pre-tokenized calls allocate nothing on the calling thread.</summary>
[Collection(MiniLmCollection.Name)]
public sealed class AllocationTests(MiniLmFixture fixture, ITestOutputHelper output)
{
    const int Calls = 10;

    public static TheoryData<string> Policies => ["full", "entropy:0.3", "patience:2"];

    [Theory]
    [MemberData(nameof(Policies))]
    public void PreTokenizedSingleCallAllocatesNothing(string spec)
    {
        var model = fixture.Model;
        var policy = ExitPolicy.Parse(spec);
        var ids = EvalSet.Test.Ids[2];
        var ct = TestContext.Current.CancellationToken;
        for (int i = 0; i < 3; i++) model.Classify(ids, policy, ct);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Calls; i++) model.Classify(ids, policy, ct);
        long perCall = (GC.GetAllocatedBytesForCurrentThread() - before) / Calls;
        output.WriteLine($"{spec}: {perCall} B per pre-tokenized single call");
        Assert.Equal(0, perCall);
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public void PreTokenizedBatchCallAllocatesNothing(string spec)
    {
        var model = fixture.Model;
        var policy = ExitPolicy.Parse(spec);
        var eval = EvalSet.Test;
        var ids = eval.FlatIds.AsSpan(0, eval.Offsets[16]);
        var offsets = eval.Offsets.AsSpan(0, 17);
        var results = new Prediction[16];
        var ct = TestContext.Current.CancellationToken;
        for (int i = 0; i < 3; i++) model.Classify(ids, offsets, results, policy, ct);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Calls; i++) model.Classify(ids, offsets, results, policy, ct);
        long perCall = (GC.GetAllocatedBytesForCurrentThread() - before) / Calls;
        output.WriteLine($"{spec}: {perCall} B per pre-tokenized batch-16 call");
        Assert.Equal(0, perCall);
    }

    [Fact]
    public void LayerStatesAndExitLogitsAllocateNothing()
    {
        var model = fixture.Model;
        var ids = EvalSet.Test.Ids[5];
        var cls = new float[6 * 384];
        var logits = new float[2];
        var exits = new float[6 * 2];
        ReadOnlySpan<int> offsets = [0, ids.Length];
        for (int i = 0; i < 3; i++) { model.ComputeLayerStates(ids, cls, logits); model.ComputeExitLogits(ids, offsets, exits); }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Calls; i++) { model.ComputeLayerStates(ids, cls, logits); model.ComputeExitLogits(ids, offsets, exits); }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void TextCallAllocationIsMeasured()
    {
        // Not zero by design (the tokenizer works on strings); reported, and bounded so a leak-per-call shows up.
        var model = fixture.Model;
        string text = EvalSet.Test.Texts[2];
        var ct = TestContext.Current.CancellationToken;
        for (int i = 0; i < 3; i++) model.Classify(text, ExitPolicy.Entropy(0.3f), ct);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Calls; i++) model.Classify(text, ExitPolicy.Entropy(0.3f), ct);
        long perCall = (GC.GetAllocatedBytesForCurrentThread() - before) / Calls;
        output.WriteLine($"text path: {perCall} B per call ({text.Length} characters)");
        Assert.True(perCall < 64 * 1024, $"{perCall} B per text call");
    }
}
