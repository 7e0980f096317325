using NativeEE.Safetensors;

namespace NativeEE.Tests.Safetensors;

public class TensorInfoTests
{
    [Fact]
    public void DescribesItselfAndItsByteRange()
    {
        using var dir = new TempDirectory();
        string path = dir.File("t.safetensors");
        var writer = new SafetensorsWriter();
        writer.Add("first", SafetensorsDType.U8, [1, 2, 3], 3);
        writer.Add("w", SafetensorsDType.BF16, new byte[2 * 6], 2, 3);
        writer.Add("s", [7f]);
        writer.Save(path);

        using var file = SafetensorsFile.Open(path);
        TensorInfo w = file.GetInfo("w"), s = file.GetInfo("s");

        Assert.Equal("w BF16 [2, 3]", w.ToString());
        Assert.Equal((3L, 15L, 12L, 6L), (w.DataBegin, w.DataEnd, w.SizeInBytes, w.ElementCount));
        Assert.Equal("s F32 []", s.ToString());
        Assert.Equal(1, s.ElementCount); // a 0-d scalar holds one element
        Assert.Equal(7f, file.GetSpan<float>("s")[0]);
    }
}
