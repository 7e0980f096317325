if (args.Length > 0 && args[0] == "e2e") return NativeEE.Bench.E2e.E2eRunner.Run(args[1..]);
return 0;
