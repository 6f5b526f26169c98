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
    let gXzr, bXzr = Layer.layerNormParams ps "ln_xzr" (2 * h)
    let gHzr, bHzr = Layer.layerNormParams ps "ln_hzr" (2 * h)
    let lnHzr = Layer.layerNormOp (2 * h) gHzr bHzr
    let lnXh = Layer.layerNormIn ps "ln_xh" h
    let gHh, bHh = Layer.layerNormParams ps "ln_hh" h
    let lnHh = Layer.layerNormOp h gHh bHh
    // z = sigmoid(· - forget_bias): the constant is folded into the input side's layer-norm bias.
    let zrShift = torch.cat([| torch.full([| int64 h |], (-forgetBias).ToScalar()); torch.zeros([| int64 h |]) |], 0L)
    let h64 = int64 h

    /// The input side of the gates for all steps at once: x [..; I] → LN(W_xzr x) - forget bias [..; 2h]
    /// and LN(W_xh x) [..; h].
    let projectParts (x: Tensor) =
        use xzr = x.matmul wxzr
        use shifted = bXzr.add zrShift
        use xh = x.matmul wxh
        Layer.layerNormOp (2 * h) gXzr shifted xzr, lnXh xh

    let project (x: Tensor) =
        // x: [..; I] → [..; 3h]
        let zr, hx = projectParts x
        use zr = zr
        use hx = hx
        torch.cat([| zr; hx |], -1L)

    // [h; 3h]: one recurrent matmul per step
    let fusedRecurrent () = torch.cat([| whzr :> Tensor; whh |], 1L)

    let prepare () =
        let wh = fusedRecurrent ()
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

    // Sequence mode (training) runs the same equations fused, with a hand-derived backward.
    let sequence (x: Tensor) =
        // x: [B; T; I] → [B; T; h]
        let zr, hx = projectParts x
        use zr = zr
        use hx = hx
        use wh = fusedRecurrent ()
        GruKernel.sequence { Recurrent = wh; GainZr = gHzr; BiasZr = bHzr; GainH = gHh; BiasH = bHh } zr hx

    { Layer.recurrent ps inWidth h (fun b -> [ torch.zeros([| int64 b; h64 |]) ]) project prepare with
        Sequence = sequence }
