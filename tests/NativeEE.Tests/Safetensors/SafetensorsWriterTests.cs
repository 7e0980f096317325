using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using NativeEE.Safetensors;

namespace NativeEE.Tests.Safetensors;

public class SafetensorsWriterTests
{
    public static TheoryData<SafetensorsDType> AllDTypes => new(Enum.GetValues<SafetensorsDType>());

    static readonly int[][] OddShapes = [[], [0], [1], [3, 5, 7], [2, 0, 3], [1, 1, 1, 1], [13]];

    [Theory]
    [MemberData(nameof(AllDTypes))]
    public void EveryDTypeAndOddShapeRoundTrips(SafetensorsDType dtype)
    {
        using var dir = new TempDirectory();
        string path = dir.File("t.safetensors");
        var random = new Random(17 + (int)dtype);
        var writer = new SafetensorsWriter();
        var expected = new Dictionary<string, (int[] Shape, byte[] Raw)>();
        for (int i = 0; i < OddShapes.Length; i++)
        {
            int[] shape = OddShapes[i];
            var raw = new byte[shape.Aggregate(1, (a, d) => a * d) * dtype.SizeInBytes()];
            random.NextBytes(raw);
            string name = $"t{i}.{string.Join("x", shape)}";
            writer.Add(name, dtype, raw, shape);
            expected[name] = (shape, raw);
        }
        writer.Save(path);

        using var file = SafetensorsFile.Open(path);

        Assert.Equal(expected.Keys, file.Tensors.Select(t => t.Name)); // Add order is file order
        foreach (var (name, (shape, raw)) in expected)
        {
            TensorInfo info = file.GetInfo(name);
            Assert.Equal(dtype, info.DType);
            Assert.Equal(shape, info.Shape);
            Assert.Equal(raw.Length / dtype.SizeInBytes(), info.ElementCount);
            Assert.Equal(raw, file.GetBytes(name).ToArray());
        }
    }

    [Fact]
    public void F32OverloadStoresTheFloatsLittleEndian()
    {
        using var dir = new TempDirectory();
        string path = dir.File("f.safetensors");
        float[] data = [1.5f, -2f, float.Epsilon, float.NaN, float.NegativeInfinity, 0f];
        var writer = new SafetensorsWriter();
        writer.Add("x", data, 2, 3);
        writer.Save(path);

        using var file = SafetensorsFile.Open(path);
        ReadOnlySpan<byte> raw = file.GetBytes("x");
        for (int i = 0; i < data.Length; i++)
            Assert.Equal(BitConverter.SingleToInt32Bits(data[i]), BinaryPrimitives.ReadInt32LittleEndian(raw[(4 * i)..]));
        Assert.Equal(data, file.GetSpan<float>("x").ToArray());
    }

    [Fact]
    public void HeaderIsPaddedWithSpacesToEightBytesAndStartsWithTheMetadata()
    {
        using var dir = new TempDirectory();
        string path = dir.File("p.safetensors");
        var writer = new SafetensorsWriter();
        writer.Metadata["format"] = "pt";
        writer.Add("a", SafetensorsDType.U8, [7], 1);
        writer.Save(path);

        byte[] bytes = File.ReadAllBytes(path);
        long n = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.Equal(0, (8 + n) % 8);
        Assert.Equal(8 + n + 1, bytes.Length);
        Assert.StartsWith("{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", header);
        Assert.Matches("^[^ ]*} *$", header);
    }

    [Fact]
    public void NonAsciiNamesAndMetadataSurvive()
    {
        using var dir = new TempDirectory();
        string path = dir.File("u.safetensors");
        var writer = new SafetensorsWriter();
        writer.Metadata["note"] = "naïve \"quoted\" +<>&";
        writer.Add("gewicht.größe", [1f], 1);
        writer.Save(path);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal("naïve \"quoted\" +<>&", file.Metadata["note"]);
        Assert.True(file.Contains("gewicht.größe"));
    }

    [Fact]
    public void SaveReplacesAnExistingFileAndLeavesNoTemporaryBehind()
    {
        using var dir = new TempDirectory();
        string path = dir.File("r.safetensors");
        File.WriteAllText(path, "old");
        var writer = new SafetensorsWriter();
        writer.Add("a", [3f], 1);
        writer.Save(path);

        Assert.Equal([path], Directory.GetFiles(dir.Path));
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(3f, file.GetSpan<float>("a")[0]);
    }

    [Fact]
    public void BadAddsAreRefused()
    {
        var writer = new SafetensorsWriter();
        writer.Add("a", [1f], 1);
        Assert.Contains("already added", Assert.Throws<ArgumentException>(() => writer.Add("a", [1f], 1)).Message);
        Assert.Contains("reserved", Assert.Throws<ArgumentException>(() => writer.Add("__metadata__", [1f], 1)).Message);
        Assert.Contains("needs 8 bytes but 4", Assert.Throws<ArgumentException>(() => writer.Add("b", [1f], 2)).Message);
        Assert.Contains("negative", Assert.Throws<ArgumentException>(() => writer.Add("c", [], -1)).Message);
        Assert.Contains("needs 6 bytes but 4", Assert.Throws<ArgumentException>(() => writer.Add("d", SafetensorsDType.BF16, new byte[4], 3)).Message);
    }

    [Fact]
    public void UnalignedTensorsAfterOddSizedOnesReadCorrectly()
    {
        using var dir = new TempDirectory();
        string path = dir.File("unaligned.safetensors");
        float[] f32 = [1.25f, -3.5f, 1e-30f, 65504f, -0f];
        double[] f64 = [Math.PI, -1e300];
        long[] i64 = [long.MinValue, 42];
        var writer = new SafetensorsWriter();
        writer.Add("i8", SafetensorsDType.I8, [1, 2, 3], 3);
        writer.Add("f32", f32, 5);
        writer.Add("u8", SafetensorsDType.U8, [9, 8], 2);
        writer.Add("f64", SafetensorsDType.F64, MemoryMarshal.AsBytes<double>(f64), 2);
        writer.Add("i16", SafetensorsDType.I16, [1, 0, 2, 0, 3, 0], 3);
        writer.Add("i64", SafetensorsDType.I64, MemoryMarshal.AsBytes<long>(i64), 2);
        writer.Save(path);

        using var file = SafetensorsFile.Open(path);

        Assert.Equal(3, file.GetInfo("f32").DataBegin);
        Assert.Equal(25, file.GetInfo("f64").DataBegin);
        Assert.Equal(41, file.GetInfo("i16").DataBegin);
        Assert.Equal(47, file.GetInfo("i64").DataBegin);
        Assert.Equal(f32, file.GetSpan<float>("f32").ToArray());
        Assert.Equal(f32, file.ReadFloat32("f32"));
        Assert.Equal(f64, file.GetSpan<double>("f64").ToArray());
        Assert.Equal(new short[] { 1, 2, 3 }, file.GetSpan<short>("i16").ToArray());
        Assert.Equal(i64, file.GetSpan<long>("i64").ToArray());
    }
}
