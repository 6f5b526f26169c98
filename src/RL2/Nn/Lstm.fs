/// Layer-normalised LSTM with forget bias (SPEC §3); state = concat(h, c).
module RL2.Nn.Lstm

open TorchSharp
open RL2

let layer (gen: Generator) (forgetBias: float32) (inWidth: int) (h: int) : Layer =
    let ps = new ParamStore("lstm")
    let wx = ps.Parameter("w_x", Init.xavierNormal gen inWidth (4 * h))
    let wh = ps.Parameter("w_h", Init.xavierNormal gen h (4 * h))
    let lnX = Layer.layerNormIn ps "ln_x" (4 * h)
    let gH, bH = Layer.layerNormParams ps "ln_h" (4 * h)
    let lnH = Layer.layerNormOp (4 * h) gH bH
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

    // Sequence mode (training) runs the same equations fused, with a hand-derived backward.
    let sequence (x: Tensor) =
        // x: [B; T; I] → [B; T; h]
        use xp = project x
        LstmKernel.sequence { Recurrent = wh; Gain = gH; Bias = bH } xp

    { Layer.recurrent ps inWidth h (fun b -> [ torch.zeros([| int64 b; 2L * h64 |]) ]) project prepare with
        Sequence = sequence }
