namespace NativeEE.Tests.Model;

/// <summary>Broken model folders fail at load with a <see cref="ModelLoadException"/> naming the file and the tensor.</summary>
public sealed class BadModelFolderTests : IDisposable
{
    readonly SyntheticBert _bert = new();

    public void Dispose() => _bert.Dispose();

    ModelLoadException LoadFails() => Assert.Throws<ModelLoadException>(() => EarlyExitModel.Load(_bert.Directory, new ModelOptions { Threads = 1 }));

    [Fact]
    public void MissingFolder()
    {
        string dir = Path.Combine(_bert.Directory, "nope");
        var e = Assert.Throws<ModelLoadException>(() => EarlyExitModel.Load(dir));
        Assert.Contains(dir, e.Message);
    }

    [Theory]
    [InlineData("config.json")]
    [InlineData("vocab.txt")]
    [InlineData("model.safetensors")]
    public void MissingFile(string file)
    {
        File.Delete(Path.Combine(_bert.Directory, file));
        var e = LoadFails();
        Assert.Contains(file, e.Message);
        Assert.Equal(file, Path.GetFileName(e.FilePath));
    }

    [Theory]
    [InlineData("bert.encoder.layer.1.intermediate.dense.bias", "model.safetensors")]
    [InlineData("bert.embeddings.LayerNorm.weight", "model.safetensors")]
    [InlineData("classifier.weight", "model.safetensors")]
    [InlineData("exits.0.pooler.bias", "exits.safetensors")]
    public void MissingTensor(string tensor, string file)
    {
        _bert.WriteFolder(omit: [tensor]);
        var e = LoadFails();
        Assert.Equal(tensor, e.TensorName);
        Assert.Equal(file, Path.GetFileName(e.FilePath));
        Assert.Contains(tensor, e.Message);
        Assert.Contains("missing", e.Message);
    }

    [Theory]
    [InlineData("bert.encoder.layer.2.intermediate.dense.weight", "model.safetensors", 35, 20)]
    [InlineData("bert.embeddings.position_embeddings.weight", "model.safetensors", 8, 20)]
    [InlineData("bert.encoder.layer.0.attention.self.key.weight", "model.safetensors", 20, 20, 1)]
    [InlineData("exits.0.classifier.weight", "exits.safetensors", 2, 20)]
    public void WrongShape(string tensor, string file, params int[] shape)
    {
        var expected = _bert.Shape(tensor);
        _bert.WriteFolder(replace: new Dictionary<string, (float[], int[])> { [tensor] = (new float[shape.Aggregate(1, (a, b) => a * b)], shape) });
        var e = LoadFails();
        Assert.Equal(tensor, e.TensorName);
        Assert.Equal(file, Path.GetFileName(e.FilePath));
        Assert.Contains($"[{string.Join(", ", shape)}]", e.Message);
        Assert.Contains($"[{string.Join(", ", expected)}]", e.Message);
    }

    [Fact]
    public void ConfigWithMoreLayersThanTheWeights()
    {
        File.WriteAllText(Path.Combine(_bert.Directory, "config.json"), _bert.ConfigJson(layers: 4));
        var e = LoadFails();
        Assert.StartsWith("bert.encoder.layer.3.", e.TensorName);
    }

    [Fact]
    public void ConfigWithFewerLayersThanTheWeights()
    {
        File.WriteAllText(Path.Combine(_bert.Directory, "config.json"), _bert.ConfigJson(layers: 2));
        var e = LoadFails();
        Assert.Contains("num_hidden_layers = 2", e.Message);
    }

    [Fact]
    public void ExitHeadOnTheLastLayerIsRefused()
    {
        // Layers = 3: layer 2's exit is the model's own classifier.
        var writer = new NativeEE.Safetensors.SafetensorsWriter();
        foreach (var (name, shape) in new[] { ("pooler.weight", new[] { 20, 20 }), ("pooler.bias", [20]), ("classifier.weight", [3, 20]), ("classifier.bias", [3]) })
            writer.Add($"exits.2.{name}", new float[shape.Aggregate(1, (a, b) => a * b)], shape);
        writer.Save(Path.Combine(_bert.Directory, "exits.safetensors"));
        var e = LoadFails();
        Assert.Equal("exits.safetensors", Path.GetFileName(e.FilePath));
        Assert.Contains("last layer", e.Message);
    }

    [Fact]
    public void ExitsMetadataDisagreeingWithTheTensorsIsRefused()
    {
        var writer = new NativeEE.Safetensors.SafetensorsWriter();
        writer.Metadata["exit_layers"] = "0,1";
        foreach (var name in new[] { "pooler.weight", "pooler.bias", "classifier.weight", "classifier.bias" })
            writer.Add($"exits.0.{name}", _bert.Tensor($"exits.0.{name}"), _bert.Shape($"exits.0.{name}"));
        writer.Save(Path.Combine(_bert.Directory, "exits.safetensors"));
        var e = LoadFails();
        Assert.Contains("exit_layers", e.Message);
    }

    [Fact]
    public void UnknownTensorInExitsFileIsRefused()
    {
        var writer = new NativeEE.Safetensors.SafetensorsWriter();
        writer.Add("highway.0.weight", new float[4], 2, 2);
        writer.Save(Path.Combine(_bert.Directory, "exits.safetensors"));
        var e = LoadFails();
        Assert.Equal("highway.0.weight", e.TensorName);
    }

    [Fact]
    public void CorruptSafetensorsFileIsReportedAsALoadError()
    {
        File.WriteAllBytes(Path.Combine(_bert.Directory, "model.safetensors"), [1, 2, 3]);
        var e = LoadFails();
        Assert.Equal("model.safetensors", Path.GetFileName(e.FilePath));
        Assert.NotNull(e.InnerException);
    }
}
