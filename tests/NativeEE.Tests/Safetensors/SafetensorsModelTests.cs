using NativeEE.Safetensors;

namespace NativeEE.Tests.Safetensors;

public class SafetensorsModelTests
{
    /// <summary>A folder with two shards (a, b | c) and an index; returns the folder.</summary>
    static string MakeSharded(TempDirectory dir, string? indexJson = null, string folderName = "model")
    {
        string folder = Path.Combine(dir.Path, folderName);
        Directory.CreateDirectory(folder);
        var first = new SafetensorsWriter();
        first.Add("a", [1f, 2f], 2);
        first.Add("b", SafetensorsDType.I8, [5, 6, 7], 3);
        first.Save(Path.Combine(folder, "model-00001-of-00002.safetensors"));
        var second = new SafetensorsWriter();
        second.Add("c", [3f], 1);
        second.Save(Path.Combine(folder, "model-00002-of-00002.safetensors"));
        File.WriteAllText(Path.Combine(folder, SafetensorsModel.IndexFileName), indexJson ?? Index(
            ("a", "model-00001-of-00002.safetensors"), ("b", "model-00001-of-00002.safetensors"), ("c", "model-00002-of-00002.safetensors")));
        return folder;
    }

    static string Index(params (string Tensor, string Shard)[] map) =>
        "{\"metadata\":{\"total_size\":15},\"weight_map\":{" +
        string.Join(",", map.Select(m => $"\"{m.Tensor}\":\"{m.Shard.Replace("\\", "\\\\")}\"")) + "}}";

    [Fact]
    public void ShardedFolderResolvesEveryTensorToItsShard()
    {
        using var dir = new TempDirectory();
        string folder = MakeSharded(dir);

        using var model = SafetensorsModel.Open(folder);

        Assert.Equal(Path.Combine(folder, SafetensorsModel.IndexFileName), model.Path);
        Assert.Equal(2, model.Files.Count);
        Assert.Equal(["a", "b", "c"], model.Tensors.Select(t => t.Name));
        Assert.Equal([1f, 2f], model.GetSpan<float>("a").ToArray());
        Assert.Equal([5f, 6f, 7f], model.ReadFloat32("b"));
        Assert.Equal(3f, model.GetSpan<float>("c")[0]);
        Assert.EndsWith("model-00002-of-00002.safetensors", model.GetFile("c").Path);
        Assert.Equal("15", model.Metadata["total_size"]);
        Assert.Equal([1], model.GetInfo("c").Shape);
        Assert.True(model.Contains("b"));
        Assert.False(model.Contains("d"));
        var e = Assert.Throws<SafetensorsException>(() => model.GetInfo("d"));
        Assert.Contains("tensor 'd': no such tensor", e.Message);
    }

    [Fact]
    public void IndexFileCanBeOpenedDirectly()
    {
        using var dir = new TempDirectory();
        string folder = MakeSharded(dir);

        using var model = SafetensorsModel.Open(Path.Combine(folder, SafetensorsModel.IndexFileName));

        Assert.Equal(3, model.Tensors.Count);
    }

    [Fact]
    public void SingleFileFolderAndFileOpenAlike()
    {
        using var fromFolder = SafetensorsModel.Open(SharedPaths.MiniLm);
        using var fromFile = SafetensorsModel.Open(Path.Combine(SharedPaths.MiniLm, "model.safetensors"));

        Assert.Single(fromFolder.Files);
        Assert.Equal(fromFile.Path, fromFolder.Path);
        Assert.Equal(fromFile.Tensors.Select(t => t.Name), fromFolder.Tensors.Select(t => t.Name));
        Assert.Equal("pt", fromFolder.Metadata["format"]);
        Assert.Equal(384 * 384, fromFolder.GetSpan<float>("bert.pooler.dense.weight").Length);
    }

    [Fact]
    public void FolderWithoutWeightsIsNamed()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<SafetensorsException>(() => SafetensorsModel.Open(dir.Path));
        Assert.Contains(dir.Path, e.Message);
        Assert.Contains("neither model.safetensors nor model.safetensors.index.json", e.Message);
    }

    [Theory]
    [InlineData("../outside.safetensors", "contains '..'")]
    [InlineData("sub/../../outside.safetensors", "contains '..'")]
    [InlineData("..\\outside.safetensors", "contains '..'")]
    [InlineData("/etc/passwd", "absolute path")]
    [InlineData("\\\\server\\share\\x.safetensors", "absolute path")]
    [InlineData("C:\\x.safetensors", "contains ':'")]
    [InlineData("x.safetensors:stream", "contains ':'")]
    [InlineData("", "is empty")]
    public void ShardPathsLeavingTheFolderAreRejected(string shard, string problem)
    {
        using var dir = new TempDirectory();
        string folder = MakeSharded(dir);
        new SafetensorsWriter().Save(Path.Combine(dir.Path, "outside.safetensors"));
        string index = Path.Combine(folder, SafetensorsModel.IndexFileName);
        File.WriteAllText(index, Index(("a", "model-00001-of-00002.safetensors"), ("b", "model-00001-of-00002.safetensors"),
            ("c", "model-00002-of-00002.safetensors"), ("x", shard)));

        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsModel.Open(folder));

        Assert.Equal(SafetensorsRule.ShardPathEscape, e.Rule);
        Assert.Equal(index, e.FilePath);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void SymlinkedShardPointingOutsideIsRejected()
    {
        using var dir = new TempDirectory();
        string folder = MakeSharded(dir);
        var outside = new SafetensorsWriter();
        outside.Add("c", [9f], 1);
        outside.Save(Path.Combine(dir.Path, "evil.safetensors"));
        File.Delete(Path.Combine(folder, "model-00002-of-00002.safetensors"));
        File.CreateSymbolicLink(Path.Combine(folder, "model-00002-of-00002.safetensors"), Path.Combine(dir.Path, "evil.safetensors"));

        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsModel.Open(folder));

        Assert.Equal(SafetensorsRule.ShardPathEscape, e.Rule);
        Assert.Contains("outside the model folder", e.Message);
        Assert.Contains("evil.safetensors", e.Message);
    }

    [Fact]
    public void SymlinkedDirectoryPointingOutsideIsRejected()
    {
        using var dir = new TempDirectory();
        string folder = MakeSharded(dir);
        string elsewhere = Path.Combine(dir.Path, "elsewhere");
        Directory.CreateDirectory(elsewhere);
        File.Move(Path.Combine(folder, "model-00002-of-00002.safetensors"), Path.Combine(elsewhere, "model-00002-of-00002.safetensors"));
        Directory.CreateSymbolicLink(Path.Combine(folder, "sub"), "../elsewhere"); // relative target
        File.WriteAllText(Path.Combine(folder, SafetensorsModel.IndexFileName), Index(
            ("a", "model-00001-of-00002.safetensors"), ("b", "model-00001-of-00002.safetensors"), ("c", "sub/model-00002-of-00002.safetensors")));

        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsModel.Open(folder));

        Assert.Equal(SafetensorsRule.ShardPathEscape, e.Rule);
        Assert.Contains(Path.Combine(elsewhere, "model-00002-of-00002.safetensors"), e.Message);
    }

    [Fact]
    public void SymlinksThatStayInsideTheFolderAreFollowed()
    {
        using var dir = new TempDirectory();
        string real = MakeSharded(dir, folderName: "real");
        string folder = Path.Combine(dir.Path, "linked");
        Directory.CreateSymbolicLink(folder, real); // the model folder itself is a link
        Directory.CreateDirectory(Path.Combine(real, "shards"));
        File.Move(Path.Combine(real, "model-00002-of-00002.safetensors"), Path.Combine(real, "shards", "second.safetensors"));
        File.CreateSymbolicLink(Path.Combine(real, "model-00002-of-00002.safetensors"), "shards/./second.safetensors");

        using var model = SafetensorsModel.Open(folder);

        Assert.Equal(3f, model.GetSpan<float>("c")[0]);
        Assert.Equal(Path.Combine(real, "shards", "second.safetensors"), model.GetFile("c").Path);
    }

    [Fact]
    public void SymlinkLoopIsRejected()
    {
        using var dir = new TempDirectory();
        string folder = MakeSharded(dir);
        File.CreateSymbolicLink(Path.Combine(folder, "loop1"), "loop2");
        File.CreateSymbolicLink(Path.Combine(folder, "loop2"), "loop1");
        File.WriteAllText(Path.Combine(folder, SafetensorsModel.IndexFileName), Index(
            ("a", "model-00001-of-00002.safetensors"), ("b", "model-00001-of-00002.safetensors"), ("c", "loop1")));

        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsModel.Open(folder));

        Assert.Equal(SafetensorsRule.ShardPathEscape, e.Rule);
        Assert.Contains("too many symbolic links", e.Message);
    }

    [Fact]
    public void TensorListedButAbsentFromItsShardIsRejected()
    {
        using var dir = new TempDirectory();
        string folder = MakeSharded(dir, Index(("a", "model-00001-of-00002.safetensors"), ("b", "model-00001-of-00002.safetensors"),
            ("c", "model-00001-of-00002.safetensors")));

        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsModel.Open(folder));

        Assert.Equal(SafetensorsRule.ShardMissingTensor, e.Rule);
        Assert.Equal("c", e.TensorName);
        Assert.Contains("model-00001-of-00002.safetensors", e.Message);
    }

    [Fact]
    public void TensorInAShardButNotInTheIndexIsRejected()
    {
        using var dir = new TempDirectory();
        string folder = MakeSharded(dir, Index(("a", "model-00001-of-00002.safetensors"), ("c", "model-00002-of-00002.safetensors")));

        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsModel.Open(folder));

        Assert.Equal(SafetensorsRule.ShardUnmappedTensor, e.Rule);
        Assert.Equal("b", e.TensorName);
        Assert.Contains("does not list", e.Message);
    }

    [Fact]
    public void TensorInTwoShardsIsRejected()
    {
        using var dir = new TempDirectory();
        string folder = MakeSharded(dir);
        var second = new SafetensorsWriter();
        second.Add("c", [3f], 1);
        second.Add("a", [1f, 2f], 2);
        second.Save(Path.Combine(folder, "model-00002-of-00002.safetensors"));

        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsModel.Open(folder));

        Assert.Equal(SafetensorsRule.ShardUnmappedTensor, e.Rule);
        Assert.Equal("a", e.TensorName);
        Assert.Contains("assigns to", e.Message);
    }

    [Theory]
    [InlineData("[]", "must be a JSON object")]
    [InlineData("{\"metadata\":{}}", "no 'weight_map'")]
    [InlineData("{\"weight_map\":{\"a\":1}}", "value of 'a' must be a string")]
    [InlineData("{\"weight_map\":{},\"extra\":1}", "unknown key 'extra'")]
    [InlineData("{\"weight_map\":{}} x", "not valid JSON")]
    [InlineData("{\"weight_map\":{},\"weight_map\":{}}", "'weight_map' appears more than once")]
    [InlineData("{\"metadata\":{\"a\":[1]},\"weight_map\":{}}", "must be a string or a number")]
    [InlineData("{\"weight_map\":{\"a\":\"missing.safetensors\"}}", "does not exist")]
    public void MalformedIndexIsRejected(string json, string problem)
    {
        using var dir = new TempDirectory();
        string index = dir.File(SafetensorsModel.IndexFileName);
        File.WriteAllText(index, json);

        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsModel.Open(dir.Path));

        Assert.Equal(SafetensorsRule.IndexInvalid, e.Rule);
        Assert.Equal(index, e.FilePath);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void TensorListedTwiceInTheIndexIsRejected()
    {
        using var dir = new TempDirectory();
        string folder = MakeSharded(dir, "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\",\"a\":\"model-00002-of-00002.safetensors\"}}");

        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsModel.Open(folder));

        Assert.Equal(SafetensorsRule.DuplicateName, e.Rule);
        Assert.Equal("a", e.TensorName);
    }

    [Fact]
    public void BrokenShardFailsTheWholeModel()
    {
        using var dir = new TempDirectory();
        string folder = MakeSharded(dir);
        string shard = Path.Combine(folder, "model-00002-of-00002.safetensors");
        File.WriteAllBytes(shard, File.ReadAllBytes(shard)[..^1]);

        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsModel.Open(folder));

        Assert.Equal(shard, e.FilePath);
        Assert.Equal(SafetensorsRule.OffsetsBeyondData, e.Rule);
    }

    [Fact]
    public void DisposedModelRefusesEveryAccess()
    {
        using var dir = new TempDirectory();
        var model = SafetensorsModel.Open(MakeSharded(dir));
        SafetensorsFile shard = model.Files[0];
        model.Dispose();
        model.Dispose();

        Assert.Throws<ObjectDisposedException>(() => model.Files);
        Assert.Throws<ObjectDisposedException>(() => model.Tensors);
        Assert.Throws<ObjectDisposedException>(() => model.Metadata);
        Assert.Throws<ObjectDisposedException>(() => model.Contains("a"));
        Assert.Throws<ObjectDisposedException>(() => model.TryGetInfo("a", out _));
        Assert.Throws<ObjectDisposedException>(() => model.GetInfo("a"));
        Assert.Throws<ObjectDisposedException>(() => model.GetFile("a"));
        Assert.Throws<ObjectDisposedException>(() => model.GetBytes("a").Length);
        Assert.Throws<ObjectDisposedException>(() => model.GetSpan<float>("a").Length);
        Assert.Throws<ObjectDisposedException>(() => model.ReadFloat32("a"));
        Assert.Throws<ObjectDisposedException>(() => model.ReadFloat32("a", new float[2]));
        Assert.Throws<ObjectDisposedException>(() => shard.Tensors); // the shards were released too
    }
}
