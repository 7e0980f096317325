using System.CommandLine;
using System.Globalization;
using NativeEE.Kernels;
using NativeEE.Safetensors;
using Spectre.Console;

namespace NativeEE.Cli;

/// <summary><c>nee inspect</c>: what is in a model folder or a safetensors file, and the ISA the kernels would run on.</summary>
internal static class InspectCommand
{
    public static (Command, string[]) Create(CliContext context)
    {
        var path = new Argument<string>("PATH") { Description = "A model folder, a .safetensors file, config.json or nativeee-policy.json." };
        var command = new Command("inspect", "Tensors (name, dtype, shape, size), config summary, exit heads, calibrated policy and the active ISA.") { path };
        command.SetAction(parse => Run(context, parse.GetValue(path)!));
        return (command,
        [
            "nee inspect ../shared/models/minilm-sst2-ee",
            "nee inspect ../shared/models/minilm-sst2-ee/exits.safetensors",
        ]);
    }

    static int Run(CliContext context, string path)
    {
        var console = new Report(context.Console);
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full)) InspectFolder(console, full);
        else if (File.Exists(full))
        {
            string name = Path.GetFileName(full);
            if (name.Equals("config.json", StringComparison.OrdinalIgnoreCase)) WriteConfig(console, ModelConfig.Load(full));
            else if (name.Equals(PolicyFile.FileName, StringComparison.OrdinalIgnoreCase)) WritePolicy(console, Path.GetDirectoryName(full)!);
            else
            {
                using var file = SafetensorsFile.Open(full);
                WriteFile(console, file);
            }
        }
        else throw CliException.Input($"{full}: no such file or folder");
        console.WriteLine($"active ISA: {Isa.Description}; FMA {(Isa.HasFma ? "yes" : "no")}; {Environment.ProcessorCount} logical processors");
        return Cli.Success;
    }

    static void InspectFolder(Report console, string folder)
    {
        console.WriteLine($"model folder {folder}");
        string config = Path.Combine(folder, "config.json");
        if (File.Exists(config)) WriteConfig(console, ModelConfig.Load(config));
        else console.WriteLine("config.json: missing (not a loadable model folder)");
        string vocab = Path.Combine(folder, "vocab.txt");
        console.WriteLine(File.Exists(vocab) ? $"vocab.txt: {File.ReadLines(vocab).Count()} entries" : "vocab.txt: missing");

        using (var model = SafetensorsModel.Open(folder))
        {
            console.WriteLine($"weights: {string.Join(", ", model.Files.Select(f => Path.GetFileName(f.Path)))}");
            WriteTensors(console, model.Tensors);
        }
        string exits = Path.Combine(folder, "exits.safetensors");
        if (File.Exists(exits))
        {
            using var file = SafetensorsFile.Open(exits);
            WriteFile(console, file);
        }
        else console.WriteLine("exits.safetensors: none (only the final classifier; train heads with 'nee train-exits')");
        WritePolicy(console, folder);
    }

    static void WriteFile(Report console, SafetensorsFile file)
    {
        console.WriteLine($"{file.Path}: {Size(file.FileSize)}, header {file.HeaderSize} bytes, {file.Tensors.Count} tensors");
        foreach (var (key, value) in file.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            console.WriteLine($"  metadata {key} = {value}");
        if (file.Metadata.TryGetValue("format", out var format) && format == "nativeee-exits")
            console.WriteLine($"  exit heads after layers (0-based): {(file.Metadata.TryGetValue("exit_layers", out var layers) ? layers : "(from tensor names)")}");
        WriteTensors(console, file.Tensors);
    }

    static void WriteTensors(Report console, IReadOnlyList<TensorInfo> tensors)
    {
        var table = new Table().Border(TableBorder.Simple);
        table.AddColumn("tensor");
        table.AddColumn("dtype");
        table.AddColumn(new TableColumn("shape").RightAligned());
        table.AddColumn(new TableColumn("elements").RightAligned());
        table.AddColumn(new TableColumn("size").RightAligned());
        long elements = 0, bytes = 0;
        foreach (var t in tensors)
        {
            table.AddTextRow(t.Name, t.DType.ToHeaderName(), "[" + string.Join(", ", t.Shape) + "]",
                t.ElementCount.ToString("N0", CultureInfo.InvariantCulture), Size(t.SizeInBytes));
            elements += t.ElementCount;
            bytes += t.SizeInBytes;
        }
        console.Table(table);
        console.WriteLine($"  {tensors.Count} tensors, {elements.ToString("N0", CultureInfo.InvariantCulture)} elements, {Size(bytes)}");
    }

    static void WriteConfig(Report console, ModelConfig c)
    {
        console.WriteLine($"config: {c.ModelType}, {c.NumHiddenLayers} layers, hidden {c.HiddenSize}, {c.NumAttentionHeads} heads (head dim {c.HeadDim}), " +
            $"FFN {c.IntermediateSize} ({c.HiddenAct}), vocab {c.VocabSize}, {c.MaxPositionEmbeddings} positions, {c.TypeVocabSize} token types, " +
            $"LayerNorm eps {c.LayerNormEps.ToString("R", CultureInfo.InvariantCulture)}, labels: {string.Join(", ", c.Labels.Select((l, i) => $"{i}={l}"))}");
    }

    static void WritePolicy(Report console, string folder)
    {
        var read = PolicyFile.TryRead(folder);
        if (read is not { } found)
        {
            console.WriteLine($"{PolicyFile.FileName}: none (default policy: full depth)");
            return;
        }
        var inv = CultureInfo.InvariantCulture;
        string facts = found.Calibration is { } c
            ? string.Create(inv, $" — calibrated on {c.DataFile} within {c.MaxAccuracyDrop} pts: accuracy {c.DevAccuracy:0.0000}{(c.FullDepthAccuracy is double f ? $" (full {f:0.0000})" : "")}, mean layers {c.MeanLayers:0.00}, expected speed-up {c.ExpectedSpeedup:0.00}×")
            : "";
        console.WriteLine($"{PolicyFile.FileName}: default policy {found.Policy.Spec}{facts}");
    }

    static string Size(long bytes) => bytes switch
    {
        >= 1 << 30 => (bytes / (double)(1 << 30)).ToString("0.00", CultureInfo.InvariantCulture) + " GiB",
        >= 1 << 20 => (bytes / (double)(1 << 20)).ToString("0.00", CultureInfo.InvariantCulture) + " MiB",
        >= 1 << 10 => (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " B",
    };
}
