using BenchmarkDotNet.Running;
using NativeEE.Bench;
using NativeEE.Kernels;

// `e2e [options]`: the end-to-end NativeEE vs ONNX Runtime harness (bench/run-e2e.sh).
if (args.Length > 0 && args[0] == "e2e") return NativeEE.Bench.E2e.E2eRunner.Run(args[1..]);

// `safetensors-open [FILE] [--runs N]`: median time to open (map + validate) a safetensors file.
if (args.Length > 0 && args[0] == "safetensors-open") return SafetensorsOpenTiming.Run(args[1..]);

// `gemm-table [options]`: GEMM GFLOP/s and % of the FMA peak from short best-of trials (see GemmTable).
// Anything else goes to BenchmarkDotNet; every benchmark class in this assembly is selectable:
// `dotnet run -c Release -- --filter '*Gemm*' --job short` (add --inProcess on a loaded machine).
if (args is ["gemm-table", .. var options])
{
    GemmTable.Run(options);
    return 0;
}
// The FMA peak behind the "% peak" columns is measured here, in the host process, before the benchmarks run.
Console.WriteLine($"// NativeEE: ISA path {Isa.Description}; FMA peak {BenchConfig.Peak:F1} GFLOP/s per core (measured now)");
BenchmarkSwitcher.FromAssembly(typeof(BenchConfig).Assembly).Run(args);
return 0;
