using Microsoft.ML.OnnxRuntime;

namespace NativeEE.Bench.E2e;

/// <summary>ONNX Runtime set up as the issue asks: all graph optimisations, N intra-op threads, 1 inter-op, sequential.</summary>
internal static class OrtSessions
{
    /// <summary>The ONNX Runtime build the bench runs (the managed assembly's version).</summary>
    public static string Version =>
        typeof(InferenceSession).Assembly.GetName().Version?.ToString(3) ?? "?";

    public static InferenceSession Create(string modelPath, int threads)
    {
        if (!File.Exists(modelPath)) throw new FileNotFoundException($"ONNX model not found: {modelPath}", modelPath);
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        return new InferenceSession(modelPath, options);
    }

    /// <summary>The graph's inputs among input_ids, attention_mask, token_type_ids, in that order (an export may drop unused ones).</summary>
    public static string[] InputNames(InferenceSession session)
    {
        string[] known = ["input_ids", "attention_mask", "token_type_ids"];
        foreach (string name in session.InputMetadata.Keys)
            if (Array.IndexOf(known, name) < 0)
                throw new InvalidOperationException($"The ONNX graph has an input '{name}' the bench does not know (expected {string.Join(", ", known)}).");
        return known.Where(session.InputMetadata.ContainsKey).ToArray();
    }

    public static string LogitsName(InferenceSession session) =>
        session.OutputMetadata.ContainsKey("logits") ? "logits" : session.OutputMetadata.Keys.First();

    /// <summary>
    /// rows[B][Tᵢ] → int64 tensors [B, max Tᵢ] for <paramref name="names"/>: ids padded with 0 ([PAD]), mask 1 on real
    /// tokens and 0 on padding, token types all 0.
    /// </summary>
    public static OrtValue[] PaddedInputs(string[] names, int[][] rows)
    {
        int batch = rows.Length, width = rows.Max(r => r.Length);
        var values = new OrtValue[names.Length];
        for (int k = 0; k < names.Length; k++)
        {
            var data = new long[batch * width];
            for (int b = 0; b < batch; b++)
                for (int t = 0; t < rows[b].Length; t++)
                    data[b * width + t] = names[k] switch
                    {
                        "input_ids" => rows[b][t],
                        "attention_mask" => 1,
                        _ => 0,
                    };
            values[k] = OrtValue.CreateTensorValueFromMemory(data, [batch, width]);
        }
        return values;
    }
}
