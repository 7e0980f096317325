using NativeEE.Training;

namespace NativeEE.Cli.Tests;

public class TrainExitsCommandTests
{
    /// <summary>
    /// A small run end to end: heads for layers 0…4 land in the exits file (with the training facts), the model folder
    /// it makes loads and classifies, and the deepest new head beats chance clearly on held-out dev rows.
    /// </summary>
    [Fact]
    public void TrainsHeadsAndMakesALoadableModelFolder()
    {
        string work = Path.Combine(Path.GetTempPath(), $"nee-train-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            string dev = Path.Combine(work, "dev.tsv");
            File.WriteAllLines(dev, File.ReadLines(CliRun.DevTsv).Take(161));
            string exits = Path.Combine(work, "exits.safetensors"), folder = Path.Combine(work, "model");
            var run = CliRun.Of("train-exits", "--model", CliRun.Model, "--data", Sst2Train, "--limit", "320", "--dev", dev,
                "--epochs", "3", "--out", exits, "--model-out", folder);
            Assert.True(run.ExitCode == 0, run.ToString());

            var heads = ExitsFile.Load(exits);
            Assert.Equal([0, 1, 2, 3, 4], heads.Keys.Order().ToArray());
            using (var file = NativeEE.Safetensors.SafetensorsFile.Open(exits))
            {
                Assert.Equal("320", file.Metadata["train.rows"]);
                Assert.Equal("3", file.Metadata["train.epochs"]);
                double deepest = double.Parse(file.Metadata["train.dev_accuracy"].Split(',')[^1], System.Globalization.CultureInfo.InvariantCulture);
                Assert.True(deepest > 0.7, $"layer-4 head dev accuracy {deepest}");
            }
            Assert.Equal(File.ReadAllBytes(exits), File.ReadAllBytes(Path.Combine(folder, "exits.safetensors")));
            var classify = CliRun.Of("classify", "--model", folder, "--policy", "entropy:0.5", "a gripping, funny film");
            Assert.True(classify.ExitCode == 0, classify.ToString());
            Assert.StartsWith("positive", classify.Out);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    static string Sst2Train => NativeEE.Tests.SharedPaths.Sst2("train.tsv");
}
