using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace NativeEE.Cli;

/// <summary><c>nee classify</c>: label texts from the arguments or standard input, batched, with where each one exited.</summary>
internal static class ClassifyCommand
{
    /// <summary>Texts per batch call when reading standard input: large enough to share GEMMs, small enough to stream.</summary>
    const int Chunk = 64;

    public static (Command, string[]) Create(CliContext context)
    {
        var model = CommonOptions.Model();
        var threads = CommonOptions.Threads();
        var policy = CommonOptions.Policy();
        var trace = new Option<bool>("--trace") { Description = "Also show every exit head's probabilities on the way (why it exited where it did)." };
        var json = CommonOptions.Json("one object per text, in input order");
        var texts = new Argument<string[]>("TEXT")
        {
            Description = "Texts to classify. None: one text per line from standard input.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command("classify", "Classify texts; prints label, confidence and the layer each one exited at.")
        {
            model, threads, policy, trace, json, texts,
        };
        command.SetAction(parse => Run(context, parse.GetValue(model), parse.GetValue(threads), parse.GetValue(policy),
            parse.GetValue(trace), parse.GetValue(json), parse.GetValue(texts) ?? []));
        return (command,
        [
            "nee classify \"a gripping, funny film\" \"a dull mess\"",
            "nee classify --policy entropy:0.3 --trace \"not bad at all\"",
            "cat reviews.txt | nee classify --json > labels.json",
        ]);
    }

    static int Run(CliContext context, string? modelDir, int? threads, ExitPolicy? policyOption, bool trace, bool json, string[] arguments)
    {
        var console = context.Console;
        IEnumerable<string> texts;
        if (arguments.Length > 0) texts = arguments;
        else if (console.Input is { } input) texts = ReadLines(input);
        else throw CliException.Usage("no text to classify: pass TEXT arguments or pipe one text per line into standard input");

        using var model = CommonOptions.LoadModel(context, modelDir, threads);
        var policy = CommonOptions.Resolve(model, policyOption);
        var writer = json ? new JsonOutput(console.Out) : null;
        writer?.Json.WriteStartArray();
        var batch = new List<string>(Chunk);
        var results = new Prediction[Chunk];
        foreach (string text in texts)
        {
            batch.Add(text);
            if (batch.Count == Chunk) Flush();
        }
        Flush();
        if (writer is not null)
        {
            writer.Json.WriteEndArray();
            writer.Dispose();
        }
        return Cli.Success;

        void Flush()
        {
            if (batch.Count == 0) return;
            var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(batch);
            if (trace)
                for (int i = 0; i < span.Length; i++) results[i] = model.ClassifyWithTrace(span[i], policy, context.CancellationToken);
            else
                model.Classify(span, results.AsSpan(0, span.Length), policy, context.CancellationToken);
            for (int i = 0; i < span.Length; i++)
            {
                if (writer is not null) WriteJson(writer.Json, span[i], results[i]);
                else WriteText(console.Out, model, span[i], results[i]);
            }
            if (writer is not null) writer.Flush();
            else console.Out.Flush();
            batch.Clear();
        }
    }

    static IEnumerable<string> ReadLines(TextReader input)
    {
        while (input.ReadLine() is { } line)
            if (!string.IsNullOrWhiteSpace(line)) yield return line;
    }

    static void WriteText(TextWriter output, EarlyExitModel model, string text, in Prediction p)
    {
        int width = 0;
        foreach (var name in model.Labels) width = Math.Max(width, name.Length);
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(inv, $"{p.LabelName.PadRight(width)}  {p.Confidence:0.000}  layer {p.LayersRun}/{model.NumLayers}  {text}{(p.Truncated ? "  (truncated)" : "")}"));
        if (p.Trace is null) return;
        foreach (var head in p.Trace.Heads)
        {
            var line = new System.Text.StringBuilder(string.Create(inv, $"    after layer {head.Layer + 1}:"));
            var probabilities = head.Probabilities;
            for (int c = 0; c < probabilities.Length; c++)
                line.Append(inv, $" {model.Labels[c]} {probabilities[c]:0.000}");
            line.Append(inv, $"  entropy {Entropy(probabilities):0.000}");
            if (head.Layer == p.ExitLayer) line.Append("  ← exit");
            output.WriteLine(line.ToString());
        }
    }

    static double Entropy(ReadOnlySpan<float> p)
    {
        double h = 0;
        foreach (float v in p) if (v > 0) h -= v * Math.Log(v);
        return h;
    }

    static void WriteJson(Utf8JsonWriter w, string text, in Prediction p)
    {
        w.WriteStartObject();
        w.WriteString("text", text);
        w.WriteNumber("label", p.Label);
        w.WriteString("labelName", p.LabelName);
        w.WriteNumber("confidence", p.Confidence);
        w.WriteStartArray("probabilities");
        foreach (float v in p.Probabilities) w.WriteNumberValue(v);
        w.WriteEndArray();
        w.WriteNumber("exitLayer", p.ExitLayer);
        w.WriteNumber("layersRun", p.LayersRun);
        w.WriteNumber("tokens", p.TokenCount);
        w.WriteBoolean("truncated", p.Truncated);
        if (p.Trace is not null)
        {
            w.WriteStartArray("trace");
            foreach (var head in p.Trace.Heads)
            {
                w.WriteStartObject();
                w.WriteNumber("layer", head.Layer);
                w.WriteStartArray("probabilities");
                foreach (float v in head.Probabilities) w.WriteNumberValue(v);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }
}
