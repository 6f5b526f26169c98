/// What the fused recurrent layers share: tensor memory as spans, the row passes of layer norm and
/// relu (forward and backward) as System.Numerics.Tensors calls, and an autograd function made
/// from a forward pass and its hand-derived backward.
module RL2.Nn.Fused

open System
open System.Collections.Generic
open System.Numerics
open System.Numerics.Tensors
open System.Runtime.InteropServices
open TorchSharp
open RL2

/// A contiguous CPU float32 tensor's elements, read and written in place.
let floats (t: Tensor) = MemoryMarshal.Cast<byte, float32>(t.bytes)

/// Zeroed working memory for row passes.
let scratch (n: int) = Span<float32>(Array.zeroCreate<float32> n)

/// A span's read-only view (TensorPrimitives' overloads do not convert implicitly from F#).
let inline ro (s: Span<float32>) : ReadOnlySpan<float32> = Span<float32>.op_Implicit s

/// Layer norm of a row in place, x ← (x − mean) / sqrt(biased var + 1e-8) (the reference's LN without
/// gain and bias); returns the reciprocal standard deviation.
let normalise (x: Span<float32>) =
    let n = float32 x.Length
    let mean = TensorPrimitives.Sum(ro x) / n
    TensorPrimitives.Subtract(ro x, mean, x)
    let var = TensorPrimitives.SumOfSquares(ro x) / n
    let rstd = 1.0f / MathF.Sqrt(var + 1e-8f)
    TensorPrimitives.Multiply(ro x, rstd, x)
    rstd

/// Backward of a gain-and-bias layer norm for one row: the input gradient
/// dx = rstd · (dy·g − mean(dy·g) − x̂ · mean(dy·g · x̂)) from the output gradient dy, the normalised
/// input x̂ and the reciprocal standard deviation; adds dy·x̂ and dy to the gain's and bias's gradients.
let normaliseBackward (dy: Span<float32>) (xhat: Span<float32>) (gain: Span<float32>) (rstd: float32) (dx: Span<float32>) (dGain: Span<float32>) (dBias: Span<float32>) =
    // Two passes, fused by hand: a row is a few hundred floats, where one call per operation
    // costs more than the arithmetic.
    let vdy = MemoryMarshal.Cast<float32, Vector<float32>>(dy)
    let vx = MemoryMarshal.Cast<float32, Vector<float32>>(xhat)
    let vg = MemoryMarshal.Cast<float32, Vector<float32>>(gain)
    let vdx = MemoryMarshal.Cast<float32, Vector<float32>>(dx)
    let vdGain = MemoryMarshal.Cast<float32, Vector<float32>>(dGain)
    let vdBias = MemoryMarshal.Cast<float32, Vector<float32>>(dBias)
    let mutable s1 = Vector<float32>.Zero
    let mutable s2 = Vector<float32>.Zero
    for k in 0 .. vdy.Length - 1 do
        let d = vdy[k]
        vdGain[k] <- vdGain[k] + d * vx[k]
        vdBias[k] <- vdBias[k] + d
        let dg = d * vg[k]
        vdx[k] <- dg
        s1 <- s1 + dg
        s2 <- s2 + dg * vx[k]
    let mutable m1 = Vector.Sum s1
    let mutable m2 = Vector.Sum s2
    let tail = vdy.Length * Vector<float32>.Count
    for i in tail .. dy.Length - 1 do
        let d = dy[i]
        dGain[i] <- dGain[i] + d * xhat[i]
        dBias[i] <- dBias[i] + d
        let dg = d * gain[i]
        dx[i] <- dg
        m1 <- m1 + dg
        m2 <- m2 + dg * xhat[i]
    let n = float32 dy.Length
    let m1, m2 = m1 / n, m2 / n
    let vm1, vm2, vr = Vector<float32>(m1), Vector<float32>(m2), Vector<float32>(rstd)
    for k in 0 .. vdx.Length - 1 do
        vdx[k] <- (vdx[k] - vm1 - vx[k] * vm2) * vr
    for i in tail .. dy.Length - 1 do
        dx[i] <- (dx[i] - m1 - xhat[i] * m2) * rstd

/// dst = dc where c > 0, else 0: relu's backward, given relu's output c.
let reluBackward (c: Span<float32>) (dc: Span<float32>) (dst: Span<float32>) =
    let vc = MemoryMarshal.Cast<float32, Vector<float32>>(c)
    let vdc = MemoryMarshal.Cast<float32, Vector<float32>>(dc)
    let vdst = MemoryMarshal.Cast<float32, Vector<float32>>(dst)
    for i in 0 .. vc.Length - 1 do
        vdst[i] <- Vector.ConditionalSelect(Vector.GreaterThan(vc[i], Vector<float32>.Zero), vdc[i], Vector<float32>.Zero)
    for i in vc.Length * Vector<float32>.Count .. c.Length - 1 do
        dst[i] <- if c[i] > 0.0f then dc[i] else 0.0f

/// Copies step t of a time-major block [B; h] into row (b, t) of a batch-major [B; T; h] buffer
/// (one copy per row instead of a transposing copy of the whole sequence afterwards).
let toBatchMajor (block: Span<float32>) (t: int) (steps: int) (h: int) (dst: Span<float32>) =
    for b in 0 .. block.Length / h - 1 do
        block.Slice(b * h, h).CopyTo(dst.Slice((b * steps + t) * h, h))

/// dst [B; h] = step t of a batch-major [B; T; h] buffer + a [B; h] block.
let addBatchMajor (src: Span<float32>) (t: int) (steps: int) (h: int) (block: Span<float32>) (dst: Span<float32>) =
    for b in 0 .. block.Length / h - 1 do
        TensorPrimitives.Add(ro (src.Slice((b * steps + t) * h, h)), ro (block.Slice(b * h, h)), dst.Slice(b * h, h))

/// The recurrent weight gradient of all steps at once, Σ_t h_{t-1}ᵀ · g_t, from the time-major hidden
/// states h_0 … h_T [T+1; B; h] and the recurrent projections' gradients g [T; B; k] → [h; k].
let recurrentWeightGradient (hidden: Tensor) (g: Tensor) =
    use before = hidden.narrow(0L, 0L, g.shape[0])
    use rows = before.reshape(-1L, hidden.shape[2])
    use rowsT = rows.t ()
    use gRows = g.reshape(-1L, g.shape[2])
    rowsT.mm gRows

/// A forward pass that returns its output [B; T; W] and what its backward needs, the backward from
/// the output's gradient to one gradient per input (in order), and how to free what was saved.
type Pass<'Saved> =
    { Forward: Tensor list -> Tensor * 'Saved
      Backward: 'Saved -> Tensor -> Tensor list
      Free: 'Saved -> unit }

type private Function() =
    inherit torch.autograd.SingleTensorFunction<Function>()
    override _.Name = "Fused"

    override _.forward(ctx, vars) =
        let run = vars[0] :?> Tensor list -> Tensor * (Tensor -> Tensor list)
        let output, backward = run [ for v in vars[1..] -> v :?> Tensor ]
        ctx.save_data("backward", box backward)
        output

    override _.backward(ctx, dy) =
        let backward = ctx.get_data "backward" :?> Tensor -> Tensor list
        // no gradient for the pass itself, then one per input
        List<Tensor>(null :: backward dy)

/// Applies a pass to its inputs: as one autograd node when autograd records and an input needs a
/// gradient (the backward runs once and frees the saved buffers: the graph is not retained through
/// it), else the forward alone, freeing its buffers at once.
let apply (pass: Pass<'Saved>) (inputs: Tensor list) =
    if torch.is_grad_enabled () && inputs |> List.exists _.requires_grad then
        let run (xs: Tensor list) =
            let output, saved = pass.Forward xs
            output,
            fun dy ->
                let grads = pass.Backward saved dy
                pass.Free saved
                grads
        torch.autograd.SingleTensorFunction<Function>.apply(Array.ofList (box run :: List.map box inputs))
    else
        let output, saved = pass.Forward inputs
        pass.Free saved
        output
