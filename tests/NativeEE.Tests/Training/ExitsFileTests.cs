using NativeEE.Safetensors;
using NativeEE.Tests.Safetensors;
using NativeEE.Training;

namespace NativeEE.Tests.Training;

public class ExitsFileTests
{
    [Fact]
    public void WrittenFileHasTheDesignNamesShapesAndMetadataAndReadsBack()
    {
        using var dir = new TempDirectory();
        string path = dir.File(ExitsFile.FileName);
        var heads = new Dictionary<int, ExitHead>();
        for (int l = 0; l < 5; l++) heads[l] = ExitHead.CreateRandom(16, 3, seed: 9, stream: l);
        var options = new ExitHeadTrainerOptions { Seed = 9, Epochs = 4, DistillAlpha = 0.5f, Temperature = 2f };
        ExitsFile.Save(path, heads, options.ToMetadata());

        using (var file = SafetensorsFile.Open(path))
        {
            Assert.Equal(20, file.Tensors.Count);
            for (int l = 0; l < 5; l++)
            {
                Assert.Equal([16, 16], file.GetInfo($"exits.{l}.pooler.weight").Shape);
                Assert.Equal([16], file.GetInfo($"exits.{l}.pooler.bias").Shape);
                Assert.Equal([3, 16], file.GetInfo($"exits.{l}.classifier.weight").Shape);
                Assert.Equal([3], file.GetInfo($"exits.{l}.classifier.bias").Shape);
                Assert.Equal(SafetensorsDType.F32, file.GetInfo($"exits.{l}.classifier.bias").DType);
                Assert.True(file.GetSpan<float>($"exits.{l}.pooler.weight").SequenceEqual(heads[l].PoolerWeight));
            }
            Assert.Equal("nativeee-exits", file.Metadata["format"]);
            Assert.Equal("0,1,2,3,4", file.Metadata["exit_layers"]);
            Assert.Equal("9", file.Metadata["train.seed"]);
            Assert.Equal("4", file.Metadata["train.epochs"]);
            Assert.Equal("0.5", file.Metadata["train.distill_alpha"]);
            Assert.Equal("2", file.Metadata["train.temperature"]);
        }

        var back = ExitsFile.Load(path);
        Assert.Equal([0, 1, 2, 3, 4], back.Keys.Order());
        foreach (var (l, h) in back)
        {
            Assert.True(h.PoolerWeight.SequenceEqual(heads[l].PoolerWeight));
            Assert.True(h.PoolerBias.SequenceEqual(heads[l].PoolerBias));
            Assert.True(h.ClassifierWeight.SequenceEqual(heads[l].ClassifierWeight));
            Assert.True(h.ClassifierBias.SequenceEqual(heads[l].ClassifierBias));
        }
    }

    [Fact]
    public void ShippedHeadsReproduceThePyTorchReferenceLogits()
    {
        // The oracle: PyTorch's per-layer logits for 64 test sentences, from the same [CLS] states.
        var heads = ExitsFile.Load(Path.Combine(SharedPaths.MiniLm, ExitsFile.FileName));
        Assert.Equal([0, 1, 2, 3, 4], heads.Keys.Order());
        using var reference = SafetensorsFile.Open(SharedPaths.Get("models/minilm-sst2-ee/reference/reference.safetensors"));
        var final = ExitsFile.LoadModelHead(SharedPaths.MiniLm);
        for (int l = 0; l <= 5; l++)
        {
            var head = l < 5 ? heads[l] : final;
            Assert.Equal(384, head.Hidden);
            Assert.Equal(2, head.Classes);
            float[] cls = reference.ReadFloat32($"cls.{l}"), expected = reference.ReadFloat32($"logits.{l}");
            var logits = new float[expected.Length];
            head.ComputeLogits(cls, cls.Length / 384, logits);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(MathF.Abs(logits[i] - expected[i]) <= 1e-4f + 1e-4f * MathF.Abs(expected[i]), $"layer {l}, value {i}: {logits[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void BrokenFilesAreRefusedNamingTheTensor()
    {
        using var dir = new TempDirectory();
        var w = new SafetensorsWriter();
        w.Add("exits.2.pooler.weight", new float[16], 4, 4);
        w.Add("exits.2.pooler.bias", new float[4], 4);
        w.Add("exits.2.classifier.weight", new float[8], 2, 4);
        w.Metadata["format"] = "nativeee-exits";
        w.Save(dir.File("missing.safetensors"));
        var e = Assert.Throws<SafetensorsException>(() => ExitsFile.Load(dir.File("missing.safetensors")));
        Assert.Equal("exits.2.classifier.bias", e.TensorName);
        Assert.Contains("missing", e.Message);

        w.Add("exits.2.classifier.bias", new float[3], 3);
        w.Save(dir.File("shape.safetensors"));
        e = Assert.Throws<SafetensorsException>(() => ExitsFile.Load(dir.File("shape.safetensors")));
        Assert.Equal("exits.2.classifier.bias", e.TensorName);
        Assert.Contains("expected [2]", e.Message);

        var other = new SafetensorsWriter();
        other.Add("x", new float[1], 1);
        other.Metadata["format"] = "pt";
        other.Save(dir.File("format.safetensors"));
        Assert.Contains("expected 'nativeee-exits'", Assert.Throws<SafetensorsException>(() => ExitsFile.Load(dir.File("format.safetensors"))).Message);

        Assert.Throws<ArgumentException>(() => ExitsFile.Save(dir.File("bad.safetensors"),
            new Dictionary<int, ExitHead> { [0] = ExitHead.CreateRandom(4, 2, 1) }, new Dictionary<string, string> { ["exit_layers"] = "7" }));
    }
}
