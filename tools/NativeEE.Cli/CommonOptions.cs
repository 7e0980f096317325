using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace NativeEE.Cli;

/// <summary>Options several commands share, built fresh for each command, and the model folder they lead to.</summary>
internal static class CommonOptions
{
    /// <summary>The model a user gets without <c>--model</c>: the shared one, relative to the current folder (a fresh clone's layout).</summary>
    public const string DefaultModelPath = "../shared/models/minilm-sst2-ee";

    public static Option<string?> Model() => new("--model", "-m")
    {
        Description = $"Model folder (config.json, vocab.txt, model.safetensors, optional exits.safetensors). Default: {DefaultModelPath} if it exists.",
        HelpName = "DIR",
    };

    public static Option<int?> Threads() => Positive("--threads", "-t", "Threads per call (default: all logical processors).", "N");

    public static Option<ExitPolicy?> Policy() => new("--policy", "-p")
    {
        Description = $"Exit policy: {ExitPolicy.ValidForms}. Default: the model folder's calibrated policy ({PolicyFile.FileName}), else full depth.",
        HelpName = "SPEC",
        CustomParser = ParsePolicy,
    };

    public static Option<bool> Json(string what) => new("--json")
    {
        Description = $"Print {what} as one JSON document.",
    };

    public static Option<int?> Positive(string name, string? alias, string description, string helpName)
    {
        var option = alias is null ? new Option<int?>(name) : new Option<int?>(name, alias);
        option.Description = description;
        option.HelpName = helpName;
        option.CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= 1) return v;
            result.AddError($"{name} must be a whole number ≥ 1, got '{text}'");
            return null;
        };
        return option;
    }

    public static ExitPolicy? ParsePolicy(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        try
        {
            return ExitPolicy.Parse(text);
        }
        catch (FormatException e)
        {
            result.AddError(e.Message.TrimEnd('.'));
            return null;
        }
    }

    /// <summary>The folder <c>--model</c> names, else the shared default if it exists here; no folder at all is a usage error.</summary>
    public static string ResolveModelDirectory(string? given)
    {
        if (!string.IsNullOrEmpty(given)) return Path.GetFullPath(given);
        string fallback = Path.GetFullPath(DefaultModelPath);
        if (Directory.Exists(fallback)) return fallback;
        throw CliException.Usage($"no model given: pass --model DIR (the default {DefaultModelPath} does not exist under {Environment.CurrentDirectory})");
    }

    /// <summary>Loads the model with the weight cache <c>--weight-cache</c>/<c>--no-weight-cache</c> chose (default: the per-user cache folder).</summary>
    public static EarlyExitModel LoadModel(CliContext context, string? given, int? threads)
    {
        string directory = ResolveModelDirectory(given);
        var options = new ModelOptions
        {
            Threads = threads ?? NativeEE.Kernels.WorkerPool.DefaultThreads,
            WeightCacheDirectory = context.NoCache ? null : context.CacheDirectory ?? ModelOptions.DefaultWeightCacheDirectory,
        };
        var model = EarlyExitModel.Load(directory, options);
        if (context.Verbose)
            context.Console.Error.WriteLine($"nee: packed weights: {model.WeightCache}{(model.WeightCachePath is { } path ? " (" + path + ")" : "")}");
        return model;
    }

    /// <summary><paramref name="policy"/>, or the model's default; refuses early-exit policies on a model without exit heads.</summary>
    public static ExitPolicy Resolve(EarlyExitModel model, ExitPolicy? policy)
    {
        policy ??= model.DefaultPolicy;
        if (policy.UsesIntermediateHeads && !model.HasExitHeads)
            throw CliException.Input($"policy '{policy.Spec}' needs exit heads, but {model.Directory} has no exits.safetensors (train some with 'nee train-exits', or use --policy full)");
        return policy;
    }
}
