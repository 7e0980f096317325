using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace NativeEE.Cli;

/// <summary>Where long work reports how far it got. Thread-safe: training reports from worker threads.</summary>
internal interface IProgressSink
{
    /// <summary>Sets the amount done, in the units of the total given at start.</summary>
    void Report(double done);
}

/// <summary>Calls back on the reporting thread (System.Progress posts to the thread pool and may report after the work ended).</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}

/// <summary>
/// A progress bar on standard error when it is a terminal (Spectre.Console), otherwise plain lines — one per
/// 10 % or per 5 s, whichever comes first — so logs and CI output stay readable.
/// </summary>
internal static class ProgressDisplay
{
    public static T Run<T>(CliConsole console, string description, double total, Func<IProgressSink, T> work)
    {
        if (!console.ErrorIsTerminal)
        {
            var sink = new LineSink(console.Error, description, total);
            T result = work(sink);
            sink.Finish();
            return result;
        }
        return console.CreateErrorConsole().Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask(description, autoStart: true, maxValue: total);
                T result = work(new BarSink(task));
                task.Value = total;
                return result;
            });
    }

    public static void Run(CliConsole console, string description, double total, Action<IProgressSink> work)
        => Run<bool>(console, description, total, sink => { work(sink); return true; });

    sealed class BarSink(ProgressTask task) : IProgressSink
    {
        public void Report(double done) => task.Value = done;
    }

    sealed class LineSink(TextWriter error, string description, double total) : IProgressSink
    {
        readonly Stopwatch _clock = Stopwatch.StartNew();
        readonly Lock _lock = new();
        double _lastShownFraction;
        TimeSpan _lastShownTime;

        public void Report(double done)
        {
            lock (_lock)
            {
                double fraction = total > 0 ? Math.Clamp(done / total, 0, 1) : 1;
                var now = _clock.Elapsed;
                if (fraction < 1 && fraction - _lastShownFraction < 0.1 && now - _lastShownTime < TimeSpan.FromSeconds(5)) return;
                if (fraction >= 1 && _lastShownFraction >= 1) return;
                _lastShownFraction = fraction;
                _lastShownTime = now;
                error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{description}: {fraction * 100:0}% ({now.TotalSeconds:0.0} s)"));
            }
        }

        public void Finish()
        {
            lock (_lock)
            {
                if (_lastShownFraction >= 1) return;
                _lastShownFraction = 1;
                error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{description}: done ({_clock.Elapsed.TotalSeconds:0.0} s)"));
            }
        }
    }
}
