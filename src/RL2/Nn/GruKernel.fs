/// Sequence mode of the layer-normalised GRU (SPEC §3) as one autograd function: the forward loop
/// and a hand-derived backward through time run the per-step element-wise work as vectorised row
/// passes (`Fused`) instead of a dozen libtorch calls and autograd nodes per step;
/// only the recurrent matmuls stay in libtorch, and the recurrent weight gradient of all steps is
/// one matmul after the loop. The step-mode cell in Gru.fs states the same equations with torch ops
/// and is the reference the tests check this against.
module RL2.Nn.GruKernel

open System
open System.Numerics.Tensors
open TorchSharp
open RL2
open RL2.Nn.Fused

/// The layer's parameters as the kernel reads them: fused recurrent weights [h; 3h] and the two
/// recurrent layer norms' gains and biases.
type Weights =
    { Recurrent: Tensor
      GainZr: Tensor
      BiasZr: Tensor
      GainH: Tensor
      BiasH: Tensor }

/// What the backward pass needs from the forward, time-major so that each step's rows form one
/// contiguous block (for its matmul and for element-wise passes over the whole block).
type private Saved =
    { /// h_0 … h_T  [T+1; B; h]
      Hidden: Tensor
      /// the recurrent projections normalised (x̂ of both layer norms)  [T; B; 3h]
      Normalised: Tensor
      /// reciprocal standard deviations of the two layer norms  [T; B; 2]
      Rstd: Tensor
      /// update gates, then reset gates  [T; 2; B; h]
      Gates: Tensor
      /// the candidate's recurrent layer-norm output  [T; B; h]
      CandidateNorm: Tensor
      /// candidate state relu(..)  [T; B; h]
      Candidate: Tensor }

/// Runs the GRU from a zero state over the input side of its gates, xzr [B; T; 2h] (update and reset,
/// forget shift included) and xh [B; T; h] (candidate); returns the outputs [B; T; h] and the buffers
/// of the backward pass.
let private run (w: Weights) (xzr: Tensor) (xh: Tensor) =
    use _ = torch.no_grad ()
    let b, steps, h = xh.shape[0], xh.shape[1], xh.shape[2]
    let h3 = 3L * h
    let hi, bi, ti = int h, int b, int steps
    let block = bi * hi
    use xzrc = xzr.contiguous ()
    use xhc = xh.contiguous ()
    let saved =
        { Hidden = torch.empty([| steps + 1L; b; h |])
          Normalised = torch.empty([| steps; b; h3 |])
          Rstd = torch.empty([| steps; b; 2L |])
          Gates = torch.empty([| steps; 2L; b; h |])
          CandidateNorm = torch.empty([| steps; b; h |])
          Candidate = torch.empty([| steps; b; h |]) }
    let hidden = saved.Hidden.unbind 0L
    let out = torch.empty([| b; steps; h |])
    let outs = floats out
    let normalised = saved.Normalised.unbind 0L
    let gates = saved.Gates.unbind 0L
    let wh = w.Recurrent.detach ()
    let gzr = floats w.GainZr
    let bzr = floats w.BiasZr
    let gh = floats w.GainH
    let bh = floats w.BiasH
    let xzrs = floats xzrc
    let xhs = floats xhc
    let hs = floats saved.Hidden
    let ns = floats saved.Normalised
    let rs = floats saved.Rstd
    let zs = floats saved.Gates
    let hhs = floats saved.CandidateNorm
    let cs = floats saved.Candidate
    hs.Slice(0, block).Clear()
    for t in 0 .. ti - 1 do
        normalised[t].addmm_(hidden[t], wh, 0.0f, 1.0f) |> ignore
        for r in 0 .. bi - 1 do
            let row = t * bi + r
            let n = ns.Slice(row * 3 * hi, 3 * hi)
            let x = xzrs.Slice((r * ti + t) * 2 * hi, 2 * hi)
            rs[2 * row] <- normalise (n.Slice(0, 2 * hi))
            rs[2 * row + 1] <- normalise (n.Slice(2 * hi, hi))
            for gate in 0 .. 1 do
                let pre = zs.Slice((2 * t + gate) * block + r * hi, hi)
                TensorPrimitives.FusedMultiplyAdd(ro (n.Slice(gate * hi, hi)), ro (gzr.Slice(gate * hi, hi)), ro (bzr.Slice(gate * hi, hi)), pre)
                TensorPrimitives.Add(ro pre, ro (x.Slice(gate * hi, hi)), pre)
            let hh = hhs.Slice(row * hi, hi)
            TensorPrimitives.FusedMultiplyAdd(ro (n.Slice(2 * hi, hi)), ro gh, ro bh, hh)
        // libtorch's vectorised exp is several times faster than TensorPrimitives.Sigmoid here
        gates[t].sigmoid_ () |> ignore
        for r in 0 .. bi - 1 do
            let row = t * bi + r
            TensorPrimitives.FusedMultiplyAdd(
                ro (zs.Slice((2 * t + 1) * block + r * hi, hi)),
                ro (hhs.Slice(row * hi, hi)),
                ro (xhs.Slice((r * ti + t) * hi, hi)),
                cs.Slice(row * hi, hi)
            )
        let c = cs.Slice(t * block, block)
        TensorPrimitives.Max(ro c, 0.0f, c)
        // h_t = h_{t-1} + z (c − h_{t-1}), as lerp
        let prev = hs.Slice(t * block, block)
        let next = hs.Slice((t + 1) * block, block)
        TensorPrimitives.Subtract(ro c, ro prev, next)
        TensorPrimitives.FusedMultiplyAdd(ro (zs.Slice(2 * t * block, block)), ro next, ro prev, next)
        toBatchMajor next t ti hi outs
    for t in Seq.concat [ hidden; normalised; gates ] do t.Dispose()
    wh.Dispose()
    out, saved

/// Gradients of the inputs of `run` from the outputs' gradient dy [B; T; h]: the gates' input sides
/// [B; T; 2h] and [B; T; h], fused recurrent weights [h; 3h], and the two layer norms' gains and biases.
let private backward (w: Weights) (saved: Saved) (dy: Tensor) =
    use _ = torch.no_grad ()
    let steps, b, h = saved.Candidate.shape[0], saved.Candidate.shape[1], saved.Candidate.shape[2]
    let hi, bi, ti = int h, int b, int steps
    let block = bi * hi
    use dyc = dy.contiguous ()
    let dxzr = torch.empty([| b; steps; 2L * h |])
    let dxh = torch.empty([| b; steps; h |])
    // gradients of the recurrent projections, time-major like the saved buffers (one weight matmul)
    use dhp = torch.empty([| steps; b; 3L * h |])
    // dL/dh_t arriving from step t + 1
    use carry = torch.zeros([| b; h |])
    use whT = w.Recurrent.t().contiguous ()
    let dhpSteps = dhp.unbind 0L
    let gzr = floats w.GainZr
    let gh = floats w.GainH
    let dys = floats dyc
    let dxzrs = floats dxzr
    let dxhs = floats dxh
    let dps = floats dhp
    let carried = floats carry
    let hs = floats saved.Hidden
    let ns = floats saved.Normalised
    let rs = floats saved.Rstd
    let zs = floats saved.Gates
    let hhs = floats saved.CandidateNorm
    let cs = floats saved.Candidate
    let dh = scratch block
    let dc = scratch block
    let dpre = scratch block
    let dhh = scratch block
    // update then reset gate gradients, laid out as the saved gates
    let dzr = scratch (2 * block)
    let tmp = scratch (2 * block)
    let dGainZr, dBiasZr = Array.zeroCreate<float32> (2 * hi), Array.zeroCreate<float32> (2 * hi)
    let dGainH, dBiasH = Array.zeroCreate<float32> hi, Array.zeroCreate<float32> hi
    for t in ti - 1 .. -1 .. 0 do
        let c = cs.Slice(t * block, block)
        let zr = zs.Slice(2 * t * block, 2 * block)
        let dz = dzr.Slice(0, block)
        let dr = dzr.Slice(block, block)
        addBatchMajor dys t ti hi carried dh
        TensorPrimitives.Subtract(ro c, ro (hs.Slice(t * block, block)), dz)
        TensorPrimitives.Multiply(ro dz, ro dh, dz)
        TensorPrimitives.Multiply(ro dh, ro (zr.Slice(0, block)), dc)
        TensorPrimitives.Subtract(ro dh, ro dc, carried)
        reluBackward c dc dpre
        TensorPrimitives.Multiply(ro dpre, ro (hhs.Slice(t * block, block)), dr)
        TensorPrimitives.Multiply(ro dpre, ro (zr.Slice(block, block)), dhh)
        // through the sigmoids: σ' = σ (1 − σ)
        TensorPrimitives.Multiply(ro zr, ro zr, tmp)
        TensorPrimitives.Subtract(ro zr, ro tmp, tmp)
        TensorPrimitives.Multiply(ro dzr, ro tmp, dzr)
        for r in 0 .. bi - 1 do
            let row = t * bi + r
            let dx = dxzrs.Slice((r * ti + t) * 2 * hi, 2 * hi)
            dz.Slice(r * hi, hi).CopyTo(dx.Slice(0, hi))
            dr.Slice(r * hi, hi).CopyTo(dx.Slice(hi, hi))
            dpre.Slice(r * hi, hi).CopyTo(dxhs.Slice((r * ti + t) * hi, hi))
            let n = ns.Slice(row * 3 * hi, 3 * hi)
            let g = dps.Slice(row * 3 * hi, 3 * hi)
            normaliseBackward dx (n.Slice(0, 2 * hi)) gzr rs[2 * row] (g.Slice(0, 2 * hi)) (dGainZr.AsSpan()) (dBiasZr.AsSpan())
            normaliseBackward (dhh.Slice(r * hi, hi)) (n.Slice(2 * hi, hi)) gh rs[2 * row + 1] (g.Slice(2 * hi, hi)) (dGainH.AsSpan()) (dBiasH.AsSpan())
        carry.addmm_(dhpSteps[t], whT, 1.0f, 1.0f) |> ignore
    for t in dhpSteps do t.Dispose()
    dxzr, dxh, recurrentWeightGradient saved.Hidden dhp, torch.tensor dGainZr, torch.tensor dBiasZr, torch.tensor dGainH, torch.tensor dBiasH

let private free (s: Saved) =
    for t in [ s.Hidden; s.Normalised; s.Rstd; s.Gates; s.CandidateNorm; s.Candidate ] do t.Dispose()

/// The GRU from a zero state over the input side of its gates, xzr [B; T; 2h] and xh [B; T; h] →
/// outputs [B; T; h], differentiable in the inputs and the weights when autograd records.
let sequence (w: Weights) (xzr: Tensor) (xh: Tensor) =
    let weights (ts: Tensor list) =
        { Recurrent = ts[2]; GainZr = ts[3]; BiasZr = ts[4]; GainH = ts[5]; BiasH = ts[6] }
    Fused.apply
        { Forward =
            fun ts ->
                let w = weights ts
                let outputs, saved = run w ts[0] ts[1]
                // the caller may free its handle of the fused weights before the backward pass
                outputs, ({ w with Recurrent = w.Recurrent.detach () }, saved)
          Backward =
            fun (w, saved) dy ->
                let dxzr, dxh, dw, dGainZr, dBiasZr, dGainH, dBiasH = backward w saved dy
                [ dxzr; dxh; dw; dGainZr; dBiasZr; dGainH; dBiasH ]
          Free =
            fun (w, saved) ->
                free saved
                w.Recurrent.Dispose() }
        [ xzr; xh; w.Recurrent; w.GainZr; w.BiasZr; w.GainH; w.BiasH ]
