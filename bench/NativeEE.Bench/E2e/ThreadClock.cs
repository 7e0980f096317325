using System.Diagnostics;
using System.Runtime.InteropServices;

namespace NativeEE.Bench.E2e;

/// <summary>
/// CPU time of the calling thread (Linux: <c>clock_gettime(CLOCK_THREAD_CPUTIME_ID)</c>). On a machine shared with
/// other processes, wall time counts the time the thread waited for a core; thread CPU time does not. A 1-thread
/// engine call runs entirely on the caller (NativeEE's 1-thread pool and ONNX Runtime with one intra-op thread both run
/// inline), so its thread CPU time is the call's latency on an otherwise idle core. Elsewhere falls back to wall time.
/// </summary>
internal static partial class ThreadClock
{
    const int ClockThreadCpuTime = 3;

    [StructLayout(LayoutKind.Sequential)]
    struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out Timespec time);

    /// <summary>True when <see cref="NowNs"/> is the thread's CPU time, false when it is wall time.</summary>
    public static readonly bool IsCpuTime = Probe();

    static bool Probe()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try { return ClockGetTime(ClockThreadCpuTime, out _) == 0; }
        catch (DllNotFoundException) { return false; }
        catch (EntryPointNotFoundException) { return false; }
    }

    /// <summary>Nanoseconds of CPU time the calling thread has used (or wall-clock nanoseconds, see <see cref="IsCpuTime"/>).</summary>
    public static long NowNs()
    {
        if (IsCpuTime && ClockGetTime(ClockThreadCpuTime, out var t) == 0) return t.Seconds * 1_000_000_000 + t.Nanoseconds;
        return (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));
    }

    public static double Ms(long ns) => ns / 1e6;
}
