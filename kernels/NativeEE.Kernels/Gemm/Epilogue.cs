namespace NativeEE.Kernels;

/// <summary>Element-wise function applied to <c>X·Wᵀ + bias</c> before the optional residual add.</summary>
public enum Epilogue
{
    /// <summary>y = x·wᵀ + b (+ r).</summary>
    None = 0,
    /// <summary>y = gelu_erf(x·wᵀ + b) (+ r).</summary>
    Gelu = 1,
    /// <summary>y = tanh(x·wᵀ + b) (+ r).</summary>
    Tanh = 2,
}
