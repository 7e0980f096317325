using System.Text.Json;

namespace NativeEE.Tests.Exits;

public sealed class PolicyFileTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("nativeee-policy-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string PolicyPath => Path.Combine(_dir, PolicyFile.FileName);

    static PolicyCalibration Facts => new()
    {
        DataFile = "../shared/data/sst2/dev.tsv",
        MaxAccuracyDrop = 1.0,
        DevAccuracy = 0.9271,
        FullDepthAccuracy = 0.936,
        MeanLayers = 3.42,
        ExpectedSpeedup = 1.61,
    };

    [Fact]
    public void AbsentFileMeansNoDefault()
    {
        Assert.Null(PolicyFile.TryLoad(_dir));
        Assert.Null(PolicyFile.TryRead(_dir));
    }

    [Fact]
    public void SaveThenLoadRoundTrips()
    {
        PolicyFile.Save(_dir, ExitPolicy.PatientConfidence(2, 0.9f), Facts);
        Assert.Equal("pcee:2,0.9", PolicyFile.TryLoad(_dir)!.Spec);
        var (policy, cal) = PolicyFile.TryRead(_dir)!.Value;
        Assert.Equal("pcee:2,0.9", policy.Spec);
        Assert.NotNull(cal);
        Assert.Equal(Facts.DataFile, cal.DataFile);
        Assert.Equal(Facts.MaxAccuracyDrop, cal.MaxAccuracyDrop);
        Assert.Equal(Facts.DevAccuracy, cal.DevAccuracy);
        Assert.Equal(Facts.FullDepthAccuracy, cal.FullDepthAccuracy);
        Assert.Equal(Facts.MeanLayers, cal.MeanLayers);
        Assert.Equal(Facts.ExpectedSpeedup, cal.ExpectedSpeedup);
        Assert.Null(cal.Rows);
        Assert.Null(cal.ExcludedSeenIn);
        Assert.False(File.Exists(PolicyPath + ".tmp"));
    }

    [Fact]
    public void RowsAndTheExcludedTrainingFileRoundTrip()
    {
        PolicyFile.Save(_dir, ExitPolicy.Entropy(0.17f), new PolicyCalibration
        {
            DataFile = Facts.DataFile, MaxAccuracyDrop = 1, DevAccuracy = 0.918, MeanLayers = 2.6, ExpectedSpeedup = 1.9,
            Rows = 766, ExcludedSeenIn = "train.tsv",
        });
        var cal = PolicyFile.TryRead(_dir)!.Value.Calibration!;
        Assert.Equal(766, cal.Rows);
        Assert.Equal("train.tsv", cal.ExcludedSeenIn);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(PolicyPath));
        Assert.Equal(766, doc.RootElement.GetProperty("calibration").GetProperty("rows").GetInt32());
    }

    [Fact]
    public void SavedFileIsPlainJsonWithTheSpec()
    {
        PolicyFile.Save(_dir, ExitPolicy.Entropy(0.35f), Facts);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(PolicyPath));
        Assert.Equal("nativeee-policy", doc.RootElement.GetProperty("format").GetString());
        Assert.Equal("entropy:0.35", doc.RootElement.GetProperty("policy").GetString());
        Assert.Equal(3.42, doc.RootElement.GetProperty("calibration").GetProperty("meanLayers").GetDouble());
    }

    [Fact]
    public void SaveReplacesThePreviousDefault()
    {
        PolicyFile.Save(_dir, ExitPolicy.Entropy(0.35f), Facts);
        PolicyFile.Save(_dir, ExitPolicy.Margin(0.5f), Facts);
        Assert.Equal("margin:0.5", PolicyFile.TryLoad(_dir)!.Spec);
    }

    [Fact]
    public void CalibrationIsOptionalOnRead()
    {
        File.WriteAllText(PolicyPath, """{"format":"nativeee-policy","version":1,"policy":"maxprob:0.9","extra":[1]}""");
        var (policy, cal) = PolicyFile.TryRead(_dir)!.Value;
        Assert.Equal("maxprob:0.9", policy.Spec);
        Assert.Null(cal);
    }

    [Theory]
    [InlineData("not json", null)]
    [InlineData("[]", null)]
    [InlineData("""{"format":"other","version":1,"policy":"full"}""", "format")]
    [InlineData("""{"format":"nativeee-policy","version":2,"policy":"full"}""", "version")]
    [InlineData("""{"format":"nativeee-policy","version":1}""", "policy")]
    [InlineData("""{"format":"nativeee-policy","version":1,"policy":"entropy:-3"}""", "policy")]
    [InlineData("""{"format":"nativeee-policy","version":1,"policy":7}""", "policy")]
    [InlineData("""{"format":"nativeee-policy","version":1,"policy":"full","calibration":{"dataFile":"d"}}""", "calibration.maxAccuracyDrop")]
    [InlineData("""{"format":"nativeee-policy","version":1,"policy":"full","calibration":{"dataFile":"d","maxAccuracyDrop":"x"}}""", "calibration.maxAccuracyDrop")]
    [InlineData("""{"format":"nativeee-policy","version":1,"policy":"full","calibration":{"dataFile":"d","maxAccuracyDrop":1,"devAccuracy":0.9,"meanLayers":3,"expectedSpeedup":2,"rows":0}}""", "calibration.rows")]
    public void MalformedFileNamesTheFileAndField(string content, string? field)
    {
        File.WriteAllText(PolicyPath, content);
        var e = Assert.Throws<ModelConfigException>(() => PolicyFile.TryLoad(_dir));
        Assert.Equal(PolicyPath, e.FileName);
        Assert.StartsWith(PolicyPath + ": ", e.Message);
        Assert.Equal(field, e.Field);
    }

    [Fact]
    public void SaveIntoMissingFolderFails()
    {
        Assert.Throws<DirectoryNotFoundException>(() => PolicyFile.Save(Path.Combine(_dir, "nope"), ExitPolicy.FullDepth, Facts));
    }
}
