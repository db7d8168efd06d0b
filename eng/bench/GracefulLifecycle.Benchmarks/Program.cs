using BenchmarkDotNet.Running;

// Usage: dotnet run -c Release --project eng/bench/GracefulLifecycle.Benchmarks [-- --filter *Middleware*]
// With no arguments, runs every benchmark (ShortRun job, memory diagnoser).
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args.Length == 0 ? ["--filter", "*"] : args);
