using System.Globalization;
using NativeEE.Safetensors;

namespace NativeEE.Tests.Model;

/// <summary>
/// A small Hugging Face BERT classifier folder written by the test (random weights, odd sizes) plus an
/// independent double-precision forward pass over the same weights: plain loops, no NativeEE kernels.
/// </summary>
public sealed class SyntheticBert : IDisposable
{
    public const int Hidden = 20, Heads = 4, HeadDim = 5, Layers = 3, Intermediate = 36, Positions = 16, Labels = 3;
    public static readonly string[] Vocabulary =
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "a", "film", "movie", "good", "bad", "great", "dull",
         "is", "was", "not", "very", ".", ",", "!", "fun", "##s", "##ly", "plot", "acting", "and", "but", "it"];
    public static int Vocab => Vocabulary.Length;
    public static readonly int[] ExitLayers = [0];

    readonly Dictionary<string, float[]> _tensors = new(StringComparer.Ordinal);
    readonly Dictionary<string, int[]> _shapes = new(StringComparer.Ordinal);
    readonly Dictionary<string, float[]> _exits = new(StringComparer.Ordinal);
    readonly Dictionary<string, int[]> _exitShapes = new(StringComparer.Ordinal);

    public SyntheticBert(int seed = 7)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("nativeee-synthetic-").FullName;
        var rng = new Random(seed);
        const float wScale = 0.35f;
        Add("bert.embeddings.word_embeddings.weight", rng, 1f, Vocab, Hidden);
        Add("bert.embeddings.position_embeddings.weight", rng, 0.5f, Positions, Hidden);
        Add("bert.embeddings.token_type_embeddings.weight", rng, 0.5f, 2, Hidden);
        AddNorm("bert.embeddings.LayerNorm", rng);
        for (int l = 0; l < Layers; l++)
        {
            string p = $"bert.encoder.layer.{l}.";
            foreach (var part in new[] { "query", "key", "value" })
            {
                Add($"{p}attention.self.{part}.weight", rng, wScale, Hidden, Hidden);
                Add($"{p}attention.self.{part}.bias", rng, 0.1f, Hidden);
            }
            Add($"{p}attention.output.dense.weight", rng, wScale, Hidden, Hidden);
            Add($"{p}attention.output.dense.bias", rng, 0.1f, Hidden);
            AddNorm($"{p}attention.output.LayerNorm", rng);
            Add($"{p}intermediate.dense.weight", rng, wScale, Intermediate, Hidden);
            Add($"{p}intermediate.dense.bias", rng, 0.1f, Intermediate);
            Add($"{p}output.dense.weight", rng, wScale, Hidden, Intermediate);
            Add($"{p}output.dense.bias", rng, 0.1f, Hidden);
            AddNorm($"{p}output.LayerNorm", rng);
        }
        Add("bert.pooler.dense.weight", rng, wScale, Hidden, Hidden);
        Add("bert.pooler.dense.bias", rng, 0.1f, Hidden);
        Add("classifier.weight", rng, 1f, Labels, Hidden);
        Add("classifier.bias", rng, 0.1f, Labels);
        foreach (int l in ExitLayers)
        {
            AddExit($"exits.{l}.pooler.weight", rng, wScale, Hidden, Hidden);
            AddExit($"exits.{l}.pooler.bias", rng, 0.1f, Hidden);
            AddExit($"exits.{l}.classifier.weight", rng, 1f, Labels, Hidden);
            AddExit($"exits.{l}.classifier.bias", rng, 0.1f, Labels);
        }
        WriteFolder();
    }

    public string Directory { get; }

    public string ConfigJson(int layers = Layers, int intermediate = Intermediate) => $$"""
        {
          "architectures": ["BertForSequenceClassification"],
          "model_type": "bert",
          "hidden_size": {{Hidden}},
          "num_hidden_layers": {{layers}},
          "num_attention_heads": {{Heads}},
          "intermediate_size": {{intermediate}},
          "hidden_act": "gelu",
          "max_position_embeddings": {{Positions}},
          "type_vocab_size": 2,
          "vocab_size": {{Vocab}},
          "layer_norm_eps": 1e-12,
          "pad_token_id": 0,
          "id2label": {"0": "sad", "1": "neutral", "2": "happy"}
        }
        """;

    /// <summary>Rewrites the folder, optionally without some tensors or with some replaced (name → (data, shape)).</summary>
    public void WriteFolder(ICollection<string>? omit = null, IReadOnlyDictionary<string, (float[] Data, int[] Shape)>? replace = null, bool exits = true)
    {
        File.WriteAllText(Path.Combine(Directory, "config.json"), ConfigJson());
        File.WriteAllText(Path.Combine(Directory, "vocab.txt"), string.Join("\n", Vocabulary) + "\n");
        File.WriteAllText(Path.Combine(Directory, "tokenizer_config.json"), """{"do_lower_case": true, "model_max_length": 16}""");
        Save(Path.Combine(Directory, "model.safetensors"), _tensors, _shapes, omit, replace, null);
        string exitsPath = Path.Combine(Directory, "exits.safetensors");
        if (exits)
        {
            var meta = new Dictionary<string, string> { ["format"] = "nativeee-exits", ["exit_layers"] = string.Join(",", ExitLayers) };
            Save(exitsPath, _exits, _exitShapes, omit, replace, meta);
        }
        else if (File.Exists(exitsPath)) File.Delete(exitsPath);
    }

    static void Save(string path, Dictionary<string, float[]> tensors, Dictionary<string, int[]> shapes, ICollection<string>? omit,
        IReadOnlyDictionary<string, (float[] Data, int[] Shape)>? replace, Dictionary<string, string>? metadata)
    {
        var writer = new SafetensorsWriter();
        if (metadata is not null) foreach (var (k, v) in metadata) writer.Metadata[k] = v;
        foreach (var (name, data) in tensors)
        {
            if (omit?.Contains(name) == true) continue;
            if (replace is not null && replace.TryGetValue(name, out var r)) writer.Add(name, r.Data, r.Shape);
            else writer.Add(name, data, shapes[name]);
        }
        writer.Save(path);
    }

    void Add(string name, Random rng, float scale, params int[] shape)
    {
        _tensors[name] = RandomTensor(rng, scale, shape);
        _shapes[name] = shape;
    }

    void AddExit(string name, Random rng, float scale, params int[] shape)
    {
        _exits[name] = RandomTensor(rng, scale, shape);
        _exitShapes[name] = shape;
    }

    void AddNorm(string prefix, Random rng)
    {
        _tensors[prefix + ".weight"] = RandomTensor(rng, 0.2f, Hidden).Select(v => 1 + v).ToArray();
        _shapes[prefix + ".weight"] = [Hidden];
        Add(prefix + ".bias", rng, 0.1f, Hidden);
    }

    static float[] RandomTensor(Random rng, float scale, params int[] shape)
    {
        int n = shape.Aggregate(1, (a, b) => a * b);
        var data = new float[n];
        for (int i = 0; i < n; i++) data[i] = (float)((rng.NextDouble() * 2 - 1) * scale);
        return data;
    }

    public float[] Tensor(string name) => _tensors.TryGetValue(name, out var t) ? t : _exits[name];

    public int[] Shape(string name) => _shapes.TryGetValue(name, out var s) ? s : _exitShapes[name];

    /// <summary>Oracle: token ids → the [CLS] state after every layer [L][H] and each head's logits (layer → [C]).</summary>
    public (double[][] Cls, Dictionary<int, double[]> Logits) Forward(ReadOnlySpan<int> ids)
    {
        int n = ids.Length;
        var x = new double[n, Hidden];
        var word = Tensor("bert.embeddings.word_embeddings.weight");
        var pos = Tensor("bert.embeddings.position_embeddings.weight");
        var type = Tensor("bert.embeddings.token_type_embeddings.weight");
        for (int t = 0; t < n; t++)
            for (int j = 0; j < Hidden; j++)
                x[t, j] = (double)word[ids[t] * Hidden + j] + type[j] + pos[t * Hidden + j];
        x = Norm(x, "bert.embeddings.LayerNorm");
        var cls = new double[Layers][];
        var logits = new Dictionary<int, double[]>();
        for (int l = 0; l < Layers; l++)
        {
            string p = $"bert.encoder.layer.{l}.";
            var q = Linear(x, p + "attention.self.query");
            var k = Linear(x, p + "attention.self.key");
            var v = Linear(x, p + "attention.self.value");
            var context = new double[n, Hidden];
            for (int h = 0; h < Heads; h++)
            {
                for (int i = 0; i < n; i++)
                {
                    var scores = new double[n];
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < n; j++)
                    {
                        double dot = 0;
                        for (int d = 0; d < HeadDim; d++) dot += q[i, h * HeadDim + d] * k[j, h * HeadDim + d];
                        scores[j] = dot / Math.Sqrt(HeadDim);
                        max = Math.Max(max, scores[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < n; j++) { scores[j] = Math.Exp(scores[j] - max); sum += scores[j]; }
                    for (int d = 0; d < HeadDim; d++)
                    {
                        double acc = 0;
                        for (int j = 0; j < n; j++) acc += scores[j] / sum * v[j, h * HeadDim + d];
                        context[i, h * HeadDim + d] = acc;
                    }
                }
            }
            x = Norm(Add(Linear(context, p + "attention.output.dense"), x), p + "attention.output.LayerNorm");
            var up = Linear(x, p + "intermediate.dense");
            for (int i = 0; i < n; i++)
                for (int j = 0; j < Intermediate; j++)
                    up[i, j] = 0.5 * up[i, j] * (1 + Erf(up[i, j] / Math.Sqrt(2)));
            x = Norm(Add(Linear(up, p + "output.dense"), x), p + "output.LayerNorm");

            cls[l] = new double[Hidden];
            for (int j = 0; j < Hidden; j++) cls[l][j] = x[0, j];
            string? pooler = l == Layers - 1 ? "bert.pooler.dense" : ExitLayers.Contains(l) ? $"exits.{l}.pooler" : null;
            if (pooler is null) continue;
            string classifier = l == Layers - 1 ? "classifier" : $"exits.{l}.classifier";
            var first = new double[1, Hidden];
            for (int j = 0; j < Hidden; j++) first[0, j] = x[0, j];
            var pooled = Linear(first, pooler);
            for (int j = 0; j < Hidden; j++) pooled[0, j] = Math.Tanh(pooled[0, j]);
            var z = Linear(pooled, classifier);
            logits[l] = Enumerable.Range(0, Labels).Select(c => z[0, c]).ToArray();
        }
        return (cls, logits);
    }

    double[,] Linear(double[,] x, string name)
    {
        var w = Tensor(name + ".weight");
        var b = Tensor(name + ".bias");
        int rows = x.GetLength(0), input = x.GetLength(1), output = b.Length;
        var y = new double[rows, output];
        for (int i = 0; i < rows; i++)
            for (int o = 0; o < output; o++)
            {
                double acc = b[o];
                for (int k = 0; k < input; k++) acc += x[i, k] * w[o * input + k];
                y[i, o] = acc;
            }
        return y;
    }

    static double[,] Add(double[,] a, double[,] b)
    {
        var y = (double[,])a.Clone();
        for (int i = 0; i < a.GetLength(0); i++)
            for (int j = 0; j < a.GetLength(1); j++) y[i, j] += b[i, j];
        return y;
    }

    double[,] Norm(double[,] x, string name)
    {
        var g = Tensor(name + ".weight");
        var b = Tensor(name + ".bias");
        int rows = x.GetLength(0), cols = x.GetLength(1);
        var y = new double[rows, cols];
        for (int i = 0; i < rows; i++)
        {
            double mean = 0, var = 0;
            for (int j = 0; j < cols; j++) mean += x[i, j];
            mean /= cols;
            for (int j = 0; j < cols; j++) var += (x[i, j] - mean) * (x[i, j] - mean);
            var /= cols;
            for (int j = 0; j < cols; j++) y[i, j] = (x[i, j] - mean) / Math.Sqrt(var + 1e-12) * g[j] + b[j];
        }
        return y;
    }

    /// <summary>erf by its Maclaurin series; beyond |x| = 4, erf is ±1 within 2e-8. At |x| = 4 the largest term is ~1e5, so
    /// cancellation costs ~1e-11; 120 terms converge to below double rounding.</summary>
    static double Erf(double x)
    {
        if (Math.Abs(x) > 4) return Math.Sign(x);
        double sum = 0, term = x;
        for (int n = 0; n < 120; n++)
        {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    /// <summary>Random id sequences [CLS] w… [SEP] of the given lengths (≥ 2).</summary>
    public static int[][] RandomSequences(int seed, params int[] lengths)
    {
        var rng = new Random(seed);
        var result = new int[lengths.Length][];
        for (int i = 0; i < lengths.Length; i++)
        {
            var ids = new int[lengths[i]];
            ids[0] = 2;
            ids[^1] = 3;
            for (int t = 1; t < ids.Length - 1; t++) ids[t] = rng.Next(5, Vocab);
            result[i] = ids;
        }
        return result;
    }

    public static (int[] Flat, int[] Offsets) Pack(int[][] sequences)
    {
        var offsets = new int[sequences.Length + 1];
        for (int i = 0; i < sequences.Length; i++) offsets[i + 1] = offsets[i] + sequences[i].Length;
        return (sequences.SelectMany(s => s).ToArray(), offsets);
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"synthetic BERT in {Directory}");
}
