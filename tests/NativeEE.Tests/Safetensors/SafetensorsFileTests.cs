using System.Runtime.InteropServices;
using System.Text.Json;
using NativeEE.Safetensors;

namespace NativeEE.Tests.Safetensors;

public class SafetensorsFileTests
{
    static string ModelFile => Path.Combine(SharedPaths.MiniLm, "model.safetensors");
    static string ExitsFile => Path.Combine(SharedPaths.MiniLm, "exits.safetensors");

    [Fact]
    public void SharedModelHasTheTensorsItsConfigImplies()
    {
        using JsonDocument config = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(SharedPaths.MiniLm, "config.json")));
        JsonElement c = config.RootElement;
        int h = c.GetProperty("hidden_size").GetInt32(), ff = c.GetProperty("intermediate_size").GetInt32();
        int layers = c.GetProperty("num_hidden_layers").GetInt32(), classes = c.GetProperty("id2label").EnumerateObject().Count();
        var expected = new Dictionary<string, int[]>
        {
            ["bert.embeddings.word_embeddings.weight"] = [c.GetProperty("vocab_size").GetInt32(), h],
            ["bert.embeddings.position_embeddings.weight"] = [c.GetProperty("max_position_embeddings").GetInt32(), h],
            ["bert.embeddings.token_type_embeddings.weight"] = [c.GetProperty("type_vocab_size").GetInt32(), h],
            ["bert.embeddings.LayerNorm.weight"] = [h],
            ["bert.embeddings.LayerNorm.bias"] = [h],
            ["bert.pooler.dense.weight"] = [h, h],
            ["bert.pooler.dense.bias"] = [h],
            ["classifier.weight"] = [classes, h],
            ["classifier.bias"] = [classes],
        };
        for (int i = 0; i < layers; i++)
        {
            string p = $"bert.encoder.layer.{i}.";
            foreach (string m in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense" })
            {
                expected[p + m + ".weight"] = [h, h];
                expected[p + m + ".bias"] = [h];
            }
            expected[p + "intermediate.dense.weight"] = [ff, h];
            expected[p + "intermediate.dense.bias"] = [ff];
            expected[p + "output.dense.weight"] = [h, ff];
            expected[p + "output.dense.bias"] = [h];
            foreach (string ln in new[] { "attention.output.LayerNorm", "output.LayerNorm" })
            {
                expected[p + ln + ".weight"] = [h];
                expected[p + ln + ".bias"] = [h];
            }
        }

        using var file = SafetensorsFile.Open(ModelFile);

        Assert.Equal(5 + 16 * layers + 2 + 2, expected.Count);
        Assert.Equal(expected.Count, file.Tensors.Count);
        foreach (TensorInfo t in file.Tensors)
        {
            Assert.True(expected.TryGetValue(t.Name, out int[]? shape), $"unexpected tensor {t}");
            Assert.Equal(shape, t.Shape);
            Assert.Equal(SafetensorsDType.F32, t.DType);
            Assert.Equal(t.ElementCount, file.GetSpan<float>(t.Name).Length);
        }
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(file.FileSize - 8 - file.HeaderSize, file.Tensors[^1].DataEnd);
        // LayerNorm gammas of a trained BERT sit near 1: a cheap sign that the bytes are really floats.
        float mean = file.ReadFloat32("bert.embeddings.LayerNorm.weight").Average();
        Assert.InRange(mean, 0.5f, 1.5f);
    }

    [Fact]
    public void SharedExitsFileHasFourTensorsPerExitLayer()
    {
        using var file = SafetensorsFile.Open(ExitsFile);

        Assert.Equal("nativeee-exits", file.Metadata["format"]);
        int[] layers = file.Metadata["exit_layers"].Split(',').Select(int.Parse).ToArray();
        Assert.Equal([0, 1, 2, 3, 4], layers);
        Assert.Equal(4 * layers.Length, file.Tensors.Count);
        foreach (int i in layers)
        {
            Assert.Equal([384, 384], file.GetInfo($"exits.{i}.pooler.weight").Shape);
            Assert.Equal([384], file.GetInfo($"exits.{i}.pooler.bias").Shape);
            Assert.Equal([2, 384], file.GetInfo($"exits.{i}.classifier.weight").Shape);
            Assert.Equal([2], file.GetInfo($"exits.{i}.classifier.bias").Shape);
        }
    }

    /// <summary>reference.safetensors and reference.json were both written by the PyTorch reference run: they must agree.</summary>
    [Fact]
    public void PyTorchWrittenReferenceMatchesItsJsonTwin()
    {
        string folder = Path.Combine(SharedPaths.MiniLm, "reference");
        using JsonDocument json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "reference.json")));
        using var file = SafetensorsFile.Open(Path.Combine(folder, "reference.safetensors"));
        int[] shape = file.GetInfo("input_ids").Shape;
        ReadOnlySpan<float> ids = file.GetSpan<float>("input_ids");
        int layers = int.Parse(file.Metadata["layers"]);

        Assert.Equal(json.RootElement.GetArrayLength(), shape[0]);
        int row = 0;
        foreach (JsonElement sample in json.RootElement.EnumerateArray())
        {
            int col = 0;
            foreach (JsonElement id in sample.GetProperty("ids").EnumerateArray())
                Assert.Equal(id.GetInt32(), ids[row * shape[1] + col++]);
            Assert.Equal(sample.GetProperty("label").GetInt32(), file.GetSpan<float>("labels")[row]);
            for (int l = 0; l < layers; l++)
            {
                ReadOnlySpan<float> logits = file.GetSpan<float>($"logits.{l}");
                int k = 0;
                foreach (JsonElement v in sample.GetProperty("logits_per_layer")[l].EnumerateArray())
                    Assert.Equal((float)v.GetDouble(), logits[row * 2 + k++]);
            }
            row++;
        }
    }

    [Fact]
    public void ReadFloat32ConvertsEveryDType()
    {
        using var dir = new TempDirectory();
        string path = dir.File("conv.safetensors");
        var writer = new SafetensorsWriter();
        Add<bool>(writer, "bool", SafetensorsDType.BOOL, [true, false, true]);
        writer.Add("bool_nonzero", SafetensorsDType.BOOL, [0, 2, 255], 3);
        Add<byte>(writer, "u8", SafetensorsDType.U8, [0, 7, 255]);
        Add<sbyte>(writer, "i8", SafetensorsDType.I8, [-128, 0, 127]);
        Add<short>(writer, "i16", SafetensorsDType.I16, [short.MinValue, -1, short.MaxValue]);
        Add<ushort>(writer, "u16", SafetensorsDType.U16, [0, 1, ushort.MaxValue]);
        Add<int>(writer, "i32", SafetensorsDType.I32, [int.MinValue, 16777217, 5]);
        Add<uint>(writer, "u32", SafetensorsDType.U32, [uint.MaxValue, 3, 0]);
        Add<long>(writer, "i64", SafetensorsDType.I64, [long.MinValue, -9, 1L << 40]);
        Add<ulong>(writer, "u64", SafetensorsDType.U64, [ulong.MaxValue, 1, 0]);
        Add<double>(writer, "f64", SafetensorsDType.F64, [Math.PI, 1e300, -1e-300]);
        Add<Half>(writer, "f16", SafetensorsDType.F16, [(Half)1.5f, Half.MaxValue, Half.Epsilon]);
        // bfloat16 bits of 1.0, -2.5, +inf.
        Add<ushort>(writer, "bf16", SafetensorsDType.BF16, [0x3F80, 0xC020, 0x7F80]);
        // OCP FP8 spec values: E4M3 0x7E = 448 (largest), 0x08 = 2^-6 (smallest normal), 0x01 = 2^-9 (smallest subnormal), 0xB8 = -1.
        writer.Add("e4m3", SafetensorsDType.F8_E4M3, [0x7E, 0x08, 0x01, 0xB8, 0x7F], 5);
        // E5M2 0x7B = 57344 (largest), 0x7C = +inf, 0x04 = 2^-14, 0x01 = 2^-16, 0xC0 = -2.
        writer.Add("e5m2", SafetensorsDType.F8_E5M2, [0x7B, 0x7C, 0x04, 0x01, 0xC0], 5);
        writer.Save(path);

        using var file = SafetensorsFile.Open(path);

        Assert.Equal([1f, 0f, 1f], file.ReadFloat32("bool"));
        Assert.Equal([0f, 1f, 1f], file.ReadFloat32("bool_nonzero"));
        Assert.Equal([0f, 7f, 255f], file.ReadFloat32("u8"));
        Assert.Equal([-128f, 0f, 127f], file.ReadFloat32("i8"));
        Assert.Equal([-32768f, -1f, 32767f], file.ReadFloat32("i16"));
        Assert.Equal([0f, 1f, 65535f], file.ReadFloat32("u16"));
        Assert.Equal([-2147483648f, 16777216f, 5f], file.ReadFloat32("i32")); // 2^24 + 1 rounds to even
        Assert.Equal([4294967296f, 3f, 0f], file.ReadFloat32("u32"));
        Assert.Equal([-9.223372e18f, -9f, 1099511627776f], file.ReadFloat32("i64"));
        Assert.Equal([1.8446744e19f, 1f, 0f], file.ReadFloat32("u64"));
        Assert.Equal([3.1415927f, float.PositiveInfinity, -0f], file.ReadFloat32("f64"));
        Assert.Equal([1.5f, 65504f, 5.9604645e-8f], file.ReadFloat32("f16"));
        Assert.Equal([1f, -2.5f, float.PositiveInfinity], file.ReadFloat32("bf16"));
        float[] e4m3 = file.ReadFloat32("e4m3");
        Assert.Equal([448f, 0.015625f, 0.001953125f, -1f], e4m3[..4]);
        Assert.True(float.IsNaN(e4m3[4]));
        Assert.Equal([57344f, float.PositiveInfinity, 6.1035156e-5f, 1.5258789e-5f, -2f], file.ReadFloat32("e5m2"));
    }

    static void Add<T>(SafetensorsWriter writer, string name, SafetensorsDType dtype, T[] values) where T : unmanaged =>
        writer.Add(name, dtype, MemoryMarshal.AsBytes<T>(values), values.Length);

    [Fact]
    public void ReadFloat32IntoADestinationOfTheWrongLengthIsRefused()
    {
        using var dir = new TempDirectory();
        string path = dir.File("d.safetensors");
        var writer = new SafetensorsWriter();
        writer.Add("w", [1f, 2f, 3f], 3);
        writer.Save(path);
        using var file = SafetensorsFile.Open(path);

        var e = Assert.Throws<ArgumentException>(() => file.ReadFloat32("w", new float[2]));
        Assert.Contains("'w' has 3 elements but destination holds 2", e.Message);
        var into = new float[3];
        file.ReadFloat32("w", into);
        Assert.Equal([1f, 2f, 3f], into);
    }

    [Fact]
    public void GetSpanRefusesATypeThatDoesNotMatchTheDType()
    {
        using var dir = new TempDirectory();
        string path = dir.File("m.safetensors");
        var writer = new SafetensorsWriter();
        writer.Add("w", [1f], 1);
        writer.Add("h", SafetensorsDType.BF16, [0x80, 0x3F], 1);
        writer.Save(path);
        using var file = SafetensorsFile.Open(path);

        var e = Assert.Throws<SafetensorsException>(() => file.GetSpan<int>("w"));
        Assert.Equal("w", e.TensorName);
        Assert.Equal($"{path}: tensor 'w': dtype F32 cannot be read as Int32", e.Message);
        Assert.Throws<SafetensorsException>(() => file.GetSpan<Half>("h"));
        Assert.Throws<SafetensorsException>(() => file.GetSpan<float>("h"));
        Assert.Equal(0x3F80, file.GetSpan<ushort>("h")[0]); // BF16 raw bits are allowed
        Assert.Throws<SafetensorsException>(() => file.GetSpan<Guid>("w"));
    }

    [Fact]
    public void DisposedFileRefusesEveryAccess()
    {
        using var dir = new TempDirectory();
        string path = dir.File("x.safetensors");
        var writer = new SafetensorsWriter();
        writer.Add("w", [1f], 1);
        writer.Save(path);
        var file = SafetensorsFile.Open(path);
        file.Dispose();
        file.Dispose(); // twice is fine

        Assert.Throws<ObjectDisposedException>(() => file.Tensors);
        Assert.Throws<ObjectDisposedException>(() => file.Metadata);
        Assert.Throws<ObjectDisposedException>(() => file.Contains("w"));
        Assert.Throws<ObjectDisposedException>(() => file.TryGetInfo("w", out _));
        Assert.Throws<ObjectDisposedException>(() => file.GetInfo("w"));
        Assert.Throws<ObjectDisposedException>(() => file.GetBytes("w").Length);
        Assert.Throws<ObjectDisposedException>(() => file.GetSpan<float>("w").Length);
        Assert.Throws<ObjectDisposedException>(() => file.ReadFloat32("w"));
        Assert.Throws<ObjectDisposedException>(() => file.ReadFloat32("w", new float[1]));
        Assert.Equal(path, file.Path);
        File.Delete(path); // the mapping is gone, so the file is free
    }

    [Fact]
    public void ManyThreadsReadTheSameFileAtOnce()
    {
        using var file = SafetensorsFile.Open(ExitsFile);
        float[][] expected = file.Tensors.Select(t => file.ReadFloat32(t.Name)).ToArray();
        int mismatches = 0;

        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            TensorInfo t = file.Tensors[i % file.Tensors.Count];
            if (!file.GetSpan<float>(t.Name).SequenceEqual(expected[i % expected.Length]))
                Interlocked.Increment(ref mismatches);
        });

        Assert.Equal(0, mismatches);
    }

    [Fact]
    public void MissingTensorIsNamedWithTheFile()
    {
        using var file = SafetensorsFile.Open(ExitsFile);

        var e = Assert.Throws<SafetensorsException>(() => file.GetInfo("exits.9.pooler.weight"));

        Assert.Equal($"{ExitsFile}: tensor 'exits.9.pooler.weight': no such tensor (the file holds 20)", e.Message);
        Assert.False(file.TryGetInfo("exits.9.pooler.weight", out _));
        Assert.False(file.Contains("exits.9.pooler.weight"));
    }

    [Fact]
    public void MissingFileIsAnIOError()
    {
        using var dir = new TempDirectory();
        Assert.Throws<FileNotFoundException>(() => SafetensorsFile.Open(dir.File("nope.safetensors")));
    }
}
