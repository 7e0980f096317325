namespace NativeEE.Tests.Engine;

public sealed class ModelLoadExceptionTests
{
    [Fact]
    public void CarriesFileTensorAndCause()
    {
        var inner = new IOException("disk");
        var e = new ModelLoadException("bad tensor", "/m/model.safetensors", "classifier.weight", inner);
        Assert.Equal("bad tensor", e.Message);
        Assert.Equal("/m/model.safetensors", e.FilePath);
        Assert.Equal("classifier.weight", e.TensorName);
        Assert.Same(inner, e.InnerException);
        Assert.Null(new ModelLoadException("missing", "/m/config.json").TensorName);
    }
}
