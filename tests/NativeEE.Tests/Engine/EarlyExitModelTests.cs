namespace NativeEE.Tests.Engine;

/// <summary>The public API on the shared model: properties, text vs ids, odd text, argument checks, cancellation.</summary>
[Collection(MiniLmCollection.Name)]
public sealed class EarlyExitModelTests(MiniLmFixture fixture)
{
    EarlyExitModel Model => fixture.Model;

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void DescribesTheLoadedModel()
    {
        Assert.Equal(6, Model.NumLayers);
        Assert.Equal([0, 1, 2, 3, 4, 5], Model.ExitLayers);
        Assert.True(Model.HasExitHeads);
        Assert.Equal(["negative", "positive"], Model.Labels);
        Assert.Equal(384, Model.Config.HiddenSize);
        Assert.Equal("full", Model.DefaultPolicy.Spec); // the shared folder has no nativeee-policy.json
        Assert.Equal(2, Model.Threads);
        Assert.Equal(128, Model.MaxTokens); // tokenizer_config.json: model_max_length 128
        Assert.Equal(Kernels.Isa.Description, Model.Isa);
        Assert.Equal(Path.GetFullPath(SharedPaths.MiniLm), Model.Directory);
    }

    [Fact]
    public void TokenIdsOfTheReferenceTextsEqualPyTorchInputIds()
    {
        var reference = ReferenceData.Instance;
        var ids = new int[Model.MaxTokens];
        for (int i = 0; i < reference.Count; i++)
        {
            int n = Model.Tokenize(reference.Texts[i], ids, out bool truncated);
            Assert.False(truncated);
            Assert.Equal(reference.Ids[i], ids[..n]);
        }
    }

    [Fact]
    public void TextAndTokenIdsGiveTheSamePrediction()
    {
        var eval = EvalSet.Test;
        var policy = ExitPolicy.Entropy(0.3f);
        var texts = eval.Texts[..12];
        var batch = new Prediction[texts.Length];
        Model.Classify(texts, batch, policy, Ct);
        for (int i = 0; i < texts.Length; i++)
        {
            var fromText = Model.Classify(texts[i], policy, Ct);
            var fromIds = Model.Classify(eval.Ids[i], policy, Ct);
            Assert.Equal(fromIds.Label, fromText.Label);
            Assert.Equal(fromIds.ExitLayer, fromText.ExitLayer);
            Assert.True(fromIds.Logits.SequenceEqual(fromText.Logits));
            Assert.Equal(eval.Ids[i].Length, fromText.TokenCount);
            Assert.Equal(fromText.ExitLayer, batch[i].ExitLayer);
            Assert.Equal(fromText.Label, batch[i].Label);
        }
    }

    [Fact]
    public void PredictionFieldsAreConsistent()
    {
        var p = Model.Classify("a gripping , funny and moving film .", ExitPolicy.Entropy(0.3f), Ct);
        Assert.True(p.HasValue);
        Assert.Equal(2, p.LabelCount);
        Assert.Equal(Model.Labels[p.Label], p.LabelName);
        Assert.Equal(p.Probabilities[p.Label], p.Confidence);
        Assert.Equal(1f, p.Probabilities[0] + p.Probabilities[1], 5);
        Assert.Equal(p.ExitLayer + 1, p.LayersRun);
        Assert.Null(p.Trace);
        Assert.Equal("positive", p.LabelName);
    }

    [Fact]
    public void TraceRecordsEveryHeadUpToTheExit()
    {
        var p = Model.ClassifyWithTrace("it 's a charming and often affecting journey .", ExitPolicy.Entropy(0.3f), Ct);
        var heads = p.Trace!.Heads;
        Assert.Equal(Enumerable.Range(0, p.ExitLayer + 1), heads.Select(h => h.Layer));
        Assert.True(heads[^1].Logits.SequenceEqual(p.Logits));
        Assert.True(heads[^1].Probabilities.SequenceEqual(p.Probabilities));
    }

    public static TheoryData<string> OddTexts => ["", "   ", "\t\n\r ", "\u0000\u0001\u0007 control \u001b[31m", "\uD800 lone high", "lone low \uDC00", "\uDC00\uD800", "\u200b\ufeff", "🎬🍿 great !!!", "[CLS] [SEP] [PAD] [MASK]"];

    [Theory]
    [MemberData(nameof(OddTexts))]
    public void OddTextGivesADefinedPrediction(string text)
    {
        var p = Model.Classify(text, ExitPolicy.Entropy(0.3f), Ct);
        Assert.True(p.HasValue);
        Assert.InRange(p.TokenCount, 2, Model.MaxTokens);
        Assert.False(p.Truncated);
        Assert.True(float.IsFinite(p.Confidence));
        Assert.InRange(p.Label, 0, 1);
        // Same as its ids through the pre-tokenized path.
        var ids = new int[Model.MaxTokens];
        int n = Model.Tokenize(text, ids, out _);
        Assert.Equal(n, p.TokenCount);
        Assert.True(Model.Classify(ids.AsSpan(0, n), ExitPolicy.Entropy(0.3f), Ct).Logits.SequenceEqual(p.Logits));
    }

    [Fact]
    public void EmptyAndWhitespaceTextAreJustClsSep()
    {
        var empty = Model.Classify("", ExitPolicy.FullDepth, Ct);
        var blank = Model.Classify(" \t\n ", ExitPolicy.FullDepth, Ct);
        Assert.Equal(2, empty.TokenCount);
        Assert.True(empty.Logits.SequenceEqual(blank.Logits));
        int[] clsSep = [Model.Tokenizer.ClsId, Model.Tokenizer.SepId];
        Assert.True(Model.Classify(clsSep, ExitPolicy.FullDepth, Ct).Logits.SequenceEqual(empty.Logits));
    }

    [Fact]
    public void TextLongerThanTheTokenLimitIsTruncatedAndSaysSo()
    {
        string text = string.Join(" ", Enumerable.Repeat("a remarkably moving film", 60));
        var p = Model.Classify(text, ExitPolicy.FullDepth, Ct);
        Assert.True(p.Truncated);
        Assert.Equal(Model.MaxTokens, p.TokenCount);
        var results = new Prediction[2];
        Model.Classify([text, "fine ."], results, ExitPolicy.FullDepth, Ct);
        Assert.True(results[0].Truncated);
        Assert.False(results[1].Truncated);
        Assert.True(results[0].Logits.SequenceEqual(p.Logits));
    }

    [Fact]
    public void BadTokenInputIsRejectedWithAClearMessage()
    {
        var e1 = Assert.Throws<ArgumentException>(() => Model.Classify(ReadOnlySpan<int>.Empty, null, Ct));
        Assert.Contains("no tokens", e1.Message);
        var e2 = Assert.Throws<ArgumentOutOfRangeException>(() => Model.Classify([101, 30522, 102], null, Ct));
        Assert.Contains("30522", e2.Message);
        Assert.Contains("vocabulary", e2.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Model.Classify([101, -1, 102], null, Ct));
        var e3 = Assert.Throws<ArgumentException>(() => Model.Classify(new int[Model.MaxTokens + 1], null, Ct));
        Assert.Contains($"at most {Model.MaxTokens}", e3.Message);
        var results = new Prediction[1];
        Assert.Throws<ArgumentException>(() => Model.Classify([101, 102, 101, 102], [0, 2, 4], results, null, Ct));
        Assert.Throws<ArgumentException>(() => Model.Classify([101, 102], [0, 3], results, null, Ct));
        Assert.Throws<ArgumentException>(() => Model.Classify([101, 102], [2, 0], results, null, Ct));
        Assert.Throws<ArgumentNullException>(() => Model.Classify(["ok", null!], new Prediction[2], null, Ct));
        Assert.Throws<ArgumentException>(() => Model.ComputeLayerStates([101, 102], new float[10], new float[2]));
    }

    [Fact]
    public void EmptyBatchDoesNothing()
    {
        Model.Classify(ReadOnlySpan<string>.Empty, Span<Prediction>.Empty, null, Ct);
        Model.Classify(ReadOnlySpan<int>.Empty, [0], Span<Prediction>.Empty, null, Ct);
    }

    sealed class CancelAfter(int layer, CancellationTokenSource source) : NativeEE.Batching.ILayerObserver
    {
        public readonly List<int> Layers = [];
        public void LayerRan(int l, int sequences, int tokenRows)
        {
            Layers.Add(l);
            if (l == layer) source.Cancel();
        }
    }

    [Fact]
    public void CancellationIsHonouredBetweenLayers()
    {
        using var cts = new CancellationTokenSource();
        var observer = new CancelAfter(2, cts);
        Model.LayerObserver = observer;
        try { Assert.ThrowsAny<OperationCanceledException>(() => Model.Classify(EvalSet.Test.Ids[1], ExitPolicy.FullDepth, cts.Token)); }
        finally { Model.LayerObserver = null; }
        Assert.Equal([0, 1, 2], observer.Layers);
    }

    [Fact]
    public void CancelledCallThrowsAndTheModelStaysUsable()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var ids = EvalSet.Test.Ids[0];
        Assert.ThrowsAny<OperationCanceledException>(() => Model.Classify(ids, ExitPolicy.FullDepth, cts.Token));
        var before = Model.Classify(ids, ExitPolicy.FullDepth, Ct);
        Assert.Equal(5, before.ExitLayer);
    }
}
