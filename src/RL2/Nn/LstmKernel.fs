/// Sequence mode of the layer-normalised LSTM (SPEC §3) as one autograd function, as `GruKernel` is
/// for the GRU: the recurrent matmuls stay in libtorch, the layer norm, gates and cell update run as
/// vectorised row and block passes, and the backward through time is hand-derived, with the
/// recurrent weight gradient of all steps as one matmul after the loop. The step-mode cell in
/// Lstm.fs states the same equations with torch ops and is the reference the tests check this against.
module RL2.Nn.LstmKernel

open System
open System.Numerics.Tensors
open TorchSharp
open RL2
open RL2.Nn.Fused

/// The layer's recurrent parameters as the kernel reads them: weights [h; 4h] and the recurrent
/// layer norm's gain and bias.
type Weights = { Recurrent: Tensor; Gain: Tensor; Bias: Tensor }

/// What the backward pass needs from the forward, time-major so that each step's rows form one block.
type private Saved =
    { /// h_0 … h_T  [T+1; B; h]
      Hidden: Tensor
      /// c_0 … c_T  [T+1; B; h]
      Cell: Tensor
      /// the recurrent projections normalised (x̂ of the layer norm)  [T; B; 4h]
      Normalised: Tensor
      /// reciprocal standard deviations of the layer norm  [T; B]
      Rstd: Tensor
      /// f, i, o after their sigmoids and j after its relu  [T; 4; B; h]
      Gates: Tensor }

/// Runs the LSTM from a zero state over the input side of its gates, xp [B; T; 4h] (f, i, o, j,
/// forget bias included); returns the outputs h [B; T; h] and the buffers of the backward pass.
let private run (w: Weights) (xp: Tensor) =
    use _ = torch.no_grad ()
    let b, steps, h = xp.shape[0], xp.shape[1], xp.shape[2] / 4L
    let hi, bi, ti = int h, int b, int steps
    let block = bi * hi
    use xpc = xp.contiguous ()
    let saved =
        { Hidden = torch.empty([| steps + 1L; b; h |])
          Cell = torch.empty([| steps + 1L; b; h |])
          Normalised = torch.empty([| steps; b; 4L * h |])
          Rstd = torch.empty([| steps; b |])
          Gates = torch.empty([| steps; 4L; b; h |]) }
    let hidden = saved.Hidden.unbind 0L
    let out = torch.empty([| b; steps; h |])
    let outs = floats out
    let normalised = saved.Normalised.unbind 0L
    // f, i and o of each step: one sigmoid over the three blocks
    let sigmoidGates = [| for t in 0L .. steps - 1L -> saved.Gates.select(0L, t).narrow(0L, 0L, 3L) |]
    let wh = w.Recurrent.detach ()
    let gain = floats w.Gain
    let bias = floats w.Bias
    let xs = floats xpc
    let hs = floats saved.Hidden
    let cs = floats saved.Cell
    let ns = floats saved.Normalised
    let rs = floats saved.Rstd
    let gs = floats saved.Gates
    hs.Slice(0, block).Clear()
    cs.Slice(0, block).Clear()
    for t in 0 .. ti - 1 do
        normalised[t].addmm_(hidden[t], wh, 0.0f, 1.0f) |> ignore
        for r in 0 .. bi - 1 do
            let row = t * bi + r
            let n = ns.Slice(row * 4 * hi, 4 * hi)
            rs[row] <- normalise n
            let x = xs.Slice((r * ti + t) * 4 * hi, 4 * hi)
            for gate in 0..3 do
                let pre = gs.Slice((4 * t + gate) * block + r * hi, hi)
                TensorPrimitives.FusedMultiplyAdd(ro (n.Slice(gate * hi, hi)), ro (gain.Slice(gate * hi, hi)), ro (bias.Slice(gate * hi, hi)), pre)
                TensorPrimitives.Add(ro pre, ro (x.Slice(gate * hi, hi)), pre)
        sigmoidGates[t].sigmoid_ () |> ignore
        let f = gs.Slice(4 * t * block, block)
        let i = gs.Slice((4 * t + 1) * block, block)
        let o = gs.Slice((4 * t + 2) * block, block)
        let j = gs.Slice((4 * t + 3) * block, block)
        TensorPrimitives.Max(ro j, 0.0f, j)
        // c_t = f c_{t-1} + i j;  h_t = o c_t
        let c = cs.Slice((t + 1) * block, block)
        TensorPrimitives.Multiply(ro i, ro j, c)
        TensorPrimitives.FusedMultiplyAdd(ro f, ro (cs.Slice(t * block, block)), ro c, c)
        TensorPrimitives.Multiply(ro o, ro c, hs.Slice((t + 1) * block, block))
        toBatchMajor (hs.Slice((t + 1) * block, block)) t ti hi outs
    for t in Seq.concat [ hidden; normalised; sigmoidGates ] do t.Dispose()
    wh.Dispose()
    out, saved

/// Gradients of the inputs of `run` from the outputs' gradient dy [B; T; h]: the gates' input side
/// [B; T; 4h], the recurrent weights [h; 4h], and the layer norm's gain and bias.
let private backward (w: Weights) (saved: Saved) (dy: Tensor) =
    use _ = torch.no_grad ()
    let steps, b, h = saved.Gates.shape[0], saved.Gates.shape[2], saved.Gates.shape[3]
    let hi, bi, ti = int h, int b, int steps
    let block = bi * hi
    use dyc = dy.contiguous ()
    let dxp = torch.empty([| b; steps; 4L * h |])
    // gradients of the recurrent projections, time-major like the saved buffers (one weight matmul)
    use dhp = torch.empty([| steps; b; 4L * h |])
    // dL/dh_t arriving from step t + 1, through the recurrent matmul
    use carry = torch.zeros([| b; h |])
    use whT = w.Recurrent.t().contiguous ()
    let dhpSteps = dhp.unbind 0L
    let gain = floats w.Gain
    let dys = floats dyc
    let dxs = floats dxp
    let dps = floats dhp
    let carried = floats carry
    let hs = floats saved.Hidden
    let cs = floats saved.Cell
    let ns = floats saved.Normalised
    let rs = floats saved.Rstd
    let gs = floats saved.Gates
    let dh = scratch block
    let dc = scratch block
    // dL/dc_t arriving from step t + 1
    let carriedCell = scratch block
    // gradients of f, i, o, j before their activations, laid out as the saved gates
    let dGates = scratch (4 * block)
    let tmp = scratch (3 * block)
    let dGain, dBias = Array.zeroCreate<float32> (4 * hi), Array.zeroCreate<float32> (4 * hi)
    for t in ti - 1 .. -1 .. 0 do
        let f = gs.Slice(4 * t * block, block)
        let i = gs.Slice((4 * t + 1) * block, block)
        let o = gs.Slice((4 * t + 2) * block, block)
        let j = gs.Slice((4 * t + 3) * block, block)
        let c = cs.Slice((t + 1) * block, block)
        addBatchMajor dys t ti hi carried dh
        // h_t = o c_t
        TensorPrimitives.Multiply(ro dh, ro c, dGates.Slice(2 * block, block))
        TensorPrimitives.FusedMultiplyAdd(ro dh, ro o, ro carriedCell, dc)
        // c_t = f c_{t-1} + i j
        TensorPrimitives.Multiply(ro dc, ro (cs.Slice(t * block, block)), dGates.Slice(0, block))
        TensorPrimitives.Multiply(ro dc, ro j, dGates.Slice(block, block))
        TensorPrimitives.Multiply(ro dc, ro i, dh)
        reluBackward j dh (dGates.Slice(3 * block, block))
        TensorPrimitives.Multiply(ro dc, ro f, carriedCell)
        // through the sigmoids of f, i and o: σ' = σ (1 − σ)
        let fio = gs.Slice(4 * t * block, 3 * block)
        TensorPrimitives.Multiply(ro fio, ro fio, tmp)
        TensorPrimitives.Subtract(ro fio, ro tmp, tmp)
        let dFio = dGates.Slice(0, 3 * block)
        TensorPrimitives.Multiply(ro dFio, ro tmp, dFio)
        for r in 0 .. bi - 1 do
            let row = t * bi + r
            let dx = dxs.Slice((r * ti + t) * 4 * hi, 4 * hi)
            for k in 0..3 do
                dGates.Slice(k * block + r * hi, hi).CopyTo(dx.Slice(k * hi, hi))
            normaliseBackward dx (ns.Slice(row * 4 * hi, 4 * hi)) gain rs[row] (dps.Slice(row * 4 * hi, 4 * hi)) (dGain.AsSpan()) (dBias.AsSpan())
        carry.addmm_(dhpSteps[t], whT, 0.0f, 1.0f) |> ignore
    for t in dhpSteps do t.Dispose()
    dxp, recurrentWeightGradient saved.Hidden dhp, torch.tensor dGain, torch.tensor dBias

let private free (s: Saved) =
    for t in [ s.Hidden; s.Cell; s.Normalised; s.Rstd; s.Gates ] do t.Dispose()

/// The LSTM from a zero state over the input side of its gates, xp [B; T; 4h] → outputs h [B; T; h],
/// differentiable in the input and the weights when autograd records.
let sequence (w: Weights) (xp: Tensor) =
    Fused.apply
        { Forward =
            fun ts ->
                let w = { Recurrent = ts[1]; Gain = ts[2]; Bias = ts[3] }
                let outputs, saved = run w ts[0]
                // the caller may free its handle of the weights before the backward pass
                outputs, ({ w with Recurrent = w.Recurrent.detach () }, saved)
          Backward =
            fun (w, saved) dy ->
                let dxp, dw, dGain, dBias = backward w saved dy
                [ dxp; dw; dGain; dBias ]
          Free =
            fun (w, saved) ->
                free saved
                w.Recurrent.Dispose() }
        [ xp; w.Recurrent; w.Gain; w.Bias ]
