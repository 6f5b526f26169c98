/// Layer-normalised LSTM with forget bias (SPEC §3); state = concat(h, c).
module RL2.Nn.Lstm

open System.Collections.Generic
open TorchSharp
open RL2

let private lnEps = 1e-8

/// The recurrence over a whole sequence with a hand-derived backward pass, for the reasons given at
/// `Gru`'s: the backward loop keeps only what depends on the carried gradients; weight and layer-norm
/// gradients of all steps are single large operations after it.
///
/// Inputs: xp [B; T; 4h] (projected inputs, forget bias folded in), wh [h; 4h], the recurrent layer
/// norm's gain and bias [4h]. Output: hidden states [B; T; h] from a zero initial state.
type private Recurrence() =
    inherit torch.autograd.MultiTensorFunction<Recurrence>()

    override _.Name = "ln_lstm_recurrence"

    override _.forward(ctx, vars) =
        let xp, wh, gain, bias = vars[0] :?> Tensor, vars[1] :?> Tensor, vars[2] :?> Tensor, vars[3] :?> Tensor
        let h = wh.shape[0]
        let b, steps = xp.shape[0], int xp.shape[1]
        let xs = xp.unbind 1L
        let hs, cs, hws, gates, js = List<Tensor>(), List<Tensor>(), List<Tensor>(), List<Tensor>(), List<Tensor>()
        let mutable hPrev = torch.zeros([| b; h |])
        let mutable cPrev = torch.zeros([| b; h |])
        for t in 0 .. steps - 1 do
            let hw = hPrev.matmul wh // [B; 4h]
            use fioj = torch.nn.functional.layer_norm(hw, [| 4L * h |], gain, bias, lnEps).add_ xs[t]
            let g = fioj.narrow(-1L, 0L, 3L * h).sigmoid () // f, i, o
            let j = fioj.narrow(-1L, 3L * h, h).relu ()
            let c = torch.addcmul(g.narrow(-1L, 0L, h).mul cPrev, g.narrow(-1L, h, h), j, 1.0f)
            hs.Add hPrev
            cs.Add cPrev
            hws.Add hw
            gates.Add g
            js.Add j
            hPrev <- g.narrow(-1L, 2L * h, h).mul c
            cPrev <- c
        hs.Add hPrev
        cs.Add cPrev
        let stack (ts: List<Tensor>) = torch.stack(ts, 1L)
        let allH = stack hs // [B; T + 1; h]: h_0 … h_T
        ctx.save_for_backward(List [ allH; stack cs; stack hws; stack gates; stack js; wh; gain ])
        for list in [ hs; cs; hws; gates; js ] do
            for t in list do t.Dispose()
        List [ allH.narrow(1L, 1L, int64 steps).contiguous () ]

    override _.backward(ctx, grads) =
        let saved = ctx.get_saved_variables ()
        let allH, allC, hw, gates, j, wh, gain = saved[0], saved[1], saved[2], saved[3], saved[4], saved[5], saved[6]
        let h = wh.shape[0]
        let steps = int hw.shape[1]
        let hPrev, cPrev, c = allH.narrow(1L, 0L, int64 steps), allC.narrow(1L, 0L, int64 steps), allC.narrow(1L, 1L, int64 steps)
        // Everything that does not depend on the carried gradients, for all steps at once.
        let mean = hw.mean([| -1L |], true)
        let centred = hw.sub mean
        let rstd = centred.square().mean([| -1L |], true).add_(lnEps.ToScalar()).rsqrt_ ()
        let xhat = centred.mul rstd
        let f, i, o = gates.narrow(-1L, 0L, h), gates.narrow(-1L, h, h), gates.narrow(-1L, 2L * h, h)
        // d(pre-activation)/d(activation) of f, i, o (sigmoid) and j (relu), [B; T; 4h]
        let slope = torch.cat([| gates.sub(gates.square ()); j.gt((0.0f).ToScalar()).to_type j.dtype |], -1L)
        let uFactor = slope.mul gain
        let whT = wh.t().contiguous ()
        let at (x: Tensor) = x.unbind 1L
        let dY, fT, iT, oT, jT, cT, cPrevT = at grads[0], at f, at i, at o, at j, at c, at cPrev
        let uT, xhatT, rstdT = at uFactor, at xhat, at rstd
        let es, dhws = Array.zeroCreate steps, Array.zeroCreate steps
        let mutable carryH: Tensor = null
        let mutable carryC: Tensor = null
        for t in steps - 1 .. -1 .. 0 do
            let dh = if isNull carryH then dY[t] else dY[t].add carryH
            let dc = if isNull carryC then dh.mul oT[t] else torch.addcmul(carryC, dh, oT[t], 1.0f)
            let e = torch.cat([| dc.mul cPrevT[t]; dc.mul jT[t]; dh.mul cT[t]; dc.mul iT[t] |], -1L) // d/d(f, i, o, j)
            // d/dx of LN(x) = x̂ g + b given u = dy ⊙ g: rstd (u − mean u − x̂ mean(u x̂)).
            let u = e.mul uT[t]
            let m1 = u.mean([| -1L |], true)
            let m2 = u.mul(xhatT[t]).mean([| -1L |], true)
            let dhw = u.sub(m1).addcmul_(xhatT[t], m2, -1.0f).mul_ rstdT[t]
            carryH <- dhw.matmul whT
            carryC <- dc.mul fT[t]
            es[t] <- e
            dhws[t] <- dhw
        let dPre = torch.stack(es, 1L).mul_ slope // [B; T; 4h]
        let dHw = torch.stack(dhws, 1L).reshape(-1L, 4L * h)
        let sumRows (x: Tensor) = x.reshape(-1L, x.shape[2]).sum(0L)
        List [ dPre; hPrev.reshape(-1L, h).t().matmul dHw; sumRows (dPre.mul xhat); sumRows dPre ]

let layer (gen: Generator) (forgetBias: float32) (inWidth: int) (h: int) : Layer =
    let ps = new ParamStore("lstm")
    let wx = ps.Parameter("w_x", Init.xavierNormal gen inWidth (4 * h))
    let wh = ps.Parameter("w_h", Init.xavierNormal gen h (4 * h))
    let lnX = Layer.layerNormIn ps "ln_x" (4 * h)
    let lnH, gH, bH = Layer.layerNormParams ps "ln_h" (4 * h)
    let h64 = int64 h
    // f = sigmoid(· + forget_bias): the constant is added to the input side once per sequence.
    let fShift = torch.cat([| torch.full([| h64 |], forgetBias.ToScalar()); torch.zeros([| 3L * h64 |]) |], 0L)

    let project (x: Tensor) =
        use xw = x.matmul wx
        use n = lnX xw
        n.add fShift

    let prepare () =
        fun (xp: Tensor) (state: State) ->
            let s = List.head state
            let hPrev, cPrev = s.narrow(-1L, 0L, h64), s.narrow(-1L, h64, h64)
            use hw = hPrev.matmul wh
            use nh = lnH hw
            use fioj = xp.add nh
            use gates = torch.sigmoid(fioj.narrow(-1L, 0L, 3L * h64))
            use f = gates.narrow(-1L, 0L, h64)
            use i = gates.narrow(-1L, h64, h64)
            use o = gates.narrow(-1L, 2L * h64, h64)
            use j = fioj.narrow(-1L, 3L * h64, h64).relu()
            use fc = f.mul cPrev
            let c = torch.addcmul(fc, i, j, 1.0f)
            let hNext = o.mul c
            hPrev.Dispose()
            cPrev.Dispose()
            hNext, [ torch.cat([| hNext; c |], -1L) ]

    let cell = Layer.recurrent ps inWidth h (fun b -> [ torch.zeros([| int64 b; 2L * h64 |]) ]) project prepare
    { cell with
        // x: [B; T; I] → [B; T; h]; the same arithmetic as the step cell, differentiated by hand.
        Sequence =
            fun x ->
                use xp = project x
                Recurrence.apply(xp, wh, gH, bH)[0] }
