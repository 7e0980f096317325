namespace NativeEE.Tests;

public class SharedPathsTests
{
    [Fact]
    public void SharedModelFolderIsReachable()
    {
        Assert.True(File.Exists(Path.Combine(SharedPaths.MiniLm, "model.safetensors")));
    }

    [Fact]
    public void MissingMaterialFailsWithAClearMessage()
    {
        var e = Assert.Throws<FileNotFoundException>(() => SharedPaths.Get("no/such/file.bin"));
        Assert.Contains("Shared test material missing", e.Message);
    }
}
