/// Layer-normalised GRU, reset-after, forget bias (SPEC §3).
module RL2.Nn.Gru

open System.Collections.Generic
open TorchSharp
open RL2

let private lnEps = 1e-8

/// The recurrence over a whole sequence with a hand-derived backward pass. Autograd through T small
/// steps records ~15 nodes per step and, in backward, scatters every `narrow` into a full-size zero
/// gradient and takes a thin weight-gradient matmul per step; here the backward loop keeps only what
/// depends on the carried gradient, and the weight and layer-norm gradients of all steps are single
/// large operations after it.
///
/// Inputs: xp [B; T; 3h] (projected inputs, forget bias folded in), wh [h; 3h], the recurrent layer
/// norms' gains and biases (zr: 2h, h: h). Output: hidden states [B; T; h] from a zero initial state.
type private Recurrence() =
    inherit torch.autograd.MultiTensorFunction<Recurrence>()

    override _.Name = "ln_gru_recurrence"

    override _.forward(ctx, vars) =
        let xp, wh, gZr, bZr, gH, bH =
            vars[0] :?> Tensor, vars[1] :?> Tensor, vars[2] :?> Tensor, vars[3] :?> Tensor, vars[4] :?> Tensor, vars[5] :?> Tensor
        let h = wh.shape[0]
        let b, steps = xp.shape[0], int xp.shape[1]
        let xs = xp.unbind 1L
        let hs, hps, zrs, nhs, hcs = List<Tensor>(), List<Tensor>(), List<Tensor>(), List<Tensor>(), List<Tensor>()
        let mutable hPrev = torch.zeros([| b; h |])
        for t in 0 .. steps - 1 do
            let hp = hPrev.matmul wh // [B; 3h]
            use nZr = torch.nn.functional.layer_norm(hp.narrow(-1L, 0L, 2L * h), [| 2L * h |], gZr, bZr, lnEps)
            let nh = torch.nn.functional.layer_norm(hp.narrow(-1L, 2L * h, h), [| h |], gH, bH, lnEps)
            let zr = xs[t].narrow(-1L, 0L, 2L * h).add(nZr).sigmoid_()
            let hc = torch.addcmul(xs[t].narrow(-1L, 2L * h, h), zr.narrow(-1L, h, h), nh, 1.0f).relu_()
            let hNext = hPrev.lerp(hc, zr.narrow(-1L, 0L, h))
            hs.Add hPrev
            hps.Add hp
            zrs.Add zr
            nhs.Add nh
            hcs.Add hc
            hPrev <- hNext
        hs.Add hPrev
        let stack (ts: List<Tensor>) = torch.stack(ts, 1L)
        let all = stack hs // [B; T + 1; h]: h_0 … h_T
        ctx.save_for_backward(List [ all; stack hps; stack zrs; stack nhs; stack hcs; wh; gZr; gH ])
        for list in [ hs; hps; zrs; nhs; hcs ] do
            for t in list do t.Dispose()
        List [ all.narrow(1L, 1L, int64 steps).contiguous () ]

    override _.backward(ctx, grads) =
        let saved = ctx.get_saved_variables ()
        let all, hp, zr, nh, hc, wh, gZr, gH = saved[0], saved[1], saved[2], saved[3], saved[4], saved[5], saved[6], saved[7]
        let h = wh.shape[0]
        let b, steps = hp.shape[0], int hp.shape[1]
        let hPrev = all.narrow(1L, 0L, int64 steps) // [B; T; h]
        // Everything that does not depend on the carried gradient, for all steps at once.
        let normalised (x: Tensor) =
            let mean = x.mean([| -1L |], true)
            let centred = x.sub mean
            let rstd = centred.square().mean([| -1L |], true).add_(lnEps.ToScalar()).rsqrt_()
            centred.mul(rstd: Tensor), rstd
        let xhatZr, rstdZr = normalised (hp.narrow(-1L, 0L, 2L * h))
        let xhatH, rstdH = normalised (hp.narrow(-1L, 2L * h, h))
        let z, r = zr.narrow(-1L, 0L, h), zr.narrow(-1L, h, h)
        let sigmoidSlope = zr.sub(zr.square ())
        let uZrFactor = sigmoidSlope.mul gZr // d(pre-sigmoid)/d(LN output) folded with the gain
        let uHFactor = r.mul gH
        let mask = hc.gt((0.0f).ToScalar()).to_type hc.dtype
        let diff = hc.sub hPrev
        let whT = wh.t().contiguous ()
        let at (x: Tensor) = x.unbind 1L
        let dY, zT, diffT, maskT, nhT = at grads[0], at z, at diff, at mask, at nh
        let uZrT, xhatZrT, rstdZrT, uHT, xhatHT, rstdHT = at uZrFactor, at xhatZr, at rstdZr, at uHFactor, at xhatH, at rstdH
        let es, dpres, dhps = Array.zeroCreate steps, Array.zeroCreate steps, Array.zeroCreate steps
        // d/dx of LN(x) = x̂ g + b given u = dy ⊙ g: rstd (u − mean u − x̂ mean(u x̂)).
        let lnBackward (u: Tensor) (xhat: Tensor) (rstd: Tensor) =
            let m1 = u.mean([| -1L |], true)
            let m2 = u.mul(xhat).mean([| -1L |], true)
            u.sub(m1).addcmul_(xhat, m2, -1.0f).mul_ rstd
        let mutable carry: Tensor = null
        for t in steps - 1 .. -1 .. 0 do
            let dh = if isNull carry then dY[t] else dY[t].add carry
            let dhc = dh.mul zT[t]
            let dz = dh.mul diffT[t]
            let dpre = dhc.mul maskT[t]
            let dr = dpre.mul nhT[t]
            let e = torch.cat([| dz; dr |], -1L) // d(loss)/d(z, r) [B; 2h]
            let dZr = lnBackward (e.mul uZrT[t]) xhatZrT[t] rstdZrT[t]
            let dH = lnBackward (dpre.mul uHT[t]) xhatHT[t] rstdHT[t]
            let dhp = torch.cat([| dZr; dH |], -1L)
            carry <- torch.addmm(dh.sub dhc, dhp, whT, 1.0f, 1.0f)
            es[t] <- e
            dpres[t] <- dpre
            dhps[t] <- dhp
        let dPreSigmoid = torch.stack(es, 1L).mul_ sigmoidSlope // [B; T; 2h]
        let dPre = torch.stack(dpres, 1L) // [B; T; h]
        let dNh = dPre.mul r
        let dHp = torch.stack(dhps, 1L).reshape(-1L, 3L * h)
        let sumRows (x: Tensor) = x.reshape(-1L, x.shape[2]).sum(0L)
        List
            [ torch.cat([| dPreSigmoid; dPre |], -1L)
              hPrev.reshape(-1L, h).t().matmul dHp
              sumRows (dPreSigmoid.mul xhatZr)
              sumRows dPreSigmoid
              sumRows (dNh.mul xhatH)
              sumRows dNh ]

/// GRU with hidden width h reading inputs of width inWidth; state [B; h], output h.
let layer (gen: Generator) (forgetBias: float32) (inWidth: int) (h: int) : Layer =
    let ps = new ParamStore("gru")
    let wxzr = ps.Parameter("w_xzr", Init.xavierNormal gen inWidth (2 * h))
    let wxh = ps.Parameter("w_xh", Init.xavierNormal gen inWidth h)
    let whzr = ps.Parameter("w_hzr", Init.xavierNormal gen h (2 * h))
    let whh = ps.Parameter("w_hh", Init.orthogonal gen h h)
    let lnXzr = Layer.layerNormIn ps "ln_xzr" (2 * h)
    let lnHzr, gHzr, bHzr = Layer.layerNormParams ps "ln_hzr" (2 * h)
    let lnXh = Layer.layerNormIn ps "ln_xh" h
    let lnHh, gHh, bHh = Layer.layerNormParams ps "ln_hh" h
    // z = sigmoid(· - forget_bias): the constant is added to the input side once per sequence.
    let zrShift = torch.cat([| torch.full([| int64 h |], (-forgetBias).ToScalar()); torch.zeros([| int64 h |]) |], 0L)
    let h64 = int64 h

    let project (x: Tensor) =
        // x: [..; I] → [..; 3h] = [LN(W_xzr x) - bias | LN(W_xh x)]
        use xzr = x.matmul wxzr
        use nzr = lnXzr xzr
        use xh = x.matmul wxh
        use nh = lnXh xh
        use shifted = nzr.add zrShift
        torch.cat([| shifted; nh |], -1L)

    let fusedWeights () = torch.cat([| whzr :> Tensor; whh |], 1L) // [h; 3h]: one matmul per step

    let prepare () =
        let wh = fusedWeights ()
        fun (xp: Tensor) (state: State) ->
            let hPrev = List.head state
            use hp = hPrev.matmul wh
            use hzr = lnHzr (hp.narrow(-1L, 0L, 2L * h64))
            use hh = lnHh (hp.narrow(-1L, 2L * h64, h64))
            use zr = torch.sigmoid(xp.narrow(-1L, 0L, 2L * h64).add hzr)
            use z = zr.narrow(-1L, 0L, h64)
            use r = zr.narrow(-1L, h64, h64)
            use pre = torch.addcmul(xp.narrow(-1L, 2L * h64, h64), r, hh, 1.0f)
            use hCand = pre.relu ()
            let hNext = hPrev.lerp(hCand, z)
            hNext, [ hNext ]

    let cell = Layer.recurrent ps inWidth h (fun b -> [ torch.zeros([| int64 b; h64 |]) ]) project prepare
    { cell with
        // x: [B; T; I] → [B; T; h]; the same arithmetic as the step cell, differentiated by hand.
        Sequence =
            fun x ->
                use xp = project x
                use wh = fusedWeights ()
                Recurrence.apply(xp, wh, gHzr, bHzr, gHh, bHh)[0] }
