using BenchmarkDotNet.Running;
using NativeEE.Bench;
using NativeEE.Kernels;

// `gemm-table [options]`: GEMM GFLOP/s and % of the FMA peak from short best-of trials (see GemmTable).
// Anything else goes to BenchmarkDotNet; every benchmark class in this assembly is selectable:
// `dotnet run -c Release -- --filter '*Gemm*' --job short` (add --inProcess on a loaded machine).
if (args is ["gemm-table", .. var options])
{
    GemmTable.Run(options);
    return;
}
// The FMA peak behind the "% peak" columns is measured here, in the host process, before the benchmarks run.
Console.WriteLine($"// NativeEE: ISA path {Isa.Description}; FMA peak {BenchConfig.Peak:F1} GFLOP/s per core (measured now)");
BenchmarkSwitcher.FromAssembly(typeof(BenchConfig).Assembly).Run(args);
