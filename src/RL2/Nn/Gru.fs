/// Layer-normalised GRU, reset-after, forget bias (SPEC §3).
module RL2.Nn.Gru

open TorchSharp
open RL2

/// GRU with hidden width h reading inputs of width inWidth; state [B; h], output h.
let layer (gen: Generator) (forgetBias: float32) (inWidth: int) (h: int) : Layer =
    let ps = new ParamStore("gru")
    let wxzr = ps.Parameter("w_xzr", Init.xavierNormal gen inWidth (2 * h))
    let wxh = ps.Parameter("w_xh", Init.xavierNormal gen inWidth h)
    let whzr = ps.Parameter("w_hzr", Init.xavierNormal gen h (2 * h))
    let whh = ps.Parameter("w_hh", Init.orthogonal gen h h)
    let lnXzr = Layer.layerNormIn ps "ln_xzr" (2 * h)
    let lnHzr = Layer.layerNormIn ps "ln_hzr" (2 * h)
    let lnXh = Layer.layerNormIn ps "ln_xh" h
    let lnHh = Layer.layerNormIn ps "ln_hh" h
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

    let prepare () =
        let wh = torch.cat([| whzr :> Tensor; whh |], 1L) // [h; 3h]: one matmul per step
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

    Layer.recurrent ps inWidth h (fun b -> [ torch.zeros([| int64 b; h64 |]) ]) project prepare
