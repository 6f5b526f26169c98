/// SNAIL (Mishra et al. 2017; SPEC §3): two TC blocks of gated causal dilated convolutions, then
/// single-head causal attention, all dense (each block concatenates its output to its input).
module RL2.Nn.Snail

open TorchSharp
open RL2

/// Dense blocks per TC block: ceil(log2 T).
let blocksFor (contextSize: int) =
    Seq.initInfinite id |> Seq.find (fun l -> (1 <<< l) >= contextSize)

/// Causal conv (kernel 2, dilation d, no bias) to 2F channels → LN → sigmoid(xg) ⊙ tanh(xf): [..; C] → [..; F].
/// Step mode caches the last d inputs, which take the place of the left zero padding.
let gatedConv (gen: Generator) (name: string) (dilation: int) (inWidth: int) (f: int) : Layer =
    let ps = new ParamStore(name)
    // Rows 0…C−1 act on x_{t−d}, rows C…2C−1 on x_t: PyTorch's Conv1d weight [2F; C; 2], transposed.
    // Its default init is Kaiming-uniform (a = √5) with fan-in C·2.
    let w = ps.Parameter("weight", Init.kaimingUniform gen (2 * inWidth) [| 2L * int64 inWidth; 2L * int64 f |])
    let ln = Layer.layerNormIn ps "ln" (2 * f)
    let c, d, f64 = int64 inWidth, int64 dilation, int64 f

    let gate (conv: Tensor) =
        let normed = ln conv
        torch.sigmoid(normed.narrow(-1L, 0L, f64)).mul(torch.tanh(normed.narrow(-1L, f64, f64)))

    let step (x: Tensor) (state: State) =
        // state: the last d inputs, oldest first, [B; d; C]
        let buffer = state.Head
        let past = buffer.select(1L, 0L)
        let next = torch.cat([| buffer.narrow(1L, 1L, d - 1L); x.unsqueeze 1L |], 1L)
        gate (torch.cat([| past; x |], -1L).matmul w), [ next ]

    let sequence (x: Tensor) =
        // x: [B; T; C]. conv_t = x_{t−d} W_past + x_t W_now with x_{t−d} = 0 before the start, as one
        // matmul of x by [W_past | W_now] whose past half is shifted by d: a matmul of the 2C-wide
        // [x_{t−d}; x_t] copies the input twice first (measured 40% slower at C = 433, T = 100).
        let b, t = x.shape[0], x.shape[1]
        let y = x.matmul(w.view(2L, c, 2L * f64).permute(1L, 0L, 2L).reshape(c, 4L * f64))
        let past, now = y.narrow(-1L, 0L, 2L * f64), y.narrow(-1L, 2L * f64, 2L * f64)
        if d >= t then
            gate now
        else
            gate (now.add(torch.cat([| torch.zeros([| b; d; 2L * f64 |]); past.narrow(1L, 0L, t - d) |], 1L)))

    Layer.stateful ps inWidth f 1 (fun b -> [ torch.zeros([| int64 b; d; int64 inWidth |]) ]) step sequence

/// TC block: dense blocks with dilations 1, 2, 4, …: [..; C] → [..; C + L·F].
let tcBlock (gen: Generator) (name: string) (contextSize: int) (inWidth: int) (f: int) : Layer =
    let blocks =
        [ for l in 0 .. blocksFor contextSize - 1 ->
              let width = inWidth + l * f
              Layer.dense $"dense_{l}" (gatedConv gen $"conv_{l}" (1 <<< l) width f) ]
    Layer.sequence name blocks

/// SNAIL core: [..; I] → [..; I + 2·L·F + F].
let layer (gen: Generator) (contextSize: int) (inWidth: int) (f: int) : Layer =
    let tc1 = tcBlock gen "tc1" contextSize inWidth f
    let tc2 = tcBlock gen "tc2" contextSize tc1.OutputWidth f
    let attention =
        Attention.layer
            gen
            "attention"
            { Heads = 1
              HeadWidth = f
              Pattern = Attention.Full
              Positions = Attention.NoPositions
              Projection = None
              ContextSize = contextSize }
            tc2.OutputWidth
    Layer.sequence "snail" [ tc1; tc2; Layer.dense "features" attention ]
