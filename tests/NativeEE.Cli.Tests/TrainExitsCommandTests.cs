using NativeEE.Training;

namespace NativeEE.Cli.Tests;

public class TrainExitsCommandTests
{
    /// <summary>
    /// A small run end to end with the default recipe (12 epochs, weight decay 0.1, Polyak 0.9995, heads started from the
    /// model's pooler + classifier): heads for layers 0…4 land in the exits file (with the training facts), the model
    /// folder it makes loads and classifies, and the deepest new head beats chance clearly on held-out dev rows.
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
                "--out", exits, "--model-out", folder);
            Assert.True(run.ExitCode == 0, run.ToString());

            var heads = ExitsFile.Load(exits);
            Assert.Equal([0, 1, 2, 3, 4], heads.Keys.Order().ToArray());
            using (var file = NativeEE.Safetensors.SafetensorsFile.Open(exits))
            {
                Assert.Equal("320", file.Metadata["train.rows"]);
                Assert.Equal("12", file.Metadata["train.epochs"]);
                Assert.Equal("0.1", file.Metadata["train.weight_decay"]);
                Assert.Equal("0.9995", file.Metadata["train.weight_averaging"]);
                Assert.Equal("pooler", file.Metadata["train.init"]);
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

    /// <summary>
    /// --init pooler starts every head from the model's own pooler + classifier, --init random from a seeded draw: with a
    /// learning rate too small to move anything, the written classifier is the model's for pooler and far from it for random.
    /// A file that is not there is a usage error, reported before any backbone pass.
    /// </summary>
    [Fact]
    public void InitChoosesWhereTheHeadsStart()
    {
        string work = Directory.CreateTempSubdirectory("nee-init-").FullName;
        try
        {
            var pooler = ExitsFile.LoadModelHead(CliRun.Model);
            foreach (string init in new[] { "pooler", "random" })
            {
                string exits = Path.Combine(work, init + ".safetensors");
                var run = CliRun.Of("train-exits", "--model", CliRun.Model, "--data", Sst2Train, "--limit", "64", "--epochs", "1",
                    "--lr", "1e-9", "--weight-averaging", "0", "--init", init, "--out", exits);
                Assert.True(run.ExitCode == 0, run.ToString());
                var head = ExitsFile.Load(exits)[4];
                // Standardising folds a per-dimension affine map into the pooler; the classifier is untouched by it.
                float diff = 0;
                for (int i = 0; i < pooler.ClassifierWeight.Length; i++) diff = Math.Max(diff, Math.Abs(pooler.ClassifierWeight[i] - head.ClassifierWeight[i]));
                if (init == "pooler") Assert.True(diff < 1e-4f, $"classifier moved by {diff}");
                else Assert.True(diff > 1e-2f, $"random start equals the model's classifier within {diff}");
            }
            var bad = CliRun.Of("train-exits", "--model", CliRun.Model, "--data", Sst2Train, "--limit", "8", "--init", Path.Combine(work, "missing.safetensors"));
            Assert.Equal(Cli.UsageError, bad.ExitCode);
            Assert.Contains("--init", bad.Error);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>
    /// --seeds 1,2 writes the element-wise mean of what --seed 1 and --seed 2 write on their own (same data, same options),
    /// records the seeds, and refuses a seed listed twice.
    /// </summary>
    [Fact]
    public void SeedsWritesTheMeanOfThePerSeedHeads()
    {
        string work = Directory.CreateTempSubdirectory("nee-soup-").FullName;
        try
        {
            string[] common = ["train-exits", "--model", CliRun.Model, "--data", Sst2Train, "--limit", "64", "--epochs", "1"];
            var files = new Dictionary<string, string>();
            foreach (var (name, extra) in new[] { ("s1", new[] { "--seed", "1" }), ("s2", new[] { "--seed", "2" }), ("soup", new[] { "--seeds", "1,2" }) })
            {
                files[name] = Path.Combine(work, name + ".safetensors");
                var run = CliRun.Of([.. common, .. extra, "--out", files[name]]);
                Assert.True(run.ExitCode == 0, run.ToString());
            }
            var (a, b, soup) = (ExitsFile.Load(files["s1"]), ExitsFile.Load(files["s2"]), ExitsFile.Load(files["soup"]));
            Assert.Equal([0, 1, 2, 3, 4], soup.Keys.Order().ToArray());
            foreach (int layer in soup.Keys)
            {
                Assert.False(a[layer].PoolerWeight.SequenceEqual(b[layer].PoolerWeight));
                AssertMean(soup[layer].PoolerWeight, a[layer].PoolerWeight, b[layer].PoolerWeight);
                AssertMean(soup[layer].PoolerBias, a[layer].PoolerBias, b[layer].PoolerBias);
                AssertMean(soup[layer].ClassifierWeight, a[layer].ClassifierWeight, b[layer].ClassifierWeight);
                AssertMean(soup[layer].ClassifierBias, a[layer].ClassifierBias, b[layer].ClassifierBias);
            }
            using (var file = NativeEE.Safetensors.SafetensorsFile.Open(files["soup"]))
                Assert.Equal("1,2", file.Metadata["train.seed"]);

            var twice = CliRun.Of([.. common, "--seeds", "1,1", "--out", Path.Combine(work, "twice.safetensors")]);
            Assert.Equal(Cli.UsageError, twice.ExitCode);
            Assert.Contains("twice", twice.Error);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }

        static void AssertMean(ReadOnlySpan<float> mean, ReadOnlySpan<float> x, ReadOnlySpan<float> y)
        {
            for (int i = 0; i < mean.Length; i++)
                Assert.True(mean[i] == (float)(((double)x[i] + y[i]) / 2), $"element {i}: {mean[i]} vs ({x[i]} + {y[i]}) / 2");
        }
    }

    static string Sst2Train => NativeEE.Tests.SharedPaths.Sst2("train.tsv");
}
