using BenchmarkDotNet.Running;
using NativeEE.Bench;
using NativeEE.Kernels;

// `e2e`: the end-to-end NativeEE vs ONNX Runtime harness (bench/run-e2e.sh); anything else goes to BenchmarkDotNet.
if (args.Length > 0 && args[0] == "e2e") return NativeEE.Bench.E2e.E2eRunner.Run(args[1..]);

// Every benchmark class in this assembly is selectable: `dotnet run -c Release -- --filter '*Gemm*' --job short`.
// The FMA peak behind the "% peak" column is measured here, in the host process, before the benchmarks run.
Console.WriteLine($"// NativeEE: ISA path {Isa.Description}; FMA peak {BenchConfig.Peak:F1} GFLOP/s per core (measured now)");
BenchmarkSwitcher.FromAssembly(typeof(BenchConfig).Assembly).Run(args);
return 0;
